// npm run bench:messaging — messages/s, send latency and send-to-delivered latency of the
// messaging service, with WebSocket clients connected, next to a baseline measured in the same
// run: a bare Fastify route inserting one row per request in its own transaction (the ceiling
// for any durable send here). identity, messaging and the baseline each run as their own
// process against embedded PostgreSQL and a dev-kafka broker; autocannon and the WebSocket
// clients run in this process, all on the same 2 cores.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import WebSocket from 'ws';
import { spawnDevKafka } from '@qiwei/dev-kafka';
import { startEmbeddedPostgres } from '@qiwei/embedded-postgres';
import { startEmbeddedS3 } from '@qiwei/embedded-s3';
import { databaseUrl, ensureDatabase } from '@qiwei/persistence';
import { CpuMeter, processTree } from '@qiwei/testing';

const REPO_ROOT = resolve(__dirname, '../../../..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const GROUP_SIZE = 200;
const FANOUT_MEMBERS = Number(process.env.BENCH_FANOUT_MEMBERS ?? 50_000);
const CONNECTED = Number(process.env.BENCH_SOCKETS ?? 60);
const TOKEN = `bench-platform-${randomBytes(12).toString('hex')}`;
/**
 * BENCH_PG_STATEMENTS=1: pg_stat_statements of the messaging database during the 1:1 send
 * scenario, with calls per message: where PostgreSQL's share of a send goes.
 */
const PG_STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';
/**
 * BENCH_ONLY=read,single,group: run only these scenarios after the baseline (with
 * BENCH_PROFILE_DIR, a profile of one scenario). All by default.
 */
const ONLY = process.env.BENCH_ONLY?.split(',');
const wanted = (scenario: string) => !ONLY || ONLY.includes(scenario);
const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  deliveredP50?: number;
  deliveredP99?: number;
  /** CPU ms per 1,000 requests, per process group (steady on a shared machine). */
  cpu: Record<string, number>;
}

/** Set in main once the processes run: CPU of each process group, read from /proc. */
let meter: CpuMeter | undefined;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;

async function call<T>(
  base: string,
  path: string,
  options: { method?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function must<T>(
  base: string,
  path: string,
  options: { method?: string; token?: string; body?: unknown } = {},
): Promise<T> {
  const r = await call<T>(base, path, options);
  if (r.status >= 300)
    throw new Error(`${options.method ?? 'GET'} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

function startProcess(
  entry: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, entry)], {
    env: { ...process.env, LOG_LEVEL: 'warn', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function waitFor(url: string, what: string, anyAnswer = false): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(url);
      if (res.ok || anyAnswer) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready`);
}

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Send-to-delivered latencies seen by the connected sockets (texts carry the send time). */
class Deliveries {
  samples: number[] = [];
  record(sentAt: number): void {
    this.samples.push(Date.now() - sentAt);
  }
}

/**
 * A message frame's sender and the send time its text starts with, read in place: these clients
 * share the 2 cores with the service they measure, and a JSON.parse of every frame (60 sockets
 * in the group scenario) was a fifth of this process's CPU. A frame this does not match stops
 * the benchmark rather than dropping its sample (texts not sent by the benchmark carry no time).
 */
const MESSAGE_FRAME =
  /^\{"type":"message",.*?"message":\{.*?"sender":"([^"]*)".*?"text":"(?:t:(\d+) )?/;

async function load(
  url: string,
  request: () => { path: string; token?: string; body?: object },
  deliveries?: Deliveries,
): Promise<Figures> {
  const runs: Figures[] = [];
  for (let run = 0; run < RUNS; run++) {
    if (deliveries) deliveries.samples = [];
    const before = meter?.snapshot() ?? {};
    const result = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: DURATION_S,
      requests: [
        {
          setupRequest: (req) => {
            const r = request();
            return {
              ...req,
              method: r.body ? 'POST' : 'GET',
              path: r.path,
              headers: {
                'content-type': 'application/json',
                ...(r.token ? { authorization: `Bearer ${r.token}` } : {}),
              },
              body: r.body ? JSON.stringify(r.body) : undefined,
            };
          },
        },
      ],
    });
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${url}: ${result.non2xx} non-2xx and ${result.errors} errors`);
    // Let the last deliveries arrive before reading them (and their CPU be counted).
    await new Promise((r) => setTimeout(r, 1500));
    const spent = CpuMeter.since(before, meter?.snapshot() ?? {});
    const cpu: Record<string, number> = {};
    for (const [name, ms] of Object.entries(spent)) cpu[name] = (ms * 1000) / result.requests.total;
    const delivered = [...(deliveries?.samples ?? [])].sort((a, b) => a - b);
    runs.push({
      cpu,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      deliveredP50: percentile(delivered, 0.5),
      deliveredP99: percentile(delivered, 0.99),
    });
  }
  const pick = (f: (r: Figures) => number | undefined) => median(runs.map((r) => f(r) ?? NaN));
  const cpu: Record<string, number> = {};
  for (const name of Object.keys(runs[0].cpu)) cpu[name] = pick((r) => r.cpu[name]);
  return {
    cpu,
    rps: pick((r) => r.rps),
    p50: pick((r) => r.p50),
    p99: pick((r) => r.p99),
    deliveredP50: pick((r) => r.deliveredP50),
    deliveredP99: pick((r) => r.deliveredP99),
  };
}

/** Top statements since the last reset, with calls per 1,000 of `sent`; resets again. */
async function topStatements(url: string, sent: () => number): Promise<string[]> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ query: string; calls: string; total: number; mean: number }>(
      // Statements of one shape (a batch's VALUES lists of different lengths) as one line.
      `SELECT regexp_replace(left(query, 100), '\\s+', ' ', 'g') AS query, sum(calls) AS calls,
              sum(total_exec_time + total_plan_time) AS total,
              sum(total_exec_time) / sum(calls) AS mean
         FROM pg_stat_statements
        WHERE query NOT LIKE '%pg_stat_statements%'
          AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        GROUP BY 1 ORDER BY 2 DESC LIMIT 40`,
    );
    const n = Math.max(sent(), 1);
    return rows.map(
      (r) =>
        `  ${((Number(r.calls) * 1000) / n).toFixed(0).padStart(6)} calls/1k sends ${r.total.toFixed(0).padStart(6)} ms ${r.mean.toFixed(3).padStart(7)} ms/call  ${r.query}`,
    );
  } finally {
    await db.end();
  }
}

async function resetStatements(url: string): Promise<void> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await db.query('SELECT pg_stat_statements_reset()');
  } finally {
    await db.end();
  }
}

/**
 * The @all scenario: a corp of FANOUT_MEMBERS members (through identity's CSV import), then an
 * app message to everyone, timed from the request until the answer — which comes after every
 * recipient's inbox row, send counter and the event are committed. Median of RUNS.
 */
async function fanOut(
  identity: string,
  messaging: string,
  messagingDb: string,
): Promise<{ members: number; seconds: number[] }> {
  const corp = await must<{ accessToken: string; corp: { corpId: string } }>(
    identity,
    '/v1/corps',
    {
      method: 'POST',
      token: TOKEN,
      body: { name: 'Fanout Corp', admin: { userid: 'admin', name: 'Admin' } },
    },
  );
  const rows = ['姓名,帐号,手机,邮箱,部门,职务'];
  for (let i = 0; i < FANOUT_MEMBERS; i++)
    rows.push(`成员${i},f${String(i).padStart(6, '0')},,,Fanout Corp/部门${i % 100},`);
  const upload = await fetch(`${identity}/v1/member-imports?mode=overwrite`, {
    method: 'POST',
    headers: { authorization: `Bearer ${corp.accessToken}`, 'content-type': 'text/csv' },
    body: `\ufeff${rows.join('\n')}\n`,
  });
  if (upload.status !== 202) throw new Error(`import: ${upload.status} ${await upload.text()}`);
  const { id } = (await upload.json()) as { id: string };
  for (;;) {
    const job = await must<{ status: string; created: number; failure: string | null }>(
      identity,
      `/v1/member-imports/${id}`,
      { token: corp.accessToken },
    );
    if (job.status === 'succeeded') break;
    if (job.status === 'failed') throw new Error(`import failed: ${job.failure}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // Wait until messaging's projection has every member and department.
  const db = new Client({ connectionString: messagingDb });
  await db.connect();
  try {
    for (;;) {
      const [{ n }] = (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM directory_members WHERE corp_id = $1 AND status = 'active'`,
          [corp.corp.corpId],
        )
      ).rows;
      if (n >= FANOUT_MEMBERS) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await db.end();
  }
  const app = await must<{ secret: string }>(identity, '/v1/apps', {
    method: 'POST',
    token: corp.accessToken,
    body: { name: '全员通知', range: { departmentIds: [1], userids: [], tagIds: [] } },
  });
  const { accessToken } = await must<{ accessToken: string }>(identity, '/v1/apps/token', {
    method: 'POST',
    body: { corpId: corp.corp.corpId, secret: app.secret },
  });
  const seconds: number[] = [];
  let members = 0;
  for (let run = 0; run < RUNS; run++) {
    const start = Date.now();
    const sent = await must<{ recipients: number }>(messaging, '/v1/app-messages', {
      method: 'POST',
      token: accessToken,
      body: { all: true, msgtype: 'text', text: `全员通知 ${run}` },
    });
    seconds.push((Date.now() - start) / 1000);
    members = sent.recipients;
  }
  return { members, seconds };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'qiwei-bench-messaging-'));
  const postgres = await startEmbeddedPostgres({
    dataDir: join(dataDir, 'pg'),
    port: 5498,
    persistent: false,
    settings: PG_STATEMENTS
      ? {
          shared_preload_libraries: 'pg_stat_statements',
          'pg_stat_statements.track': 'all',
          'pg_stat_statements.track_planning': 'on',
        }
      : {},
  });
  // The broker in a process of its own: load generator, broker and services each get CPU.
  const broker = await spawnDevKafka(join(dataDir, 'kafka'));
  const kafka = { brokers: [broker.bootstrap], stop: () => broker.stop() };
  const s3 = await startEmbeddedS3({ directory: join(dataDir, 's3'), port: 0 });
  for (const db of ['qiwei_identity_bench', 'qiwei_messaging_bench', 'qiwei_baseline_bench'])
    await ensureDatabase(postgres.url, db);
  const identity = 'http://127.0.0.1:4911';
  const messaging = 'http://127.0.0.1:4912';
  const baseline = 'http://127.0.0.1:4913';
  const processes = [
    startProcess('dist/services/identity/src/main.js', {
      PORT: '4911',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl(postgres.url, 'qiwei_identity_bench'),
      QIWEI_PLATFORM_TOKEN: TOKEN,
      IDENTITY_KEY_ENCRYPTION_KEY: `bench:${randomBytes(32).toString('base64')}`,
      KAFKA_BROKERS: kafka.brokers.join(','),
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
    }),
    startProcess(
      'dist/services/messaging/src/main.js',
      {
        PORT: '4912',
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl(postgres.url, 'qiwei_messaging_bench'),
        IDENTITY_JWKS_URL: `${identity}/.well-known/jwks.json`,
        KAFKA_BROKERS: kafka.brokers.join(','),
        S3_ENDPOINT: s3.endpoint,
        S3_ACCESS_KEY: s3.accessKey,
        S3_SECRET_KEY: s3.secretKey,
      },
      // BENCH_PROFILE_DIR=… writes a CPU profile of the messaging process there (Node refuses
      // --cpu-prof in NODE_OPTIONS, so it is an argument).
      // BENCH_MESSAGING_NODE_ARGS='--single-threaded-gc …': options for the messaging process
      // alone (V8's, which NODE_OPTIONS refuses, included).
      [
        ...(process.env.BENCH_PROFILE_DIR
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
          : []),
        ...(process.env.BENCH_MESSAGING_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ],
    ),
    startProcess('dist/services/messaging/bench/baseline-server.js', {
      PORT: '4913',
      DATABASE_URL: databaseUrl(postgres.url, 'qiwei_baseline_bench'),
    }),
  ];
  const sockets: WebSocket[] = [];
  try {
    await waitFor(`${identity}/health/ready`, 'identity');
    await waitFor(`${messaging}/health/ready`, 'messaging');
    await waitFor(`${baseline}/insert`, 'baseline', true);
    const postmaster = Number(
      (await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    const [, messagingProcess, baselineProcess] = processes;
    meter = new CpuMeter({
      messaging: () => [messagingProcess.pid as number],
      baseline: () => [baselineProcess.pid as number],
      postgres: () => processTree(postmaster),
      kafka: () => [broker.pid],
      'load generator': () => [process.pid],
    });
    const corp = await must<{ accessToken: string; corp: { corpId: string } }>(
      identity,
      '/v1/corps',
      {
        method: 'POST',
        token: TOKEN,
        body: { name: 'Bench Corp', admin: { userid: 'admin', name: 'Admin' } },
      },
    );
    const admin = corp.accessToken;
    const userids = Array.from({ length: GROUP_SIZE }, (_, i) => `m${String(i).padStart(3, '0')}`);
    await pool(userids, 8, async (userid) => {
      await must(identity, '/v1/members', {
        method: 'POST',
        token: admin,
        body: { userid, name: userid, departments: [{ id: 1 }] },
      });
    });
    // Tokens for the members who send and hold sockets (real sign-ins).
    const tokens = new Map<string, string>();
    await pool(userids.slice(0, CONNECTED), 4, async (userid) => {
      const password = `pw-${randomBytes(9).toString('hex')}`;
      await must(identity, `/v1/members/${userid}/password`, {
        method: 'PUT',
        token: admin,
        body: { password },
      });
      const session = await must<{ accessToken: string }>(identity, '/v1/auth/sign-in', {
        method: 'POST',
        body: { corpId: corp.corp.corpId, userid, password },
      });
      tokens.set(userid, session.accessToken);
    });
    const senders = userids.slice(0, CONNECTED);
    // The 200-member group, once messaging has learnt every member from identity's events.
    let group: { id: string } | undefined;
    for (let i = 0; !group; i++) {
      const r = await call<{ id: string }>(messaging, '/v1/conversations', {
        method: 'POST',
        token: tokens.get(senders[0]),
        body: { kind: 'group', name: '全员群', members: userids.slice(1) },
      });
      if (r.status === 201) group = r.body;
      else if (i > 300) throw new Error(`group: ${JSON.stringify(r.body)}`);
      else await new Promise((res) => setTimeout(res, 100));
    }
    const pairs: { id: string; a: string; b: string }[] = [];
    for (let i = 0; i + 1 < senders.length; i += 2) {
      const c = await must<{ id: string }>(messaging, '/v1/conversations', {
        method: 'POST',
        token: tokens.get(senders[i]),
        body: { kind: 'single', peer: senders[i + 1] },
      });
      pairs.push({ id: c.id, a: senders[i], b: senders[i + 1] });
    }
    const deliveries = new Deliveries();
    for (const userid of senders) {
      const socket = new WebSocket(
        `ws://127.0.0.1:4912/v1/stream?access_token=${tokens.get(userid)}`,
      );
      await new Promise<void>((ok, fail) => {
        socket.once('open', () => ok());
        socket.once('error', fail);
      });
      socket.on('message', (data: Buffer) => {
        const frame = data.toString('utf8');
        if (!frame.startsWith('{"type":"message"')) return;
        const fields = MESSAGE_FRAME.exec(frame);
        if (!fields) throw new Error(`a message frame of an unexpected shape: ${frame}`);
        // Latency to the other members (not the sender's own echo).
        if (fields[1] !== userid && fields[2]) deliveries.record(Number(fields[2]));
      });
      sockets.push(socket);
    }

    const messagingDb = databaseUrl(postgres.url, 'qiwei_messaging_bench');
    const statements: string[] = [];
    let n = 0;
    const text = () => `t:${Date.now()} 基准测试消息 benchmark message ${n}`;
    const scenarios: [string, string, () => Promise<Figures>][] = [
      [
        'baseline',
        'baseline: Fastify route, one INSERT per request in its own transaction',
        () =>
          load(baseline, () => ({
            path: '/insert',
            body: { clientMsgId: `b${n++}`, text: text() },
          })),
      ],
      [
        'health',
        'reference: GET /health/live (framework floor)',
        () => load(messaging, () => ({ path: '/health/live' })),
      ],
      [
        'read',
        'reference: GET /v1/conversations/:id (token check + read)',
        () =>
          load(messaging, () => {
            const pair = pairs[n++ % pairs.length];
            return { path: `/v1/conversations/${pair.id}`, token: tokens.get(pair.a) };
          }),
      ],
      [
        'single',
        `1:1 conversations (${pairs.length} pairs, both sides connected)`,
        async () => {
          if (PG_STATEMENTS) await resetStatements(messagingDb);
          const from = n;
          const figures = await load(
            messaging,
            () => {
              const pair = pairs[n % pairs.length];
              const from = n % 2 ? pair.a : pair.b;
              return {
                path: `/v1/conversations/${pair.id}/messages`,
                token: tokens.get(from),
                body: { clientMsgId: `s${n++}`, type: 'text', text: text() },
              };
            },
            deliveries,
          );
          if (PG_STATEMENTS) statements.push(...(await topStatements(messagingDb, () => n - from)));
          return figures;
        },
      ],
      [
        'group',
        `${GROUP_SIZE}-member group (${CONNECTED} members connected)`,
        () =>
          load(
            messaging,
            () => ({
              path: `/v1/conversations/${group.id}/messages`,
              token: tokens.get(senders[n % senders.length]),
              body: { clientMsgId: `g${n++}`, type: 'text', text: text() },
            }),
            deliveries,
          ),
      ],
    ];
    const rows: [string, Figures][] = [];
    for (const [key, name, run] of scenarios)
      if (key === 'baseline' || wanted(key)) rows.push([name, await run()]);
    const fanout =
      FANOUT_MEMBERS > 0
        ? await fanOut(identity, messaging, messagingDb)
        : { members: 0, seconds: [NaN] };
    const ceiling = rows[0][1].rps;
    console.log(
      `\nmessaging benchmark: ${CONNECTIONS} HTTP connections, ${CONNECTED} WebSocket clients, median of ${RUNS} × ${DURATION_S} s (load average at the end ${loadAverage()})\n`,
    );
    console.log(
      '| scenario | msgs/s | % of baseline | send p50 ms | send p99 ms | delivered p50 ms | delivered p99 ms |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [name, f] of rows) {
      const share = name.startsWith('baseline')
        ? '100%'
        : name.startsWith('reference')
          ? '—'
          : `${Math.round((f.rps / ceiling) * 100)}%`;
      const fmt = (v: number | undefined) =>
        v === undefined || Number.isNaN(v) ? '—' : v.toFixed(1);
      console.log(
        `| ${name} | ${Math.round(f.rps).toLocaleString('en-US')} | ${share} | ${fmt(f.p50)} | ${fmt(f.p99)} | ${fmt(f.deliveredP50)} | ${fmt(f.deliveredP99)} |`,
      );
    }
    const groups = Object.keys(rows[0][1].cpu);
    console.log('\nCPU ms per 1,000 requests, by process (median of the runs):\n');
    console.log(`| scenario | ${groups.join(' | ')} | total |`);
    console.log(`| --- |${groups.map(() => ' ---: |').join('')} ---: |`);
    for (const [name, f] of rows) {
      const values = groups.map((g) => f.cpu[g]);
      console.log(
        `| ${name} | ${values.map((v) => Math.round(v).toLocaleString('en-US')).join(' | ')} | ${Math.round(values.reduce((a, b) => a + b, 0)).toLocaleString('en-US')} |`,
      );
    }
    if (statements.length) {
      console.log('\nPostgreSQL statements during the 1:1 sends (pg_stat_statements, by calls):\n');
      for (const line of statements) console.log(line);
    }
    console.log(
      `\napp message to @all: ${fanout.members.toLocaleString('en-US')} recipients, every inbox row written: median ${median(fanout.seconds).toFixed(2)} s (runs ${fanout.seconds.map((x) => x.toFixed(2)).join(' / ')}; goal < 5 s)`,
    );
  } finally {
    for (const socket of sockets) socket.close();
    for (const child of processes) child.kill('SIGTERM');
    await Promise.all(
      processes.map(
        (child) => new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r))),
      ),
    );
    await kafka.stop();
    await s3.stop();
    await postgres.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
