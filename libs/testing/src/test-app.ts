import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createLogger,
  createServiceApp,
  type PlatformConfig,
  type ServiceAppOptions,
} from '@qiwei/platform';
import request from 'supertest';

export interface TestApp {
  app: NestFastifyApplication;
  /** A supertest client bound to the app's HTTP server. */
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

/** Platform settings for an app under test; `TEST_LOG_LEVEL=debug` shows its logs. */
export function testPlatformConfig(): PlatformConfig {
  return {
    HOST: '127.0.0.1',
    PORT: 0,
    LOG_LEVEL: (process.env.TEST_LOG_LEVEL as PlatformConfig['LOG_LEVEL'] | undefined) ?? 'silent',
    SHUTDOWN_TIMEOUT_MS: 5_000,
    HTTP_BODY_LIMIT_BYTES: 1024 * 1024,
  };
}

/** Boots a service's real Nest application (real database, no mocks) for supertest. */
export async function bootTestApp(options: ServiceAppOptions): Promise<TestApp> {
  const app = await createServiceApp({
    ...options,
    logger:
      options.logger ?? createLogger({ service: options.name, level: options.config.LOG_LEVEL }),
  });
  try {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    await app.close(); // a start that fails (e.g. in onModuleInit) leaves no pool or client open
    throw error;
  }
  return {
    app,
    http: () => request(app.getHttpServer()),
    close: () => app.close(),
  };
}

/**
 * A supertest client of `app` that sends `authorization: Bearer <token>` on every request, for
 * calling an API as one member or app: `bearer(app, token).post('/v1/...', body)`.
 */
export function bearer(app: TestApp, token: string) {
  const auth = <T extends { set(field: string, value: string): T }>(req: T) =>
    req.set('authorization', `Bearer ${token}`);
  return {
    get: (path: string) => auth(app.http().get(path)),
    post: (path: string, body: object = {}) => auth(app.http().post(path).send(body)),
    put: (path: string, body: object = {}) => auth(app.http().put(path).send(body)),
    patch: (path: string, body: object = {}) => auth(app.http().patch(path).send(body)),
    delete: (path: string) => auth(app.http().delete(path)),
  };
}
