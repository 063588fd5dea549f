import { loadConfig } from '@qiwei/platform';
import {
  bootTestApp,
  createTestDatabase,
  startTestKafka,
  testPlatformConfig,
  unique,
  type TestApp,
} from '@qiwei/testing';
import { identityConfigSchema, type IdentityConfig } from '../src/config';
import { IdentityModule } from '../src/identity.module';
import { IDENTITY_OPENAPI } from '../src/openapi';

export const PLATFORM_TOKEN = 'test-platform-token-0123456789abcdef';

export interface CreatedCorp {
  corpId: string;
  token: string;
  adminUserid: string;
}

export interface IdentityTestApp extends TestApp {
  config: IdentityConfig;
  databaseUrl: string;
  brokers: string[];
  /** A fresh corp through the API, with its super admin's token. */
  createCorp(name?: string): Promise<CreatedCorp>;
}

/** Identity on its own fresh database, configured through its real config schema. */
export async function bootIdentity(env: Record<string, string> = {}): Promise<IdentityTestApp> {
  const database = await createTestDatabase('identity');
  const kafka = await startTestKafka();
  const platform = testPlatformConfig();
  const config = loadConfig(identityConfigSchema, {
    ...Object.fromEntries(Object.entries(platform).map(([k, v]) => [k, String(v)])),
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '5',
    QIWEI_PLATFORM_TOKEN: PLATFORM_TOKEN,
    KAFKA_BROKERS: kafka.brokers.join(','),
    OUTBOX_POLL_INTERVAL_MS: '100',
    ...env,
  });
  const app = await bootTestApp({
    name: 'identity',
    appModule: IdentityModule.register(config),
    config,
    openapi: IDENTITY_OPENAPI,
  });
  return {
    ...app,
    config,
    databaseUrl: database.url,
    brokers: kafka.brokers,
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
      await kafka.stop();
      await database.drop();
    },
  };
}
