// npm run bench:identity — HTTP latency and throughput of the identity service's department
// API on this machine, next to baselines measured in the same run: the framework floor
// (/health/live: Fastify + Nest, no auth, no database) and the database floor (the same
// primary-key read through a bare pg client). The service runs as its own process, as in
// production; the load generator (autocannon) runs here.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { silentLogger, startDevKafka } from '@qiwei/dev-kafka';
import { startEmbeddedPostgres } from '@qiwei/embedded-postgres';
import { databaseUrl, ensureDatabase } from '@qiwei/persistence';

const REPO_ROOT = resolve(__dirname, '../../../..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = 16;
const TOKEN = 'bench-platform-token-0123456789abcdef';
const DEPARTMENTS = 1_000;

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function http(
  url: string,
  options: { method?: string; token?: string; body?: unknown } = {},
): Promise<unknown> {
  const res = await fetch(url, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  if (!res.ok)
    throw new Error(`${options.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function load(
  url: string,
  options: Partial<autocannon.Options> & { requests?: autocannon.Request[] },
): Promise<Figures> {
  const runs: Figures[] = [];
  for (let i = 0; i < RUNS; i++) {
    const result = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: DURATION_S,
      ...options,
    });
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${url}: ${result.non2xx} non-2xx and ${result.errors} errors`);
    }
    runs.push({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 });
  }
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
  };
}

/** The database floor: the same keyed read, CONNECTIONS clients in parallel, no HTTP. */
async function rawPgRead(url: string, corpId: string): Promise<Figures> {
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const runs: Figures[] = [];
  for (let run = 0; run < RUNS; run++) {
    const latencies: number[] = [];
    const deadline = performance.now() + DURATION_S * 1000;
    await Promise.all(
      clients.map(async (c, i) => {
        for (let n = 0; performance.now() < deadline; n++) {
          const start = performance.now();
          await c.query('SELECT * FROM departments WHERE corp_id = $1 AND id = $2', [
            corpId,
            2 + ((i + n) % DEPARTMENTS),
          ]);
          latencies.push(performance.now() - start);
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    runs.push({
      rps: latencies.length / DURATION_S,
      p50: latencies[Math.floor(latencies.length * 0.5)],
      p99: latencies[Math.floor(latencies.length * 0.99)],
    });
  }
  await Promise.all(clients.map((c) => c.end()));
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'qiwei-bench-identity-'));
  const postgres = await startEmbeddedPostgres({
    dataDir: join(dataDir, 'pg'),
    port: 5499,
    persistent: false,
  });
  // Identity publishes its events through the outbox: a broker must be there.
  const kafka = await startDevKafka({
    port: 0,
    dataDir: join(dataDir, 'kafka'),
    logger: silentLogger,
  });
  await ensureDatabase(postgres.url, 'qiwei_identity_bench');
  const dbUrl = databaseUrl(postgres.url, 'qiwei_identity_bench');
  const port = 4901;
  const base = `http://127.0.0.1:${port}`;
  const service = spawn(process.execPath, [join(REPO_ROOT, 'dist/services/identity/src/main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl,
      QIWEI_PLATFORM_TOKEN: TOKEN,
      IDENTITY_KEY_ENCRYPTION_KEY: `bench:${randomBytes(32).toString('base64')}`,
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/health/ready`)).ok) break;
      } catch {
        /* starting */
      }
      if (i > 300) throw new Error('identity did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const corp = (await http(`${base}/v1/corps`, {
      method: 'POST',
      token: TOKEN,
      body: { name: 'Bench Corp', admin: { userid: 'admin', name: 'Admin' } },
    })) as { accessToken: string; corp: { corpId: string } };
    const token = corp.accessToken;
    // A realistic tree: 10 divisions × 99 teams below them.
    const divisions: number[] = [];
    for (let d = 0; d < 10; d++) {
      divisions.push(
        (
          (await http(`${base}/v1/departments`, {
            method: 'POST',
            token,
            body: { name: `事业部${d}`, parentId: 1 },
          })) as { id: number }
        ).id,
      );
    }
    for (let t = 0; t < DEPARTMENTS - 10; t++) {
      await http(`${base}/v1/departments`, {
        method: 'POST',
        token,
        body: { name: `团队${t}`, parentId: divisions[t % 10] },
      });
    }
    const auth = { authorization: `Bearer ${token}` };
    let counter = 0;
    const rows: [string, Figures][] = [
      ['baseline: GET /health/live (framework floor)', await load(`${base}/health/live`, {})],
      ['baseline: pg primary-key read (database floor)', await rawPgRead(dbUrl, corp.corp.corpId)],
      [
        'GET /v1/departments/:id (JWT verify + read)',
        await load(base, {
          requests: [
            {
              method: 'GET',
              setupRequest: (req) => ({
                ...req,
                path: `/v1/departments/${2 + (counter++ % DEPARTMENTS)}`,
                headers: auth,
              }),
            },
          ],
        }),
      ],
      [
        'GET /v1/departments/1/children (10 divisions)',
        await load(`${base}/v1/departments/1/children`, { headers: auth }),
      ],
      [
        'GET /v1/departments/2/subtree?limit=100',
        await load(`${base}/v1/departments/${divisions[0]}/subtree?limit=100`, { headers: auth }),
      ],
      [
        'POST /v1/departments (one corp: writes serialise)',
        await load(base, {
          requests: [
            {
              method: 'POST',
              setupRequest: (req) => ({
                ...req,
                path: '/v1/departments',
                headers: { ...auth, 'content-type': 'application/json' },
                body: JSON.stringify({
                  name: `新部门${counter++}`,
                  parentId: divisions[counter % 10],
                }),
              }),
            },
          ],
        }),
      ],
    ];
    console.log(
      `\nidentity benchmark: ${CONNECTIONS} connections, median of ${RUNS} × ${DURATION_S} s, ${DEPARTMENTS} departments\n`,
    );
    console.log('| scenario | req/s | p50 ms | p99 ms |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const [name, f] of rows) {
      console.log(
        `| ${name} | ${Math.round(f.rps).toLocaleString('en-US')} | ${f.p50.toFixed(1)} | ${f.p99.toFixed(1)} |`,
      );
    }
  } finally {
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    await kafka.stop();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
