import { randomBytes, randomUUID } from 'node:crypto';
import { createDataSource, runMigrations } from '@qiwei/persistence';
import { ConfigurationError } from '@qiwei/platform';
import { createTestDatabase, type TestDatabase } from '@qiwei/testing';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { generate } from 'otplib';
import { DataSource } from 'typeorm';
import { SecretCipher } from '../src/crypto/secret-cipher';
import { IDENTITY_ENTITIES, IDENTITY_MIGRATIONS } from '../src/identity.module';
import { AccessTokensService } from '../src/tokens/access-tokens.service';
import { bootIdentity, TEST_KEY_ENCRYPTION_KEY, type IdentityTestApp } from './identity-test-app';

interface SigningKeyRow {
  kid: string;
  status: string;
  private_jwk: JWK | null;
  private_key_sealed: string | null;
  public_jwk: JWK;
}

const newKek = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

/** Signing keys (and every other secret identity keeps) are sealed with the key-encryption key. */
describe('identity: secrets at rest under the key-encryption key', () => {
  let database: TestDatabase;
  let identity: IdentityTestApp | undefined;
  beforeEach(async () => {
    database = await createTestDatabase('identity_kek');
  });
  afterEach(async () => {
    await identity?.close();
    identity = undefined;
    await database.drop();
  });

  const boot = async (kek: string) => {
    await identity?.close();
    identity = await bootIdentity({ IDENTITY_KEY_ENCRYPTION_KEY: kek }, database);
    return identity;
  };
  const signingKeys = (app: IdentityTestApp) =>
    app.app
      .get(DataSource)
      .query<SigningKeyRow[]>('SELECT * FROM signing_keys ORDER BY created_at');
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const currentCorp = (app: IdentityTestApp, token: string) =>
    app.http().get('/v1/corps/current').set(bearer(token));
  const bootError = async (kek: string) => {
    const error = await boot(kek).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems;
  };

  it('stores the signing key sealed, never as plaintext', async () => {
    const app = await boot(TEST_KEY_ENCRYPTION_KEY);
    const [row] = await signingKeys(app);
    expect(row.private_jwk).toBeNull();
    expect(row.private_key_sealed).toMatch(/^v1\.test\./);
    expect(row.private_key_sealed).not.toContain('"d"');
    const opened = JSON.parse(
      app.app
        .get(SecretCipher)
        .open(row.private_key_sealed ?? '', `signing_key:${row.kid}`)
        .toString(),
    ) as JWK;
    expect(opened).toMatchObject({
      x: row.public_jwk.x,
      y: row.public_jwk.y,
      d: expect.any(String),
    });
  });

  it('seals a plaintext key left by an older version, which goes on signing', async () => {
    // The schema and the row an older identity left: every migration before sealing.
    const older = createDataSource({
      url: database.url,
      applicationName: 'older-identity',
      entities: IDENTITY_ENTITIES,
      migrations: IDENTITY_MIGRATIONS.filter(
        (m) => new m().name < 'SealedSigningKeys1764700000000',
      ),
    });
    await older.initialize();
    const kid = randomUUID();
    try {
      await runMigrations(older);
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const meta = { kid, alg: 'ES256', use: 'sig' };
      await older.query(
        `INSERT INTO signing_keys (kid, private_jwk, public_jwk, status) VALUES ($1, $2, $3, 'active')`,
        [
          kid,
          { ...(await exportJWK(privateKey)), ...meta },
          { ...(await exportJWK(publicKey)), ...meta },
        ],
      );
    } finally {
      await older.destroy();
    }

    const app = await boot(TEST_KEY_ENCRYPTION_KEY);
    const [row] = await signingKeys(app);
    expect(row).toMatchObject({
      kid,
      private_jwk: null,
      private_key_sealed: expect.stringMatching(/^v1\.test\./),
    });
    const corp = await app.createCorp();
    expect(AccessTokensService.keyIdOf(corp.token)).toBe(kid);
    await currentCorp(app, corp.token).expect(200);
  });

  it('rotates: a new key first and the old one listed re-seals every row, then the old key can go', async () => {
    const first = await boot(TEST_KEY_ENCRYPTION_KEY);
    const corp = await first.createCorp();
    const { secret } = (
      await first.http().post('/v1/auth/totp').set(bearer(corp.token)).expect(201)
    ).body as { secret: string };
    const next = newKek('next');

    const rotated = await boot(`${next},${TEST_KEY_ENCRYPTION_KEY}`);
    expect((await signingKeys(rotated)).map((r) => r.private_key_sealed)).toEqual([
      expect.stringMatching(/^v1\.next\./),
    ]);
    const [totp] = await rotated.app
      .get(DataSource)
      .query<{ secret_sealed: string }[]>('SELECT secret_sealed FROM member_totp');
    expect(totp.secret_sealed).toMatch(/^v1\.next\./);
    // Same signing key: tokens issued before the rotation still work.
    await currentCorp(rotated, corp.token).expect(200);

    const withoutOld = await boot(next);
    await currentCorp(withoutOld, corp.token).expect(200);
    // The TOTP secret re-sealed under the new key still checks codes.
    await withoutOld
      .http()
      .post('/v1/auth/totp/activate')
      .set(bearer(corp.token))
      .send({ code: await generate({ secret }) })
      .expect(200);
  });

  it('refuses to start, naming the variable, when the key that sealed the secrets is missing or wrong', async () => {
    await boot(TEST_KEY_ENCRYPTION_KEY);
    expect(await bootError(newKek('other'))).toEqual([
      {
        variable: 'IDENTITY_KEY_ENCRYPTION_KEY',
        message: expect.stringMatching(/sealed with key "test", which is not configured/),
      },
    ]);
    expect(await bootError(newKek('test'))).toEqual([
      {
        variable: 'IDENTITY_KEY_ENCRYPTION_KEY',
        message: expect.stringMatching(/key "test" does not open the secret of signing_key:/),
      },
    ]);
    const missing = await bootIdentity({ IDENTITY_KEY_ENCRYPTION_KEY: '' }, database).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(missing)).toContain('IDENTITY_KEY_ENCRYPTION_KEY: is required but not set');
  });
});
