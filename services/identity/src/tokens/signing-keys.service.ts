import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { isUniqueViolation } from '@qiwei/persistence';
import { exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import { DataSource } from 'typeorm';
import { SigningKey } from './signing-key.entity';

export interface ActiveKey {
  kid: string;
  privateKey: KeyLike | Uint8Array;
}

/**
 * Identity's token signing keys. The first start generates an ES256 key pair; replicas
 * starting together agree on one (a unique index allows a single active key).
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private active?: ActiveKey;
  private publicKeys = new Map<string, KeyLike | Uint8Array>();

  constructor(private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
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

  private async load(): Promise<void> {
    const keys = await this.dataSource.getRepository(SigningKey).find();
    for (const key of keys) {
      if (!this.publicKeys.has(key.kid)) {
        this.publicKeys.set(key.kid, await importJWK(key.publicJwk, 'ES256'));
      }
      if (key.status === 'active' && this.active?.kid !== key.kid) {
        this.active = { kid: key.kid, privateKey: await importJWK(key.privateJwk, 'ES256') };
      }
    }
  }

  private async createActiveKey(): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    const meta = { kid, alg: 'ES256', use: 'sig' };
    try {
      await this.dataSource.getRepository(SigningKey).insert({
        kid,
        status: 'active',
        privateJwk: { ...(await exportJWK(privateKey)), ...meta },
        publicJwk: { ...(await exportJWK(publicKey)), ...meta },
      });
    } catch (error) {
      // Another replica created the active key first: use theirs.
      if (!isUniqueViolation(error)) throw error;
    }
  }
}
