import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
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
    // A caller's trace continues here even though no span is exported (no collector set): in
    // the logs, and on the events the request writes.
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const corp = await fetch(`http://127.0.0.1:${port}/v1/corps`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${PLATFORM_TOKEN}`,
        'content-type': 'application/json',
        traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ name: 'Process Test', admin: { userid: 'admin', name: 'Admin' } }),
    });
    expect(corp.status).toBe(201);
    const unauthorised = await fetch(`http://127.0.0.1:${port}/v1/departments/1`);
    expect(unauthorised.status).toBe(401);
    const db = new Client({ connectionString: database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ headers: string }>(
        `SELECT headers FROM event_outbox WHERE headers LIKE '%' || $1 || '%'`,
        [callerTrace],
      );
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await db.end();
    }
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
    const ofCaller = lines.filter((l) => l.trace_id === callerTrace);
    expect(ofCaller.some((l) => l.msg === 'request completed')).toBe(true);
    expect(ofCaller.every((l) => /^[0-9a-f]{16}$/.test(String(l.span_id)))).toBe(true);
    // Every other request started a trace of its own; probes run without one.
    const traceIds = lines.filter((l) => l.msg === 'request completed').map((l) => l.trace_id);
    expect(new Set(traceIds).size).toBe(traceIds.length);
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
      const callerTrace = '0af7651916cd43dd8448eb211c80319c';
      const traced = await fetch(`http://127.0.0.1:${port}/v1/departments/1`, {
        headers: { traceparent: `00-${callerTrace}-b7ad6b7169203331-01` },
      });
      expect(traced.status).toBe(401);
      // A request that queries PostgreSQL.
      const corp = await fetch(`http://127.0.0.1:${port}/v1/corps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PLATFORM_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Traced Corp', admin: { userid: 'admin', name: 'Admin' } }),
      });
      expect(corp.status).toBe(201);
      proc.child.kill('SIGTERM'); // shutdown flushes the batch of spans
      expect((await proc.exited).code).toBe(0);
      const traces = received.filter((r) => r.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      // The request's server span (its route) and the service name travel in the export.
      const payload = traces.map((t) => t.body).join('');
      expect(payload).toContain('qiwei-identity');
      expect(payload).toContain('/v1/departments/1');
      // The server span continues the caller's trace (ids hex in OTLP/JSON, bytes in protobuf).
      expect(
        payload.includes(callerTrace) ||
          payload.includes(Buffer.from(callerTrace, 'hex').toString('latin1')),
      ).toBe(true);
      // The PostgreSQL instrumentation records the corp's queries.
      expect(payload).toContain('postgresql');
    } finally {
      await new Promise((done) => collector.close(done));
    }
  });
});
