// npm run bench:identity — HTTP latency and throughput of the identity service's department
// API on this machine, next to baselines measured in the same run: the framework floor
// (/health/live: Fastify + Nest, no auth, no database) and the database floor (the same
// primary-key read through a bare pg client). Then the member import (50,000 rows over 500
// departments, upload to job succeeded) next to a bare pg insert of the same rows, and paging
// through a 10,000-member subtree next to the same page query through a bare pg client. The
// service runs as its own process, as in production; the load generator (autocannon) runs here.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import ExcelJS from 'exceljs';
import { Client } from 'pg';
import { silentLogger, startDevKafka } from '@qiwei/dev-kafka';
import { startEmbeddedPostgres } from '@qiwei/embedded-postgres';
import { startEmbeddedS3 } from '@qiwei/embedded-s3';
import { databaseUrl, ensureDatabase } from '@qiwei/persistence';

const REPO_ROOT = resolve(__dirname, '../../../..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = 16;
const TOKEN = 'bench-platform-token-0123456789abcdef';
const DEPARTMENTS = 1_000;
const IMPORT_ROWS = 50_000;
const IMPORT_DIVISIONS = 5; // × 99 teams: 500 departments, 10,000 members per division
const IMPORT_TEAMS_PER_DIVISION = 99;
const PAGE_SIZE = 100;

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

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** The member sheet of the import scenario: each division's teams share its members evenly. */
async function importSheet(rootName: string): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('成员');
  sheet.addRow(['姓名', '帐号', '手机', '邮箱', '部门', '职务']);
  for (let i = 0; i < IMPORT_ROWS; i++) {
    const division = i % IMPORT_DIVISIONS;
    const team = Math.floor(i / IMPORT_DIVISIONS) % IMPORT_TEAMS_PER_DIVISION;
    sheet.addRow([
      `成员${i}`,
      `user${String(i).padStart(6, '0')}`,
      `139${String(i).padStart(8, '0')}`,
      `user${i}@example.com`,
      `${rootName}/事业部${division}/团队${division}-${team}`,
      '工程师',
    ]);
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** Upload to job succeeded, polling the job every 100 ms. */
async function timeImport(base: string, token: string, file: Buffer): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/v1/member-imports?mode=overwrite`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    },
    body: file,
  });
  if (res.status !== 202) throw new Error(`import upload: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  for (;;) {
    const job = (await http(`${base}/v1/member-imports/${id}`, { token })) as {
      status: string;
      created: number;
      rejected: number;
      departmentsCreated: number;
      failure: string | null;
    };
    if (job.status === 'succeeded') {
      if (job.created !== IMPORT_ROWS || job.rejected !== 0) {
        throw new Error(`import: ${JSON.stringify(job)}`);
      }
      return (performance.now() - start) / 1000;
    }
    if (job.status === 'failed') throw new Error(`import failed: ${job.failure}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The database floor of the import: the same member and membership rows, bare pg, one transaction. */
async function rawPgImport(url: string, corpId: string, departmentIds: number[]): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const userids = Array.from({ length: IMPORT_ROWS }, (_, i) => `raw${String(i).padStart(6, '0')}`);
  const start = performance.now();
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO members (corp_id, userid, name, mobile, email, position, status, roles, main_department_id)
     SELECT $1, u, 'name', '138' || lpad(n::text, 8, '0'), u || '@example.com', '工程师', 'active', '{member}', d
       FROM unnest($2::text[], $3::int[]) WITH ORDINALITY AS t(u, d, n)`,
    [corpId, userids, userids.map((_, i) => departmentIds[i % departmentIds.length])],
  );
  await client.query(
    `INSERT INTO member_departments (corp_id, userid, department_id, is_main)
     SELECT $1, u, d, true FROM unnest($2::text[], $3::int[]) AS t(u, d)`,
    [corpId, userids, userids.map((_, i) => departmentIds[i % departmentIds.length])],
  );
  await client.query('COMMIT');
  const seconds = (performance.now() - start) / 1000;
  await client.end();
  return seconds;
}

/** Every page of a subtree's members, one request after the other; per-page latencies in ms. */
async function pageThrough(
  fetchPage: (cursor: string | null) => Promise<string | null>,
): Promise<number[]> {
  const latencies: number[] = [];
  let cursor: string | null = null;
  do {
    const start = performance.now();
    cursor = await fetchPage(cursor);
    latencies.push(performance.now() - start);
  } while (cursor);
  return latencies;
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
  // Identity reads WeCom's temporary media (batch CSVs) from object storage.
  const s3 = await startEmbeddedS3({ directory: join(dataDir, 's3'), port: 0 });
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
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
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
    const imports = await benchImport(base, dbUrl);
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
    console.log(
      `\nmember import: ${IMPORT_ROWS.toLocaleString('en-US')} rows (XLSX, overwrite mode) over ${IMPORT_DIVISIONS * (IMPORT_TEAMS_PER_DIVISION + 1)} departments; median of ${RUNS}\n`,
    );
    console.log('| measurement | seconds | runs |');
    console.log('| --- | ---: | --- |');
    for (const [name, runs] of imports.seconds) {
      console.log(
        `| ${name} | ${median(runs).toFixed(1)} | ${runs.map((r) => r.toFixed(1)).join(' / ')} |`,
      );
    }
    console.log(
      `\npaging a ${imports.subtreeMembers.toLocaleString('en-US')}-member subtree, ${PAGE_SIZE} per page, one request at a time, ${RUNS} passes\n`,
    );
    console.log('| measurement | pages | p50 ms | p99 ms |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const [name, latencies] of imports.pages) {
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(
        `| ${name} | ${sorted.length} | ${percentile(sorted, 0.5).toFixed(1)} | ${percentile(sorted, 0.99).toFixed(1)} |`,
      );
    }
  } finally {
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    await kafka.stop();
    await s3.stop();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The import scenario in corps of its own (each run imports into a fresh corp): end-to-end
 * seconds per run, then paging through one division's 10,000 members.
 */
async function benchImport(
  base: string,
  dbUrl: string,
): Promise<{ seconds: [string, number[]][]; pages: [string, number[]][]; subtreeMembers: number }> {
  const newCorp = async (name: string) =>
    (await http(`${base}/v1/corps`, {
      method: 'POST',
      token: TOKEN,
      body: { name, admin: { userid: 'admin', name: 'Admin' } },
    })) as { accessToken: string; corp: { corpId: string } };
  const rootName = '导入公司';
  const file = await importSheet(rootName);
  const service: number[] = [];
  const raw: number[] = [];
  let last: { accessToken: string; corp: { corpId: string } } | undefined;
  for (let run = 0; run < RUNS; run++) {
    last = await newCorp(rootName);
    service.push(await timeImport(base, last.accessToken, file));
    const rawCorp = await newCorp('裸导入');
    raw.push(await rawPgImport(dbUrl, rawCorp.corp.corpId, [1]));
  }
  const corp = last as { accessToken: string; corp: { corpId: string } };
  const divisions = (await http(`${base}/v1/departments/1/children?limit=100`, {
    token: corp.accessToken,
  })) as { items: { id: number; name: string; path?: string }[] };
  const division = divisions.items.find((d) => d.name === '事业部0') as { id: number };
  const listed: number[] = [];
  const rawPages: number[] = [];
  let subtreeMembers = 0;
  const client = new Client({ connectionString: dbUrl });
  await client.connect();
  const subtreeIds = (
    await client.query<{ id: number }>(
      `SELECT id FROM departments WHERE corp_id = $1
          AND path LIKE (SELECT path FROM departments WHERE corp_id = $1 AND id = $2) || '%'`,
      [corp.corp.corpId, division.id],
    )
  ).rows.map((r) => r.id);
  for (let run = 0; run < RUNS; run++) {
    subtreeMembers = 0;
    listed.push(
      ...(await pageThrough(async (cursor) => {
        const page = (await http(
          `${base}/v1/departments/${division.id}/members?recursive=true&limit=${PAGE_SIZE}${cursor ? `&cursor=${cursor}` : ''}`,
          { token: corp.accessToken },
        )) as { items: unknown[]; nextCursor: string | null };
        subtreeMembers += page.items.length;
        return page.nextCursor;
      })),
    );
    rawPages.push(
      ...(await pageThrough(async (cursor) => {
        const rows = (
          await client.query<{ userid: string }>(
            // The shape the service uses for a large subtree (MembersRepository.inDepartment).
            `SELECT m.* FROM members m
              WHERE m.corp_id = $1 AND m.userid > $2
                AND EXISTS (SELECT 1 FROM member_departments md
                             WHERE md.corp_id = m.corp_id AND md.userid = m.userid
                               AND md.department_id = ANY($3::int[]) OFFSET 0)
              ORDER BY m.userid LIMIT $4`,
            [corp.corp.corpId, cursor ?? '', subtreeIds, PAGE_SIZE + 1],
          )
        ).rows;
        return rows.length > PAGE_SIZE ? rows[PAGE_SIZE - 1].userid : null;
      })),
    );
  }
  await client.end();
  return {
    seconds: [
      ['baseline: bare pg insert of the member and membership rows (one transaction)', raw],
      ['POST /v1/member-imports → job succeeded (end to end)', service],
    ],
    pages: [
      ['baseline: the same page query, bare pg (database floor)', rawPages],
      ['GET /v1/departments/:id/members?recursive=true (JWT, page + memberships)', listed],
    ],
    subtreeMembers,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
