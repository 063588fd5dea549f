import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  distEntry,
  eventually,
  freePort,
  isListening,
  spawnNode,
  type SpawnedProcess,
} from '@qiwei/testing';

/** What `npm start` runs: the whole platform on embedded defaults, and nothing left behind. */
describe('npm start (tools/stack)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let ports: {
    postgres: number;
    identity: number;
    messaging: number;
    compliance: number;
    s3: number;
    kafka: number;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'qiwei-stack-'));
    ports = {
      postgres: await freePort(),
      identity: await freePort(),
      messaging: await freePort(),
      compliance: await freePort(),
      s3: await freePort(),
      kafka: await freePort(),
    };
    env = {
      PATH: process.env.PATH,
      QIWEI_DATA_DIR: dataDir,
      QIWEI_PG_PORT: String(ports.postgres),
      QIWEI_IDENTITY_PORT: String(ports.identity),
      QIWEI_MESSAGING_PORT: String(ports.messaging),
      QIWEI_COMPLIANCE_PORT: String(ports.compliance),
      S3_PORT: String(ports.s3),
      DEV_KAFKA_PORT: String(ports.kafka),
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const start = async (): Promise<SpawnedProcess> => {
    const stack = spawnNode(distEntry('tools/stack/src/main.js'), env);
    const ready = eventually(() => expect(stack.output()).toContain('press Ctrl-C to stop'), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const exitedEarly = stack.exited.then(({ code }) => {
      throw new Error(`the stack exited (code ${code}) before it was ready:\n${stack.output()}`);
    });
    await Promise.race([ready, exitedEarly]);
    exitedEarly.catch(() => undefined);
    return stack;
  };

  const stop = async (stack: SpawnedProcess) => {
    stack.child.kill('SIGINT');
    expect(await stack.exited).toEqual({ code: 0, signal: null });
    // Nothing is left listening: neither the services nor PostgreSQL.
    expect(await isListening(ports.identity)).toBe(false);
    expect(await isListening(ports.messaging)).toBe(false);
    expect(await isListening(ports.compliance)).toBe(false);
    expect(await isListening(ports.postgres)).toBe(false);
    expect(await isListening(ports.kafka)).toBe(false);
    expect(await isListening(ports.s3)).toBe(false);
  };

  it('starts, keeps data and the platform token across restarts, and leaves no process behind', async () => {
    const first = await start();
    const token = (await readFile(join(dataDir, 'platform-token'), 'utf8')).trim();
    expect(first.output()).toContain(token);
    expect(first.output()).toContain(`http://127.0.0.1:${ports.identity}`);
    expect(first.output()).toContain(`127.0.0.1:${ports.kafka}`);
    expect(await isListening(ports.kafka)).toBe(true);
    const identity = `http://127.0.0.1:${ports.identity}`;
    expect((await fetch(`${identity}/health/ready`)).status).toBe(200);

    const created = await fetch(`${identity}/v1/corps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '持久公司', admin: { userid: 'admin', name: '管理员' } }),
    });
    expect(created.status).toBe(201);
    const { accessToken } = (await created.json()) as { accessToken: string };
    const dept = await fetch(`${identity}/v1/departments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '研发部', parentId: 1 }),
    });
    expect(dept.status).toBe(201);
    // Messaging runs too, and takes identity's tokens (verified against identity's JWKS).
    const messaging = `http://127.0.0.1:${ports.messaging}`;
    expect((await fetch(`${messaging}/health/ready`)).status).toBe(200);
    const conversations = await fetch(`${messaging}/v1/conversations`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(conversations.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.compliance}/health/ready`)).status).toBe(200);
    await stop(first);

    const second = await start();
    expect(second.output()).not.toContain(token); // not regenerated, so not printed again
    // The same access token still verifies (signing keys persisted) and the data is there.
    const subtree = await fetch(`${identity}/v1/departments/1/subtree`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(subtree.status).toBe(200);
    const body = (await subtree.json()) as { items: { name: string }[] };
    expect(body.items.map((d) => d.name)).toEqual(['持久公司', '研发部']);
    await stop(second);
  }, 180_000);
});
