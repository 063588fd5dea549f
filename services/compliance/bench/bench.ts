// npm run bench:compliance — (1) archive ingest from the topic (hash chain, index and alert
// rules included) next to a raw batched INSERT of the same rows into the same tables, measured
// in the same run; (2) search latency over a generated Chinese/English corpus, by time and by
// relevance, with and without filters. Compliance runs as its own process for (1); (2) calls the
// search use case in this process (index query, record fetch, highlights and the access-log
// append; no HTTP or JWT). Embedded PostgreSQL and a dev-kafka broker share the same 2 cores.
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_MESSAGE_TOPIC, MESSAGING_TOPICS } from '@qiwei/contracts';
import { spawnDevKafka } from '@qiwei/dev-kafka';
import { startEmbeddedPostgres } from '@qiwei/embedded-postgres';
import { startEmbeddedS3, type RunningS3 } from '@qiwei/embedded-s3';
import { createKafka, createProducer, encodeEvent, ensureTopics, Outbox } from '@qiwei/events';
import {
  asCorpId,
  createDataSource,
  databaseUrl,
  ensureDatabase,
  TransactionRunner,
  type CorpId,
} from '@qiwei/persistence';
import { CpuMeter, processTree } from '@qiwei/testing';
import type { DataSource } from 'typeorm';
import { AccessLog } from '../src/access-log/access-log';
import { AlertRulesService } from '../src/alerts/alert-rules.service';
import { AlertsService } from '../src/alerts/alerts.service';
import type { NewArchiveRecord } from '../src/archive/archive-record';
import { ArchiveService } from '../src/archive/archive.service';
import { ArchiveWriter } from '../src/archive/archive-writer';
import { pgIntArray, pgTextArray } from '../src/archive/pg-array';
import { COMPLIANCE_MIGRATIONS } from '../src/compliance.module';
import type { ComplianceConfig } from '../src/config';
import { Coverage } from '../src/coverage/coverage';
import { Directory } from '../src/directory/directory';
import { ArchiveStorage } from '../src/media/archive-storage';
import type { ArchiveQuery } from '../src/search/archive-index';
import { PostgresArchiveIndex } from '../src/search/postgres-archive-index';

const REPO_ROOT = resolve(__dirname, '../../../..');
const INGEST_EVENTS = Number(process.env.BENCH_INGEST_EVENTS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SEARCH_RECORDS = Number(process.env.BENCH_SEARCH_RECORDS ?? 1_000_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 100);
const SIGNING_KEY = `bench:${randomBytes(32).toString('base64')}`;
/** BENCH_PG_STATEMENTS=1: pg_stat_statements during the ingest runs, top statements printed. */
const PG_STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';

/** Set once the processes run: CPU time of each process group, read from /proc. */
let meter: CpuMeter | undefined;
type Cpu = Record<string, number>;
/** CPU ms per 1,000 records of each group between two snapshots. */
const cpuPer1000 = (spent: Cpu, records: number): Cpu =>
  Object.fromEntries(Object.entries(spent).map(([k, ms]) => [k, (ms * 1000) / records]));

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const say = (line: string) => process.stdout.write(`${line}\n`);

/** A seeded generator, so every run searches the same corpus. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HAN =
  '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞';
const ENGLISH =
  'meeting report client order payment contract review schedule budget product launch project team manager deadline invoice delivery shipment price discount quarter revenue profit account customer support ticket issue release version feature design update call email office travel visit plan strategy market sales target growth risk policy insurance wealth fund stock bond loan credit interest rate transfer balance statement audit compliance legal approval request document file share link access password login system server network database backup security incident response'.split(
    ' ',
  );

/** A Zipf-ish vocabulary: ~6,000 Chinese words and the English words, ranked. */
function vocabulary(random: () => number): string[] {
  const chars = [...HAN];
  const words = new Set<string>(['理财', '保险', '收益', '客户', '产品']);
  while (words.size < 6_000) {
    const len = random() < 0.8 ? 2 : random() < 0.5 ? 3 : 4;
    let w = '';
    for (let i = 0; i < len; i++) w += chars[Math.floor(random() * chars.length)];
    words.add(w);
  }
  const all = [...words];
  for (const e of ENGLISH) all.splice(Math.floor(random() * all.length), 0, e);
  return all;
}

function messageText(random: () => number, vocab: string[]): string {
  const pick = () =>
    vocab[Math.min(vocab.length - 1, Math.floor(Math.pow(random(), 2.2) * vocab.length))];
  const n = 4 + Math.floor(random() * 20);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.02)
      parts.push(
        `1${3 + Math.floor(random() * 7)}${String(Math.floor(random() * 1e9)).padStart(9, '0')}`,
      );
    else if (r < 0.04)
      parts.push(
        `ORD-${2020 + Math.floor(random() * 6)}-${String(Math.floor(random() * 1e5)).padStart(5, '0')}`,
      );
    else parts.push(pick());
    if (random() < 0.3) parts.push(random() < 0.5 ? '，' : ' ');
  }
  return parts.join('');
}

const users = Array.from({ length: 500 }, (_, i) => `user${i}`);

function startCompliance(url: string, brokers: string[], s3: RunningS3): ChildProcess {
  // BENCH_PROFILE_DIR=… writes a CPU profile of the compliance process there.
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  return spawn(
    process.execPath,
    [...profile, join(REPO_ROOT, 'dist/services/compliance/src/main.js')],
    {
      env: {
        ...process.env,
        PORT: '4916',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        DATABASE_URL: url,
        KAFKA_BROKERS: brokers.join(','),
        IDENTITY_JWKS_URL: 'http://127.0.0.1:4911/.well-known/jwks.json',
        COMPLIANCE_SIGNING_KEY: SIGNING_KEY,
        S3_ENDPOINT: s3.endpoint,
        S3_ACCESS_KEY: s3.accessKey,
        S3_SECRET_KEY: s3.secretKey,
        OTEL_SDK_DISABLED: 'true',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
}

/** Records archived for the corp: its chain tip (one row; a count(*) would cost PostgreSQL CPU). */
async function count(db: DataSource, corpId: string): Promise<number> {
  const [row] = await db.query<{ n: string }[]>(
    `SELECT chain_seq AS n FROM chain_tips WHERE corp_id = $1 AND chain = 'archive'`,
    [corpId],
  );
  return Number(row?.n ?? 0);
}

interface IngestFigures {
  rate: number;
  /** Alerts the rules raised on the run's messages. */
  alerts: number;
  corpId: string;
  /** CPU ms per 1,000 records, per process group, from the first event sent to the last archived. */
  cpu: Cpu;
}

/** Records/s from the corp's first archived record to its last. */
async function ingestRun(
  db: DataSource,
  brokers: string[],
  random: () => number,
  vocab: string[],
): Promise<IngestFigures> {
  const corpId = `ww${randomBytes(8).toString('hex')}`;
  const conversations = Array.from({ length: 200 }, () => randomUUID());
  // Alert rules run on every message: three keyword lists (15 words of middling frequency, a few
  // percent of messages hit) and a regular expression that must scan every text.
  const rules: [string, string, string[], string][] = [
    ['keywords A', 'keyword', vocab.slice(1_000, 1_005), ''],
    ['keywords B', 'keyword', vocab.slice(1_005, 1_010), ''],
    ['keywords C', 'keyword', vocab.slice(1_010, 1_015), ''],
    ['guaranteed returns', 'regex', [], '保证.{0,6}收益|稳赚不赔|guaranteed\\s+returns?'],
  ];
  for (const [name, kind, keywords, pattern] of rules)
    await db.query(
      `INSERT INTO alert_rules (corp_id, id, name, kind, keywords, pattern, created_by, created_at,
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'bench', now(), now())`,
      [corpId, randomUUID(), name, kind, keywords, pattern],
    );
  const producer = createProducer(createKafka({ brokers, clientId: 'bench-producer' }));
  await producer.connect();
  const seqs = new Map<string, number>();
  const before = meter?.snapshot() ?? {};
  for (let sent = 0; sent < INGEST_EVENTS; sent += 1_000) {
    const messages = Array.from({ length: Math.min(1_000, INGEST_EVENTS - sent) }, () => {
      const conversationId = conversations[Math.floor(random() * conversations.length)];
      const seq = (seqs.get(conversationId) ?? 0) + 1;
      seqs.set(conversationId, seq);
      const e = encodeEvent(MESSAGING_MESSAGE_TOPIC, '/qiwei/messaging', {
        type: 'qiwei.messaging.message.sent.v1',
        tenant: corpId,
        key: conversationId,
        subject: `conversation/${conversationId}/message/${seq}`,
        data: {
          message: {
            corpId,
            conversationId,
            seq: BigInt(seq),
            id: randomUUID(),
            sender: users[Math.floor(random() * 50)],
            clientMsgId: `c${seq}`,
            conversationKind: 'group',
            participants: users.slice(0, 5),
            content: { type: 'text', text: messageText(random, vocab), mentions: [], quoteSeq: 0n },
            sentAt: timestampFromDate(new Date()),
          },
        },
      });
      return { key: e.key, value: e.value, headers: e.headers };
    });
    await producer.send({ topic: MESSAGING_MESSAGE_TOPIC.name, acks: -1, messages });
  }
  await producer.disconnect();
  let first: { at: number; n: number } | undefined;
  for (;;) {
    const n = await count(db, corpId);
    const now = performance.now();
    if (!first && n > 0) first = { at: now, n };
    if (first && n >= INGEST_EVENTS) {
      const spent = CpuMeter.since(before, meter?.snapshot() ?? {});
      const [alerts] = await db.query<{ n: string }[]>(
        'SELECT count(*) AS n FROM alerts WHERE corp_id = $1',
        [corpId],
      );
      return {
        alerts: Number(alerts.n),
        rate: ((n - first.n) / (now - first.at)) * 1000,
        corpId,
        cpu: cpuPer1000(spent, INGEST_EVENTS),
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The same rows the archive writes for each record (the record, its sender departments and its
 * search row with the same terms), inserted in the same chunks of 500, one transaction each, with
 * one multi-row INSERT (`unnest` of column arrays, prepared before the clock starts) per table,
 * into copies of the same tables with the same indexes: what PostgreSQL alone costs, without
 * Kafka, the inbox, the chain or the service.
 */
async function rawRun(db: DataSource, corpId: string): Promise<{ rate: number; cpu: Cpu }> {
  // Not emptied between runs: the raw tables grow run by run as the archive's do.
  const rows = await db.query<Record<string, unknown>[]>(
    `SELECT r.*, r.chain_seq + 1000000000 AS raw_seq, s.sender_departments, s.has_attachment,
            array_to_string(tsvector_to_array(s.terms), ' ') AS terms_text
       FROM archive_records r JOIN archive_search s USING (corp_id, chain_seq)
      WHERE r.corp_id = $1 ORDER BY r.chain_seq`,
    [corpId],
  );
  const batches: unknown[][] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const b = rows.slice(i, i + 500);
    const col = (name: string) => b.map((r) => r[name]);
    batches.push([
      corpId,
      col('raw_seq'),
      col('kind'),
      col('event_id'),
      col('message_id'),
      col('pre_message_id'),
      col('conversation_id'),
      col('conversation_kind'),
      col('sender'),
      col('type'),
      col('text'),
      b.map((r) => pgTextArray(r.mentions as string[])),
      col('quote_seq'),
      col('seq'),
      b.map((r) => pgTextArray(r.participants as string[])),
      b.map((r) => JSON.stringify(r.details)),
      b.map((r) => JSON.stringify(r.media)),
      col('consent'),
      b.map((r) => (r.sent_at as Date).toISOString()),
      b.map((r) => (r.recorded_at as Date).toISOString()),
      col('prev_hash'),
      col('hash'),
      b.map((r) => pgIntArray(r.sender_departments as number[])),
      col('has_attachment'),
      col('terms_text'),
    ]);
  }
  const before = meter?.snapshot() ?? {};
  const started = performance.now();
  for (const params of batches) {
    await db.transaction(async (em) => {
      await em.query(
        `INSERT INTO raw_records (corp_id, chain_seq, kind, event_id, message_id, pre_message_id,
           conversation_id, conversation_kind, sender, type, text, mentions, quote_seq, seq,
           participants, details, media, consent, sent_at, recorded_at, prev_hash, hash)
         SELECT $1, x.seq0, x.kind, x.event_id, x.message_id, x.pre_message_id, x.conversation_id,
                x.conversation_kind, x.sender, x.type, x.text, x.mentions::text[], x.quote_seq, x.seq,
                x.participants::text[], x.details::jsonb, x.media::jsonb, x.consent, x.sent_at,
                x.recorded_at, x.prev_hash, x.hash
           FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[],
                       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[],
                       $14::bigint[], $15::text[], $16::text[], $17::text[], $18::text[],
                       $19::timestamptz[], $20::timestamptz[], $21::bytea[], $22::bytea[])
             AS x(seq0, kind, event_id, message_id, pre_message_id, conversation_id,
                  conversation_kind, sender, type, text, mentions, quote_seq, seq, participants,
                  details, media, consent, sent_at, recorded_at, prev_hash, hash)`,
        params.slice(0, 22),
      );
      await em.query(
        `INSERT INTO raw_departments (corp_id, chain_seq, department_ids)
         SELECT $1, x.seq0, x.departments::int[] FROM unnest($2::bigint[], $3::text[]) AS x(seq0, departments)`,
        [params[0], params[1], params[22]],
      );
      await em.query(
        `INSERT INTO raw_search (corp_id, chain_seq, kind, type, conversation_id, conversation_kind,
           sender, participants, sender_departments, has_attachment, sent_at, terms)
         SELECT $1, x.seq0, x.kind, x.type, x.conversation_id, x.conversation_kind, x.sender,
                x.participants::text[], x.departments::int[], x.has_attachment, x.sent_at,
                array_to_tsvector(string_to_array(x.terms, ' '))
           FROM unnest($2::bigint[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::boolean[], $11::timestamptz[], $12::text[])
             AS x(seq0, kind, type, conversation_id, conversation_kind, sender, participants,
                  departments, has_attachment, sent_at, terms)`,
        [
          params[0],
          params[1],
          params[2],
          params[9],
          params[6],
          params[7],
          params[8],
          params[14],
          params[22],
          params[23],
          params[18],
          params[24],
        ],
      );
    });
  }
  const rate = (rows.length / (performance.now() - started)) * 1000;
  return { rate, cpu: cpuPer1000(CpuMeter.since(before, meter?.snapshot() ?? {}), rows.length) };
}

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** The statements PostgreSQL spent most time on, with calls, rows and mean time. */
async function topStatements(db: DataSource): Promise<string[]> {
  const rows = await db.query<
    { query: string; calls: string; rows: string; total: number; mean: number }[]
  >(
    `SELECT regexp_replace(left(query, 110), '\\s+', ' ', 'g') AS query, calls, rows,
            total_exec_time AS total, mean_exec_time AS mean
       FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
      ORDER BY total_exec_time DESC LIMIT 20`,
  );
  await db.query('SELECT pg_stat_statements_reset()');
  return rows.map(
    (r) =>
      `  ${r.total.toFixed(0).padStart(7)} ms ${String(r.calls).padStart(6)} calls ${String(r.rows).padStart(7)} rows ${r.mean.toFixed(2).padStart(7)} ms/call  ${r.query}`,
  );
}

async function loadSearchCorpus(
  writer: ArchiveWriter,
  db: DataSource,
  corpId: CorpId,
  vocab: string[],
) {
  const random = rng(7);
  const conversations = Array.from({ length: 5_000 }, () => randomUUID());
  const start = Date.UTC(2025, 0, 1);
  const span = 365 * 24 * 3600 * 1000;
  const started = performance.now();
  for (let done = 0; done < SEARCH_RECORDS; done += 5_000) {
    await db.transaction(async (em) => {
      for (let i = done; i < Math.min(SEARCH_RECORDS, done + 5_000); i++) {
        const c = Math.floor(random() * conversations.length);
        const record: NewArchiveRecord = {
          corpId,
          kind: 'message',
          eventId: randomUUID(),
          messageId: randomUUID(),
          preMessageId: null,
          conversationId: conversations[c],
          conversationKind: c % 3 === 0 ? 'single' : 'group',
          sender: users[Math.floor(random() * users.length)],
          type: 'text',
          text: messageText(random, vocab),
          mentions: [],
          quoteSeq: 0,
          seq: i + 1,
          participants: [
            users[c % users.length],
            users[(c * 7 + 1) % users.length],
            users[(c * 13 + 2) % users.length],
          ],
          details: {},
          media: [],
          consent: 'not_required',
          sentAt: new Date(start + Math.floor((i / SEARCH_RECORDS) * span)),
        };
        writer.append(em, record);
      }
    });
    if ((done / 5_000) % 20 === 0) say(`  corpus: ${done.toLocaleString('en-US')} records`);
  }
  await db.query('VACUUM ANALYZE archive_search');
  await db.query('VACUUM ANALYZE archive_records');
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'qiwei-bench-compliance-'));
  const postgres = await startEmbeddedPostgres({
    dataDir: join(dataDir, 'pg'),
    port: 5499,
    persistent: false,
    settings: PG_STATEMENTS
      ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' }
      : {},
  });
  // The broker in a process of its own, so its CPU is measured apart from the load generator.
  const broker = await spawnDevKafka(join(dataDir, 'kafka'));
  const kafka = { brokers: [broker.bootstrap], stop: () => broker.stop() };
  // Compliance keeps exports (and archived media) in object storage.
  const s3 = await startEmbeddedS3({ directory: join(dataDir, 's3'), port: 0 });
  const dbName = 'qiwei_compliance_bench';
  await ensureDatabase(postgres.url, dbName);
  const url = databaseUrl(postgres.url, dbName);
  const admin = createKafka({ brokers: kafka.brokers, clientId: 'bench-admin' }).admin();
  await admin.connect();
  await ensureTopics(admin, MESSAGING_TOPICS);
  await admin.disconnect();
  const compliance = startCompliance(url, kafka.brokers, s3);
  const db = createDataSource({
    url,
    applicationName: 'bench',
    entities: [],
    migrations: COMPLIANCE_MIGRATIONS,
  });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch('http://127.0.0.1:4916/health/ready')).ok) break;
      } catch {
        /* starting */
      }
      if (i > 600) throw new Error('compliance did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    await db.initialize();
    const postmaster = Number(
      (await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    meter = new CpuMeter({
      compliance: () => [compliance.pid as number],
      postgres: () => processTree(postmaster),
      kafka: () => [broker.pid],
      'bench (producer)': () => [process.pid],
    });
    await db.query('CREATE TABLE raw_records (LIKE archive_records INCLUDING ALL)');
    await db.query('CREATE TABLE raw_departments (LIKE archive_sender_departments INCLUDING ALL)');
    await db.query('CREATE TABLE raw_search (LIKE archive_search INCLUDING ALL)');
    if (PG_STATEMENTS) {
      await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await db.query('SELECT pg_stat_statements_reset()');
    }
    const random = rng(1);
    const vocab = vocabulary(rng(3));

    say(
      `ingest: ${RUNS} runs of ${INGEST_EVENTS.toLocaleString('en-US')} message.sent events (200 conversations, 12 partitions)`,
    );
    const ingest: IngestFigures[] = [];
    const raw: { rate: number; cpu: Cpu }[] = [];
    const statements: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      ingest.push(await ingestRun(db, kafka.brokers, random, vocab));
      if (PG_STATEMENTS && run === 0) statements.push(...(await topStatements(db)));
      raw.push(await rawRun(db, ingest[run].corpId));
      const cpu = (c: Cpu) =>
        Object.entries(c)
          .map(([k, v]) => `${k} ${Math.round(v)}`)
          .join(', ');
      say(
        `  run ${run + 1} (load ${loadAverage()}): archive ${Math.round(ingest[run].rate)} records/s, ${ingest[run].alerts} alerts (CPU ms/1k: ${cpu(ingest[run].cpu)}), raw INSERT ${Math.round(raw[run].rate)} rows/s (${cpu(raw[run].cpu)})`,
      );
    }
    compliance.kill('SIGTERM');
    await new Promise((r) => (compliance.exitCode !== null ? r(null) : compliance.once('exit', r)));
    say('');
    say('| ingest | records/s (median) | runs |');
    say('| --- | ---: | --- |');
    const rawRate = median(raw.map((r) => r.rate));
    const ingestRate = median(ingest.map((r) => r.rate));
    say(
      `| baseline: raw batched INSERT of the same rows (records, departments, index; 500 per transaction) | ${Math.round(rawRate).toLocaleString('en-US')} | ${raw.map((r) => Math.round(r.rate)).join(' / ')} |`,
    );
    say(
      `| archive from the topic (inbox, chain, index, alert rules) | ${Math.round(ingestRate).toLocaleString('en-US')} (${Math.round((ingestRate / rawRate) * 100)}% of raw) | ${ingest.map((r) => Math.round(r.rate)).join(' / ')} |`,
    );
    say('');
    const groups = Object.keys(ingest[0].cpu);
    say(`| CPU ms per 1,000 records (median of ${RUNS}) | ${groups.join(' | ')} | total |`);
    say(`| --- | ${groups.map(() => '---:').join(' | ')} | ---: |`);
    for (const [name, figures] of [
      ['baseline: raw batched INSERT', raw],
      ['archive from the topic', ingest],
    ] as const) {
      const values = groups.map((g) => median(figures.map((f) => f.cpu[g] ?? 0)));
      say(
        `| ${name} | ${values.map((v) => Math.round(v)).join(' | ')} | ${Math.round(median(figures.map((f) => Object.values(f.cpu).reduce((a, b) => a + b, 0))))} |`,
      );
    }
    if (statements.length) {
      say('');
      say('PostgreSQL statements during ingest run 1 (pg_stat_statements, by total time):');
      for (const line of statements) say(line);
    }
    if (!SEARCH_RECORDS) return;

    const config = {
      COMPLIANCE_SIGNING_KEY: SIGNING_KEY,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_REGION: 'us-east-1',
      ARCHIVE_BUCKET: 'qiwei-compliance-archive',
    } as ComplianceConfig;
    const tx = new TransactionRunner(db);
    const accessLog = new AccessLog(db);
    const index = new PostgresArchiveIndex(db);
    const rules = new AlertRulesService(db, tx, accessLog);
    const alerts = new AlertsService(
      db,
      tx,
      rules,
      new Outbox({ service: 'compliance', lanes: 4 }),
      new Directory(db),
      accessLog,
    );
    const coverage = new Coverage(db);
    const writer = new ArchiveWriter(db, index, alerts, coverage);
    writer.onModuleInit();
    const archive = new ArchiveService(
      db,
      tx,
      index,
      accessLog,
      coverage,
      config,
      new ArchiveStorage(config),
    );
    const corpId = asCorpId(`ww${randomBytes(8).toString('hex')}`);
    say(
      `search corpus: ${SEARCH_RECORDS.toLocaleString('en-US')} messages (${vocab.length.toLocaleString('en-US')}-word Chinese/English vocabulary, phone numbers, order ids)`,
    );
    const loadSeconds = await loadSearchCorpus(writer, db, corpId, vocab);
    say(
      `  loaded through the archive writer in ${loadSeconds.toFixed(0)} s (${Math.round(SEARCH_RECORDS / loadSeconds)} records/s)`,
    );

    const officer: Principal = {
      corpId,
      userId: 'officer',
      roles: ['compliance_officer'],
      tokenId: 'bench',
      issuedAt: new Date(),
    };
    const qr = rng(11);
    const keyword = () => vocab[50 + Math.floor(qr() * 2_000)];
    // The officer searches the whole corp (no department scopes).
    await db.query(
      `INSERT INTO directory_members (corp_id, userid, name, status, roles, updated_at)
       VALUES ($1, 'officer', 'officer', 'active', '{compliance_officer}', now())`,
      [corpId],
    );
    const base = (): Omit<ArchiveQuery, 'corpId' | 'coverage'> => ({
      keywords: { all: [], any: [], phrases: [], exclude: [] },
      senders: [],
      senderDepartments: [],
      kinds: [],
      types: [],
      sort: 'time',
      limit: 20,
    });
    const filters = () => ({
      senders: [users[Math.floor(qr() * users.length)], users[Math.floor(qr() * users.length)]],
      from: new Date(Date.UTC(2025, Math.floor(qr() * 6), 1)),
      to: new Date(Date.UTC(2025, 6 + Math.floor(qr() * 6), 1)),
    });
    const scenarios: [string, () => Omit<ArchiveQuery, 'corpId' | 'coverage'>][] = [
      [
        'one keyword, by time',
        () => ({ ...base(), keywords: { ...base().keywords, all: [keyword()] } }),
      ],
      [
        'two keywords (all), by time',
        () => ({ ...base(), keywords: { ...base().keywords, all: [keyword(), keyword()] } }),
      ],
      [
        'one keyword + sender and 6-month range, by time',
        () => ({ ...base(), ...filters(), keywords: { ...base().keywords, all: [keyword()] } }),
      ],
      [
        'frequent word 理财, by time',
        () => ({ ...base(), keywords: { ...base().keywords, all: ['理财'] } }),
      ],
      [
        'one keyword, by relevance',
        () => ({
          ...base(),
          sort: 'relevance',
          keywords: { ...base().keywords, all: [keyword()] },
        }),
      ],
      [
        'any of two keywords, by relevance',
        () => ({
          ...base(),
          sort: 'relevance',
          keywords: { ...base().keywords, any: [keyword(), keyword()] },
        }),
      ],
      [
        'one keyword + sender and range, by relevance',
        () => ({
          ...base(),
          ...filters(),
          sort: 'relevance',
          keywords: { ...base().keywords, all: [keyword()] },
        }),
      ],
      [
        'frequent word 理财, by relevance',
        () => ({ ...base(), sort: 'relevance', keywords: { ...base().keywords, all: ['理财'] } }),
      ],
      ['no keyword, sender + range, by time', () => ({ ...base(), ...filters() })],
    ];
    const results: string[] = [];
    for (const [name, make] of scenarios) {
      const times: number[] = [];
      let hits = 0;
      for (let i = 0; i < QUERIES; i++) {
        const query = make();
        const started = performance.now();
        const page = await archive.search(officer, query, { bench: i });
        times.push(performance.now() - started);
        hits += page.items.length;
      }
      times.sort((a, b) => a - b);
      results.push(
        `| ${name} | ${percentile(times, 0.5).toFixed(1)} | ${percentile(times, 0.95).toFixed(1)} | ${percentile(times, 0.99).toFixed(1)} | ${(hits / QUERIES).toFixed(1)} |`,
      );
    }
    say('');
    say(
      `| search over ${SEARCH_RECORDS.toLocaleString('en-US')} messages, limit 20, ${QUERIES} queries each | p50 ms | p95 ms | p99 ms | hits/page |`,
    );
    say('| --- | ---: | ---: | ---: | ---: |');
    for (const line of results) say(line);
  } finally {
    if (compliance.exitCode === null) compliance.kill('SIGTERM');
    if (db.isInitialized) await db.destroy();
    await kafka.stop();
    await s3.stop();
    await postgres.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
