import { randomBytes } from 'node:crypto';
import { loadConfig } from '@qiwei/platform';
import {
  bootTestApp,
  createTestDatabase,
  eventually,
  startIdentityProcess,
  startTestKafka,
  startTestS3,
  testPlatformConfig,
  unique,
  type ServiceProcess,
  type TestApp,
  type TestDatabase,
  type TestKafka,
  type TestS3,
} from '@qiwei/testing';
import { createKafka } from '@qiwei/events';
import { DataSource } from 'typeorm';
import { messagingConfigSchema, type MessagingConfig } from '../src/config';
import { Directory } from '../src/directory/directory';
import { MessagingModule } from '../src/messaging.module';
import { MESSAGING_OPENAPI } from '../src/openapi';

export interface TestCorp {
  corpId: string;
  adminToken: string;
  /**
   * Adds an active member (to the root department unless said) and signs them in: their access
   * token. `leader`: they lead that department; `adminOf`: department admin of these subtrees.
   */
  member(
    userid: string,
    departmentId?: number,
    options?: { leader?: boolean; adminOf?: number[] },
  ): Promise<string>;
  /** Creates an app in identity and exchanges its secret: its agentid, secret and token. */
  app(
    range: { departmentIds: number[]; userids: string[]; tagIds: number[] },
    name?: string,
  ): Promise<{ agentid: number; secret: string; token: string }>;
  /** Exchanges an app secret for a fresh token. */
  appToken(secret: string): Promise<string>;
  /** The same through identity's WeCom-compatible /cgi-bin/gettoken. */
  gettoken(secret: string): Promise<string>;
  /** Calls identity's API as the corp's super admin. */
  identity(method: string, path: string, body?: object): Promise<{ status: number; body: unknown }>;
}

export interface MessagingTestApp extends TestApp {
  config: MessagingConfig;
  brokers: string[];
  databaseUrl: string;
  createCorp(): Promise<TestCorp>;
  /** Another messaging instance on the same database and broker (as when scaled out). */
  startInstance(): Promise<TestApp>;
  /** Waits until messaging has learnt these members from identity's events. */
  knows(corpId: string, userids: string[], status?: string): Promise<void>;
}

/**
 * Messaging under test with the real identity next to it: identity runs as its own process (the
 * built service, as in production) on the same dev Kafka broker, so members, tokens, JWKS and
 * member events all come from the real thing.
 */
export async function bootMessaging(env: Record<string, string> = {}): Promise<MessagingTestApp> {
  const kafka: TestKafka = await startTestKafka();
  const s3: TestS3 = await startTestS3();
  const identityDb: TestDatabase = await createTestDatabase('identity');
  const messagingDb: TestDatabase = await createTestDatabase('messaging');
  let identity: (ServiceProcess & { platformToken: string }) | undefined;
  let app: TestApp | undefined;
  const instances: TestApp[] = [];
  const release = async () => {
    for (const instance of instances) await instance.close();
    await app?.close();
    await identity?.stop();
    await kafka.stop();
    await s3.stop();
    await identityDb.drop();
    await messagingDb.drop();
  };
  try {
    identity = await startIdentityProcess({
      databaseUrl: identityDb.url,
      brokers: kafka.brokers,
      storage: s3.env, // WeCom's temporary media: messaging writes it, identity's batch jobs read it
    });
    const identityUrl = identity.url;
    const platformToken = identity.platformToken;
    const config = loadConfig(messagingConfigSchema, {
      ...Object.fromEntries(Object.entries(testPlatformConfig()).map(([k, v]) => [k, String(v)])),
      DATABASE_URL: messagingDb.url,
      DATABASE_POOL_SIZE: '5',
      KAFKA_BROKERS: kafka.brokers.join(','),
      OUTBOX_POLL_INTERVAL_MS: '100',
      IDENTITY_JWKS_URL: `${identityUrl}/.well-known/jwks.json`,
      ...s3.env,
      ...env,
    });
    app = await bootTestApp({
      name: 'messaging',
      appModule: MessagingModule.register(config),
      config,
      openapi: MESSAGING_OPENAPI,
    });
    const booted = app;
    const call = async (token: string, method: string, path: string, body?: object) => {
      const response = await fetch(`${identityUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
    };
    const knows = async (corpId: string, userids: string[], status = 'active') => {
      await eventually(
        async () => {
          const rows = await booted.app
            .get(DataSource)
            .query<{ userid: string }[]>(
              `SELECT userid FROM directory_members WHERE corp_id = $1 AND userid = ANY($2::text[]) AND status = $3`,
              [corpId, userids, status],
            );
          if (rows.length !== userids.length)
            throw new Error(`messaging knows ${rows.length} of ${userids.length} as ${status}`);
          // …and every instance's standing cache has heard of it (LISTEN/NOTIFY, just after).
          for (const instance of [booted, ...instances])
            for (const userid of userids) {
              const standing = await instance.app.get(Directory).standing(corpId, userid);
              if (standing?.status !== status)
                throw new Error(`an instance still has ${userid} as ${standing?.status}`);
            }
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    };
    return {
      ...booted,
      config,
      brokers: kafka.brokers,
      databaseUrl: messagingDb.url,
      knows,
      async startInstance() {
        const instance = await bootTestApp({
          name: 'messaging',
          appModule: MessagingModule.register(config),
          config,
          openapi: MESSAGING_OPENAPI,
        });
        instances.push(instance);
        return instance;
      },
      async createCorp() {
        const created = await call(platformToken, 'POST', '/v1/corps', {
          name: unique('corp'),
          admin: { userid: 'admin', name: '管理员' },
        });
        if (created.status !== 201) throw new Error(`corp: ${JSON.stringify(created.body)}`);
        const { corp, accessToken } = created.body as {
          corp: { corpId: string };
          accessToken: string;
        };
        const corpId = corp.corpId;
        const identityCall = (method: string, path: string, body?: object) =>
          call(accessToken, method, path, body);
        const appToken = async (secret: string) => {
          const issued = await fetch(`${identityUrl}/v1/apps/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ corpId, secret }),
          });
          if (!issued.ok) throw new Error(`app token: ${await issued.text()}`);
          return ((await issued.json()) as { accessToken: string }).accessToken;
        };
        return {
          corpId,
          adminToken: accessToken,
          identity: identityCall,
          async app(range, name = unique('app')) {
            const created = await identityCall('POST', '/v1/apps', { name, range });
            if (created.status !== 201) throw new Error(`app: ${JSON.stringify(created.body)}`);
            const { agentid, secret } = created.body as { agentid: number; secret: string };
            return { agentid, secret, token: await appToken(secret) };
          },
          appToken,
          async gettoken(secret: string) {
            const query = new URLSearchParams({ corpid: corpId, corpsecret: secret });
            const issued = await fetch(`${identityUrl}/cgi-bin/gettoken?${query.toString()}`);
            const body = (await issued.json()) as { errcode: number; access_token?: string };
            if (body.errcode !== 0 || !body.access_token)
              throw new Error(`gettoken: ${JSON.stringify(body)}`);
            return body.access_token;
          },
          async member(userid: string, departmentId = 1, options = {}) {
            const added = await identityCall('POST', '/v1/members', {
              userid,
              name: userid,
              departments: [
                options.leader ? { id: departmentId, isLeader: true } : { id: departmentId },
              ],
            });
            if (added.status !== 201) throw new Error(`member: ${JSON.stringify(added.body)}`);
            if (options.adminOf) {
              const roles = await identityCall('PUT', `/v1/members/${userid}/roles`, {
                roles: ['department_admin'],
                scopes: options.adminOf.map((id) => ({
                  departmentId: id,
                  permissions: ['contacts:edit'],
                })),
              });
              if (roles.status !== 200) throw new Error(`roles: ${JSON.stringify(roles.body)}`);
            }
            const password = `pw-${randomBytes(12).toString('hex')}`;
            const set = await identityCall('PUT', `/v1/members/${userid}/password`, { password });
            if (set.status !== 204) throw new Error(`password: ${JSON.stringify(set.body)}`);
            const session = await fetch(`${identityUrl}/v1/auth/sign-in`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ corpId, userid, password }),
            });
            if (!session.ok) throw new Error(`sign-in: ${await session.text()}`);
            await knows(corpId, [userid]);
            return ((await session.json()) as { accessToken: string }).accessToken;
          },
        };
      },
      async close() {
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/** Reads a topic from the beginning and returns the events of one conversation, by type. */
export async function eventsOf(
  brokers: string[],
  topic: string,
  conversationId: string,
  expected: number,
): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const consumer = createKafka({ brokers, clientId: 'messaging-test-reader' }).consumer({
    groupId: `reader-${conversationId}-${Math.random()}`,
  });
  const seen: { type: string; data: Record<string, unknown> }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (String(message.key) === conversationId)
          seen.push({
            type: String(message.headers?.ce_type),
            data: JSON.parse(String(message.value)) as Record<string, unknown>,
          });
      },
    });
    await eventually(
      () => {
        if (seen.length < expected) throw new Error(`${seen.length} of ${expected} events`);
      },
      { timeoutMs: 20_000 },
    );
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
