import { loadConfig } from '@qiwei/platform';
import {
  bootTestApp,
  createTestDatabase,
  startTestKafka,
  startTestS3,
  testPlatformConfig,
  unique,
  type TestApp,
  type TestDatabase,
  type TestS3,
} from '@qiwei/testing';
import { identityConfigSchema, type IdentityConfig } from '../src/config';
import { IdentityModule } from '../src/identity.module';
import { IDENTITY_OPENAPI } from '../src/openapi';

export const PLATFORM_TOKEN = 'test-platform-token-0123456789abcdef';
/** The tests' key-encryption key (`IDENTITY_KEY_ENCRYPTION_KEY`). */
export const TEST_KEY_ENCRYPTION_KEY = `test:${Buffer.alloc(32, 7).toString('base64')}`;

export interface CreatedCorp {
  corpId: string;
  token: string;
  adminUserid: string;
}

export interface IdentityTestApp extends TestApp {
  config: IdentityConfig;
  databaseUrl: string;
  brokers: string[];
  /** Identity's object storage (WeCom's temporary media: the batch jobs' CSVs). */
  s3: TestS3;
  /** A fresh corp through the API, with its super admin's token. */
  createCorp(name?: string): Promise<CreatedCorp>;
}

/**
 * Identity on its own fresh database (or on `database`, which the caller then drops),
 * configured through its real config schema.
 */
export async function bootIdentity(
  env: Record<string, string> = {},
  existing?: TestDatabase,
): Promise<IdentityTestApp> {
  const database = existing ?? (await createTestDatabase('identity'));
  const kafka = await startTestKafka();
  const s3 = await startTestS3();
  const release = async () => {
    await kafka.stop();
    await s3.stop();
    if (!existing) await database.drop();
  };
  let app: TestApp;
  let config: IdentityConfig;
  try {
    config = loadConfig(identityConfigSchema, {
      ...Object.fromEntries(Object.entries(testPlatformConfig()).map(([k, v]) => [k, String(v)])),
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '5',
      QIWEI_PLATFORM_TOKEN: PLATFORM_TOKEN,
      IDENTITY_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      KAFKA_BROKERS: kafka.brokers.join(','),
      OUTBOX_POLL_INTERVAL_MS: '100',
      ...s3.env,
      ...env,
    });
    app = await bootTestApp({
      name: 'identity',
      appModule: IdentityModule.register(config),
      config,
      openapi: IDENTITY_OPENAPI,
    });
  } catch (error) {
    await release(); // a refused start (e.g. a bad configuration) leaves nothing running
    throw error;
  }
  return {
    ...app,
    config,
    databaseUrl: database.url,
    brokers: kafka.brokers,
    s3,
    async createCorp(name = unique('corp')) {
      const adminUserid = 'admin';
      const response = await app
        .http()
        .post('/v1/corps')
        .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
        .send({ name, admin: { userid: adminUserid, name: '管理员' } })
        .expect(201);
      return { corpId: response.body.corp.corpId, token: response.body.accessToken, adminUserid };
    },
    async close() {
      await app.close();
      await release();
    },
  };
}
