import { randomBytes } from 'node:crypto';
import { MESSAGING_TOPICS, type TopicDefinition } from '@qiwei/contracts';
import {
  createKafka,
  createProducer,
  encodeEvent,
  ensureTopics,
  type NewEvent,
} from '@qiwei/events';
import { loadConfig } from '@qiwei/platform';
import {
  bootTestApp,
  createTestDatabase,
  startIdentityProcess,
  startServiceProcess,
  eventually,
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
import type { Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { ComplianceModule } from '../../src/compliance.module';
import { complianceConfigSchema, type ComplianceConfig } from '../../src/config';
import { COMPLIANCE_OPENAPI } from '../../src/openapi';

export interface TestCorp {
  corpId: string;
  adminToken: string;
  /**
   * Adds an active member (with these roles, in these departments — default the root —, and
   * for a department admin these scope departments) and signs them in: their access token.
   */
  member(
    userid: string,
    roles?: string[],
    options?: { departments?: number[]; scopes?: number[] },
  ): Promise<string>;
  /** Creates a department under `parentId` and waits until compliance knows it: its id. */
  department(name: string, parentId?: number): Promise<number>;
  identity(method: string, path: string, body?: object): Promise<{ status: number; body: unknown }>;
}

export interface ComplianceTestApp extends TestApp {
  config: ComplianceConfig;
  brokers: string[];
  /** The S3 server the archive, its exports and messaging use. */
  s3: TestS3;
  databaseUrl: string;
  /** Messaging's URL, when booted with it. */
  messagingUrl?: string;
  createCorp(): Promise<TestCorp>;
  /** Publishes events as their owner would (CloudEvents on the topic), in order. */
  publish(topic: TopicDefinition, events: NewEvent[], source?: string): Promise<void>;
  /** Publishes a raw record (for poison tests). */
  publishRaw(
    topic: string,
    record: { key: string; value: string; headers: Record<string, string> },
  ): Promise<void>;
  /** Waits until compliance has archived this many records of the corp. */
  archived(corpId: string, count: number): Promise<void>;
  db(): DataSource;
}

/**
 * Compliance under test with the real identity (and, on request, the real messaging) next to
 * it as built processes on one dev Kafka broker; compliance itself runs in this process.
 */
export async function bootCompliance(
  options: { withMessaging?: boolean; env?: Record<string, string> } = {},
): Promise<ComplianceTestApp> {
  const kafka: TestKafka = await startTestKafka();
  const identityDb: TestDatabase = await createTestDatabase('identity');
  const complianceDb: TestDatabase = await createTestDatabase('compliance');
  const messagingDb: TestDatabase | undefined = options.withMessaging
    ? await createTestDatabase('messaging')
    : undefined;
  // The archive's bucket (media copies, signed heads), exports and messaging's media: one S3 server.
  const s3: TestS3 = await startTestS3();
  const children: ServiceProcess[] = [];
  let app: TestApp | undefined;
  const producerKafka = createKafka({ brokers: kafka.brokers, clientId: 'compliance-test' });
  let producer: Producer | undefined;
  const release = async () => {
    await producer?.disconnect();
    await app?.close();
    for (const child of children) await child.stop();
    await kafka.stop();
    await s3.stop();
    await identityDb.drop();
    await messagingDb?.drop();
    await complianceDb.drop();
  };
  try {
    const admin = producerKafka.admin();
    await admin.connect();
    await ensureTopics(admin, MESSAGING_TOPICS);
    await admin.disconnect();
    const identity = await startIdentityProcess({
      databaseUrl: identityDb.url,
      brokers: kafka.brokers,
      storage: s3?.env,
    });
    children.push(identity);
    const identityUrl = identity.url;
    const platformToken = identity.platformToken;
    let messagingUrl: string | undefined;
    if (messagingDb) {
      const messaging = await startServiceProcess('messaging', {
        DATABASE_URL: messagingDb.url,
        KAFKA_BROKERS: kafka.brokers.join(','),
        IDENTITY_JWKS_URL: `${identityUrl}/.well-known/jwks.json`,
        ...s3.env,
      });
      children.push(messaging);
      messagingUrl = messaging.url;
    }
    const config = loadConfig(complianceConfigSchema, {
      ...Object.fromEntries(Object.entries(testPlatformConfig()).map(([k, v]) => [k, String(v)])),
      DATABASE_URL: complianceDb.url,
      DATABASE_POOL_SIZE: '5',
      KAFKA_BROKERS: kafka.brokers.join(','),
      OUTBOX_POLL_INTERVAL_MS: '100',
      CONSUMER_RETRY_BACKOFF_MS: '20',
      IDENTITY_JWKS_URL: `${identityUrl}/.well-known/jwks.json`,
      COMPLIANCE_SIGNING_KEY: `test:${randomBytes(32).toString('base64')}`,
      ...s3.env,
      MEDIA_COPY_INTERVAL_MS: '100',
      MEDIA_COPY_RETRY_MS: '50',
      ...options.env,
    });
    app = await bootTestApp({
      name: 'compliance',
      appModule: ComplianceModule.register(config),
      config,
      openapi: COMPLIANCE_OPENAPI,
    });
    const booted = app;
    const db = () => booted.app.get(DataSource);
    producer = createProducer(producerKafka);
    await producer.connect();
    const sender = producer;
    const createCorp = corpFactory(
      identityUrl,
      platformToken,
      async (corpId, userid, roles) => {
        const rows = await db().query<{ roles: string[] }[]>(
          `SELECT roles FROM directory_members WHERE corp_id = $1 AND userid = $2 AND status = 'active'`,
          [corpId, userid],
        );
        return rows.length > 0 && roles.every((r) => rows[0].roles.includes(r));
      },
      async (corpId, id) =>
        (
          await db().query<unknown[]>(
            'SELECT 1 FROM directory_departments WHERE corp_id = $1 AND id = $2',
            [corpId, id],
          )
        ).length > 0,
    );
    return {
      ...booted,
      config,
      brokers: kafka.brokers,
      s3,
      databaseUrl: complianceDb.url,
      messagingUrl,
      db,
      async publish(topic, events, source = `/qiwei/${topic.publisher}`) {
        const encoded = events.map((e) => encodeEvent(topic, source, e));
        await sender.send({
          topic: topic.name,
          acks: -1,
          messages: encoded.map((e) => ({ key: e.key, value: e.value, headers: e.headers })),
        });
      },
      async publishRaw(topic, record) {
        await sender.send({ topic, acks: -1, messages: [record] });
      },
      async archived(corpId, count) {
        await eventually(
          async () => {
            const [row] = await db().query<{ n: string }[]>(
              'SELECT count(*) AS n FROM archive_records WHERE corp_id = $1',
              [corpId],
            );
            if (Number(row.n) < count) throw new Error(`${row.n} of ${count} records archived`);
          },
          { timeoutMs: 60_000, intervalMs: 100 },
        );
      },
      createCorp,
      async close() {
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Corps made through identity's API (as its platform operator), with members signed in; `knows`
 * answers whether compliance has seen a member with these roles (its directory projection).
 */
export function corpFactory(
  identityUrl: string,
  platformToken: string,
  knows: (corpId: string, userid: string, roles: string[]) => Promise<boolean>,
  knowsDepartment: (corpId: string, id: number) => Promise<boolean>,
): () => Promise<TestCorp> {
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
  return async () => {
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
    return {
      corpId,
      adminToken: accessToken,
      identity: identityCall,
      async department(name: string, parentId = 1) {
        const created = await identityCall('POST', '/v1/departments', { name, parentId });
        if (created.status !== 201) throw new Error(`department: ${JSON.stringify(created.body)}`);
        const id = (created.body as { id: number }).id;
        await eventually(
          async () => {
            if (!(await knowsDepartment(corpId, id)))
              throw new Error(`compliance does not know department ${id}`);
          },
          { timeoutMs: 30_000, intervalMs: 100 },
        );
        return id;
      },
      async member(
        userid: string,
        roles: string[] = [],
        options: { departments?: number[]; scopes?: number[] } = {},
      ) {
        const added = await identityCall('POST', '/v1/members', {
          userid,
          name: userid,
          departments: (options.departments ?? [1]).map((id) => ({ id })),
        });
        if (added.status !== 201) throw new Error(`member: ${JSON.stringify(added.body)}`);
        if (roles.length) {
          const set = await identityCall('PUT', `/v1/members/${userid}/roles`, {
            roles,
            ...(options.scopes
              ? {
                  scopes: options.scopes.map((departmentId) => ({
                    departmentId,
                    permissions: ['contacts:edit'],
                  })),
                }
              : {}),
          });
          if (set.status !== 200) throw new Error(`roles: ${JSON.stringify(set.body)}`);
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
        const token = ((await session.json()) as { accessToken: string }).accessToken;
        // Compliance knows the member with their roles (and their newest tokensValidAfter).
        await eventually(
          async () => {
            if (!(await knows(corpId, userid, roles)))
              throw new Error(`compliance does not know ${userid} yet`);
          },
          { timeoutMs: 30_000, intervalMs: 100 },
        );
        return token;
      },
    };
  };
}
