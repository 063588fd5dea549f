// npm run bench:compliance — (1) archive ingest from the topic (hash chain, index and alert
// rules included) next to a raw batched INSERT of the same rows into the same tables, measured
// in the same run; (2) search latency over a generated Chinese/English corpus, by time and by
// relevance, with and without filters. Compliance runs as its own process for (1); (2) calls the
// search use case in this process (index query, record fetch, highlights and the access-log
// append; no HTTP or JWT). Embedded PostgreSQL and a dev-kafka broker share the same 2 cores.
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_MESSAGE_TOPIC, MESSAGING_TOPICS } from '@qiwei/contracts';
import { silentLogger, startDevKafka } from '@qiwei/dev-kafka';
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
import type { DataSource } from 'typeorm';
import { AccessLog } from '../src/access-log/access-log';
import { AlertRulesService } from '../src/alerts/alert-rules.service';
import { AlertsService } from '../src/alerts/alerts.service';
import type { NewArchiveRecord } from '../src/archive/archive-record';
import { ArchiveService } from '../src/archive/archive.service';
import { ArchiveWriter } from '../src/archive/archive-writer';
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
  return spawn(process.execPath, [join(REPO_ROOT, 'dist/services/compliance/src/main.js')], {
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
  });
}

async function count(db: DataSource, corpId: string): Promise<number> {
  const [row] = await db.query<{ n: string }[]>(
    'SELECT count(*) AS n FROM archive_records WHERE corp_id = $1',
    [corpId],
  );
  return Number(row.n);
}

/** Records/s from the corp's first archived record to its last. */
async function ingestRun(
  db: DataSource,
  brokers: string[],
  random: () => number,
  vocab: string[],
): Promise<{ rate: number; corpId: string }> {
  const corpId = `ww${randomBytes(8).toString('hex')}`;
  const conversations = Array.from({ length: 200 }, () => randomUUID());
  const producer = createProducer(createKafka({ brokers, clientId: 'bench-producer' }));
  await producer.connect();
  const seqs = new Map<string, number>();
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
    if (first && n >= INGEST_EVENTS)
      return { rate: ((n - first.n) / (now - first.at)) * 1000, corpId };
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The same rows, written with one batched INSERT per 500 into copies of the same tables. */
async function rawRun(db: DataSource, corpId: string): Promise<number> {
  await db.query('TRUNCATE raw_records, raw_search');
  const rows = await db.query<Record<string, unknown>[]>(
    `SELECT r.*, encode(r.prev_hash, 'hex') AS prev_hex, encode(r.hash, 'hex') AS hash_hex,
            array_to_string(tsvector_to_array(s.terms), ' ') AS terms_text
       FROM archive_records r JOIN archive_search s USING (corp_id, chain_seq)
      WHERE r.corp_id = $1 ORDER BY r.chain_seq`,
    [corpId],
  );
  const started = performance.now();
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    await db.transaction(async (em) => {
      await em.query(
        `INSERT INTO raw_records SELECT corp_id, chain_seq + 1000000000, kind, event_id, message_id,
           pre_message_id, conversation_id, conversation_kind, sender, type, text, mentions, quote_seq,
           seq, participants, details, media, consent, sent_at, recorded_at,
           decode(prev_hex, 'hex'), decode(hash_hex, 'hex')
         FROM jsonb_to_recordset($1::jsonb) AS x(corp_id text, chain_seq bigint, kind text,
           event_id text, message_id text, pre_message_id text, conversation_id uuid,
           conversation_kind text, sender text, type text, text text, mentions text[],
           quote_seq bigint, seq bigint, participants text[], details jsonb, media jsonb,
           consent text, sent_at timestamptz, recorded_at timestamptz, prev_hex text, hash_hex text)`,
        [JSON.stringify(batch)],
      );
      await em.query(
        `INSERT INTO raw_search SELECT corp_id, chain_seq + 1000000000, kind, type, conversation_id,
           conversation_kind, sender, participants, sent_at,
           array_to_tsvector(string_to_array(terms_text, ' '))
         FROM jsonb_to_recordset($1::jsonb) AS x(corp_id text, chain_seq bigint, kind text, type text,
           conversation_id uuid, conversation_kind text, sender text, participants text[],
           sent_at timestamptz, terms_text text)`,
        [JSON.stringify(batch)],
      );
    });
  }
  return (rows.length / (performance.now() - started)) * 1000;
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
  });
  const kafka = await startDevKafka({
    port: 0,
    dataDir: join(dataDir, 'kafka'),
    logger: silentLogger,
  });
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
    await db.query('CREATE TABLE raw_records (LIKE archive_records INCLUDING ALL)');
    await db.query('CREATE TABLE raw_search (LIKE archive_search INCLUDING ALL)');
    const random = rng(1);
    const vocab = vocabulary(rng(3));

    say(
      `ingest: ${RUNS} runs of ${INGEST_EVENTS.toLocaleString('en-US')} message.sent events (200 conversations, 12 partitions)`,
    );
    const ingest: number[] = [];
    const raw: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { rate, corpId } = await ingestRun(db, kafka.brokers, random, vocab);
      ingest.push(rate);
      raw.push(await rawRun(db, corpId));
      say(
        `  run ${run + 1}: archive ${Math.round(rate)} records/s, raw INSERT ${Math.round(raw[run])} rows/s`,
      );
    }
    compliance.kill('SIGTERM');
    await new Promise((r) => (compliance.exitCode !== null ? r(null) : compliance.once('exit', r)));

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
    say('| ingest | records/s (median) | runs |');
    say('| --- | ---: | --- |');
    say(
      `| baseline: raw batched INSERT of the same rows (records + index, 500 per statement) | ${Math.round(median(raw)).toLocaleString('en-US')} | ${raw.map((r) => Math.round(r)).join(' / ')} |`,
    );
    say(
      `| archive from the topic (inbox, chain, index, alert rules) | ${Math.round(median(ingest)).toLocaleString('en-US')} (${Math.round((median(ingest) / median(raw)) * 100)}% of raw) | ${ingest.map((r) => Math.round(r)).join(' / ')} |`,
    );
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
