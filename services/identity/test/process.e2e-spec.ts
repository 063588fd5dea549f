import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createTestDatabase,
  distEntry,
  eventually,
  freePort,
  spawnNode,
  startTestKafka,
  startTestS3,
  type TestDatabase,
  type TestKafka,
  type TestS3,
} from '@qiwei/testing';
import { PLATFORM_TOKEN, TEST_KEY_ENCRYPTION_KEY } from './identity-test-app';

/** The compiled service as a process: configuration checks at start-up, graceful stop. */
describe('identity: as a process', () => {
  const entry = () => distEntry('services/identity/src/main.js');
  let database: TestDatabase;
  let kafka: TestKafka;
  let s3: TestS3;
  beforeAll(async () => {
    database = await createTestDatabase('identity_process');
    kafka = await startTestKafka();
    s3 = await startTestS3();
  });
  afterAll(async () => {
    await kafka.stop();
    await s3.stop();
    await database.drop();
  });

  const baseEnv = (port: number): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    QIWEI_PLATFORM_TOKEN: PLATFORM_TOKEN,
    IDENTITY_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    LOG_LEVEL: 'info',
    ...s3.env,
  });

  it('refuses to start without a required variable, naming it', async () => {
    const env = baseEnv(await freePort());
    delete env.DATABASE_URL;
    const proc = spawnNode(entry(), env);
    const { code } = await proc.exited;
    expect(code).toBe(1);
    expect(proc.output()).toContain('DATABASE_URL: is required but not set');
  });

  it('refuses to start with an invalid value, naming the variable', async () => {
    const proc = spawnNode(entry(), {
      ...baseEnv(await freePort()),
      PORT: 'eighty',
      QIWEI_PLATFORM_TOKEN: 'short',
    });
    expect((await proc.exited).code).toBe(1);
    expect(proc.output()).toMatch(/PORT: .*number/i);
    expect(proc.output()).toContain('QIWEI_PLATFORM_TOKEN: must be at least 24 characters');
  });

  it('serves, logs JSON with trace ids, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const proc = spawnNode(entry(), baseEnv(port));
    await eventually(
      async () => expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200),
      {
        timeoutMs: 30_000,
      },
    );
    const corp = await fetch(`http://127.0.0.1:${port}/v1/corps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PLATFORM_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Process Test', admin: { userid: 'admin', name: 'Admin' } }),
    });
    expect(corp.status).toBe(201);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });

    const lines = proc
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const completed = lines.find(
      (l) => l.msg === 'request completed' && typeof l.reqId === 'string' && l.trace_id,
    );
    expect(completed).toBeDefined();
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
    // The platform token never reaches the logs.
    expect(proc.output()).not.toContain(PLATFORM_TOKEN);
  });

  it('refuses to start when the key-encryption key does not open the stored signing key', async () => {
    // The previous test left a signing key sealed with the tests' KEK in this database.
    const proc = spawnNode(entry(), {
      ...baseEnv(await freePort()),
      IDENTITY_KEY_ENCRYPTION_KEY: `test:${Buffer.alloc(32, 9).toString('base64')}`,
    });
    expect((await proc.exited).code).toBe(1);
    expect(proc.output()).toContain(
      'qiwei-identity refuses to start. Invalid configuration: IDENTITY_KEY_ENCRYPTION_KEY: key "test" does not open',
    );
  });

  it('exports its traces to the OTLP endpoint when one is configured', async () => {
    const received: { path: string; body: string }[] = [];
    const collector = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('latin1')));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done));
    const { port: collectorPort } = collector.address() as AddressInfo;
    try {
      const port = await freePort();
      const proc = spawnNode(entry(), {
        ...baseEnv(port),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
      });
      await eventually(
        async () => expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200),
        { timeoutMs: 30_000 },
      );
      expect((await fetch(`http://127.0.0.1:${port}/v1/departments/1`)).status).toBe(401);
      proc.child.kill('SIGTERM'); // shutdown flushes the batch of spans
      expect((await proc.exited).code).toBe(0);
      const traces = received.filter((r) => r.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      // The request's server span (its route) and the service name travel in the export.
      const payload = traces.map((t) => t.body).join('');
      expect(payload).toContain('qiwei-identity');
      expect(payload).toContain('/v1/departments/1');
    } finally {
      await new Promise((done) => collector.close(done));
    }
  });
});
