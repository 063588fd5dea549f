import {
  createTestDatabase,
  distEntry,
  eventually,
  freePort,
  spawnNode,
  type TestDatabase,
} from '@qiwei/testing';
import { PLATFORM_TOKEN } from './identity-test-app';

/** The compiled service as a process: configuration checks at start-up, graceful stop. */
describe('identity: as a process', () => {
  const entry = () => distEntry('services/identity/src/main.js');
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('identity_process');
  });
  afterAll(() => database.drop());

  const baseEnv = (port: number): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    QIWEI_PLATFORM_TOKEN: PLATFORM_TOKEN,
    LOG_LEVEL: 'info',
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
});
