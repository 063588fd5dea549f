import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { isUniqueViolation } from '@qiwei/persistence';
import { exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import { DataSource } from 'typeorm';
import { resealStaleSecrets } from '../crypto/reseal-stale-secrets';
import { SecretCipher } from '../crypto/secret-cipher';
import { SigningKey } from './signing-key.entity';

export interface ActiveKey {
  kid: string;
  privateKey: KeyLike | Uint8Array;
}

const contextOf = (kid: string) => `signing_key:${kid}`;

/**
 * Identity's token signing keys. The first start generates an ES256 key pair; replicas
 * starting together agree on one (a unique index allows a single active key). Private halves
 * are stored sealed with the key-encryption key; every start seals plaintext rows left by older
 * versions and re-seals rows sealed with an older key-encryption key.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private active?: ActiveKey;
  private publicKeys = new Map<string, KeyLike | Uint8Array>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sealStoredKeys();
    await this.load();
    if (!this.active) {
      await this.createActiveKey();
      await this.load();
    }
  }

  activeKey(): ActiveKey {
    if (!this.active) throw new Error('No active signing key loaded');
    return this.active;
  }

  /** Public keys by kid (for local verification), loading keys added by other replicas. */
  async publicKey(kid: string): Promise<KeyLike | Uint8Array | undefined> {
    if (!this.publicKeys.has(kid)) await this.load();
    return this.publicKeys.get(kid);
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    const keys = await this.dataSource
      .getRepository(SigningKey)
      .find({ order: { createdAt: 'DESC' } });
    return { keys: keys.map((k) => k.publicJwk) };
  }

  /** Seals plaintext private keys (older versions) and re-seals those under an older KEK. */
  private async sealStoredKeys(): Promise<void> {
    await this.dataSource.transaction(async (em) => {
      const plaintext = await em.query<{ kid: string; private_jwk: JWK }[]>(
        'SELECT kid, private_jwk FROM signing_keys WHERE private_jwk IS NOT NULL FOR UPDATE',
      );
      for (const row of plaintext) {
        await em.query(
          'UPDATE signing_keys SET private_key_sealed = $2, private_jwk = NULL WHERE kid = $1',
          [row.kid, this.seal(row.kid, row.private_jwk)],
        );
      }
    });
    await resealStaleSecrets<{ kid: string }>(this.dataSource, this.cipher, {
      table: 'signing_keys',
      column: 'private_key_sealed',
      keyColumns: ['kid'],
      context: (row) => contextOf(row.kid),
    });
  }

  private async load(): Promise<void> {
    const keys = await this.dataSource.getRepository(SigningKey).find();
    for (const key of keys) {
      if (!this.publicKeys.has(key.kid)) {
        this.publicKeys.set(key.kid, await importJWK(key.publicJwk, 'ES256'));
      }
      if (key.status === 'active' && this.active?.kid !== key.kid) {
        this.active = { kid: key.kid, privateKey: await importJWK(this.privateJwk(key), 'ES256') };
      }
    }
  }

  private seal(kid: string, privateJwk: JWK): string {
    return this.cipher.seal(Buffer.from(JSON.stringify(privateJwk)), contextOf(kid));
  }

  private privateJwk(key: SigningKey): JWK {
    if (key.privateJwk) return key.privateJwk; // an older replica's row, sealed on next start
    const opened = this.cipher.open(key.privateKeySealed ?? '', contextOf(key.kid));
    return JSON.parse(opened.toString('utf8')) as JWK;
  }

  private async createActiveKey(): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    const meta = { kid, alg: 'ES256', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), ...meta };
    try {
      await this.dataSource.getRepository(SigningKey).insert({
        kid,
        status: 'active',
        privateKeySealed: this.seal(kid, privateJwk),
        publicJwk: { ...(await exportJWK(publicKey)), ...meta },
      });
    } catch (error) {
      // Another replica created the active key first: use theirs.
      if (!isUniqueViolation(error)) throw error;
    }
  }
}
