// npm run bench:events — the event pipeline (outbox → relay → Kafka → consumer with inbox) next
// to raw kafkajs produce → consume of the same records, measured in the same run, on embedded
// PostgreSQL and a dev-kafka broker process. BENCH_RUNS / BENCH_EVENTS / BENCH_STEADY_SECONDS
// override the defaults; BENCH_PROFILE_DIR=… writes a CPU profile of this process for each
// timed window there (raw-<run>.cpuprofile, pipeline-<run>.cpuprofile, and .heapprofile), with
// GC pauses, which BENCH_GC_STATS=1 prints alone; BENCH_PG_STATS=1 loads
// pg_stat_statements and prints, for each pipeline window, the statements' cost and
// PostgreSQL's CPU by backend.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { defineTopic, DepartmentCreatedSchema, DepartmentSchema } from '@qiwei/contracts';
import { spawnDevKafka } from '@qiwei/dev-kafka';
import { startEmbeddedPostgres } from '@qiwei/embedded-postgres';
import { createDataSource, databaseUrl, ensureDatabase, runMigrations } from '@qiwei/persistence';
import { createLogger } from '@qiwei/platform';
import { CpuMeter, processCpuMs, processTree, type CpuSnapshot } from '@qiwei/testing';
import type { DataSource } from 'typeorm';
import {
  createKafka,
  createProducer,
  CreateEventTables1763800000000,
  OutboxNotifyAfterCommit1765100000000,
  DEFAULT_CONSUMER_OPTIONS,
  DEFAULT_RELAY_OPTIONS,
  encodeEvent,
  ensureTopics,
  EventConsumer,
  Outbox,
  OutboxRelay,
  type NewEvent,
} from '../src';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 30_000);
const STEADY_RATE = 2_000;
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 10);
const KEYS = 64;
// BENCH_RELAY_BATCH / BENCH_CONSUMER_CONCURRENCY / BENCH_CONSUMER_CHUNK /
// BENCH_CONSUMER_PARTITION_BYTES / BENCH_CONSUMER_FETCH_BYTES try other settings.
const RELAY_OPTIONS = {
  ...DEFAULT_RELAY_OPTIONS,
  batchSize: Number(process.env.BENCH_RELAY_BATCH ?? DEFAULT_RELAY_OPTIONS.batchSize),
};
const CONSUMER_OPTIONS = {
  ...DEFAULT_CONSUMER_OPTIONS,
  partitionsConsumedConcurrently: Number(
    process.env.BENCH_CONSUMER_CONCURRENCY ??
      DEFAULT_CONSUMER_OPTIONS.partitionsConsumedConcurrently,
  ),
  chunkSize: Number(process.env.BENCH_CONSUMER_CHUNK ?? DEFAULT_CONSUMER_OPTIONS.chunkSize),
  maxBytesPerPartition: process.env.BENCH_CONSUMER_PARTITION_BYTES
    ? Number(process.env.BENCH_CONSUMER_PARTITION_BYTES)
    : DEFAULT_CONSUMER_OPTIONS.maxBytesPerPartition,
  maxBytes: process.env.BENCH_CONSUMER_FETCH_BYTES
    ? Number(process.env.BENCH_CONSUMER_FETCH_BYTES)
    : DEFAULT_CONSUMER_OPTIONS.maxBytes,
};
const logger = createLogger({ service: 'bench-events', level: 'warn' });

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/**
 * Events/s, and CPU time (user + system) per 1,000 events over the same window: of this process
 * (`cpuMs`), and of each process group (this process, PostgreSQL with its backends, the broker).
 */
interface Measured {
  rate: number;
  cpuMs: number;
  /**
   * CPU of this process's main thread alone (without the GC helper threads): on a quiet
   * machine, the event loop is what saturates first.
   */
  mainThreadMs: number;
  groups: Record<string, number>;
}

/** Set in main once PostgreSQL and the broker run. */
let meter: CpuMeter;
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
/** GC pauses per window (with `node --trace-gc-nvp`, the window markers delimit its lines). */
const GC_STATS = Boolean(PROFILE_DIR) || process.env.BENCH_GC_STATS === '1';
const PG_STATS = process.env.BENCH_PG_STATS === '1';
let postmasterPid = 0;

/**
 * BENCH_PG_STATS: what PostgreSQL spent in a pipeline window, by statement (pg_stat_statements)
 * and by backend (CPU from /proc, named from pg_stat_activity).
 */
async function pgStatsWindow(dataSource: DataSource): Promise<() => Promise<void>> {
  if (!PG_STATS) return async () => undefined;
  await dataSource.query('SELECT pg_stat_statements_reset()');
  const before = new Map(processTree(postmasterPid).map((pid) => [pid, processCpuMs(pid)]));
  return async () => {
    const names = new Map(
      (
        await dataSource.query<{ pid: number; name: string }[]>(
          `SELECT pid, coalesce(nullif(application_name, ''), backend_type) AS name FROM pg_stat_activity`,
        )
      ).map((r) => [r.pid, r.name]),
    );
    const byName = new Map<string, number>();
    for (const pid of processTree(postmasterPid)) {
      const name = pid === postmasterPid ? 'postmaster' : (names.get(pid) ?? 'other');
      const spent = processCpuMs(pid) - (before.get(pid) ?? 0);
      byName.set(name, (byName.get(name) ?? 0) + spent);
    }
    console.log('\nPostgreSQL CPU ms per 1,000 events by backend:');
    for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1]))
      if (ms > 0) console.log(`  ${(ms / (EVENTS / 1000)).toFixed(1).padStart(6)}  ${name}`);
    const statements = await dataSource.query<
      { calls: string; rows: string; ms: number; wal: string; dirtied: string; query: string }[]
    >(
      `SELECT calls, rows, total_exec_time::float8 AS ms, wal_bytes::text AS wal,
              shared_blks_dirtied AS dirtied, regexp_replace(query, '\\s+', ' ', 'g') AS query
         FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12`,
    );
    console.log('statements (exec ms per 1,000 events, calls, rows, WAL KiB, blocks dirtied):');
    for (const s of statements)
      console.log(
        `  ${(s.ms / (EVENTS / 1000)).toFixed(2).padStart(6)}  ${s.calls.padStart(6)} ${s.rows.padStart(7)} ${String(Math.round(Number(s.wal) / 1024)).padStart(7)} ${s.dirtied.padStart(6)}  ${s.query.slice(0, 110)}`,
      );
  };
}

/**
 * The clock and the CPU meters of one timed window. CPU time is far less sensitive than wall
 * time to other load on the machine: a steadier view of what each side costs per event.
 */
async function startWindow(label: string) {
  let session: Session | undefined;
  if (PROFILE_DIR) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 16_384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  const gc = new Map<string, { count: number; ms: number }>();
  const gcObserver = GC_STATS
    ? new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const kind = (entry as unknown as { detail: { kind: number } }).detail.kind;
          const name =
            kind === perfConstants.NODE_PERFORMANCE_GC_MINOR
              ? 'scavenge'
              : kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR
                ? 'mark-compact'
                : kind === perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL
                  ? 'incremental marking'
                  : 'weak callbacks';
          const sum = gc.get(name) ?? { count: 0, ms: 0 };
          sum.count += 1;
          sum.ms += entry.duration;
          gc.set(name, sum);
        }
      })
    : undefined;
  gcObserver?.observe({ entryTypes: ['gc'] });
  if (GC_STATS) console.log(`${label}: window starts`);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const thread = process.threadCpuUsage();
  const snapshot: CpuSnapshot = meter.snapshot();
  return async (finished = performance.now()): Promise<Measured> => {
    const used = process.cpuUsage(cpu);
    const usedByThread = process.threadCpuUsage(thread);
    if (gcObserver) {
      gcObserver.disconnect();
      console.log(
        `${label}: GC pauses ${[...gc].map(([name, { count, ms }]) => `${name} ${count}× ${ms.toFixed(0)} ms`).join(', ')}`,
      );
    }
    const groups = CpuMeter.since(snapshot, meter.snapshot());
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(PROFILE_DIR as string, { recursive: true });
      writeFileSync(join(PROFILE_DIR as string, `${label}.cpuprofile`), JSON.stringify(profile));
      const heap = await session.post('HeapProfiler.stopSampling');
      writeFileSync(
        join(PROFILE_DIR as string, `${label}.heapprofile`),
        JSON.stringify(heap.profile),
      );
      session.disconnect();
    }
    const perThousand = (ms: number) => ms / (EVENTS / 1000);
    return {
      rate: EVENTS / ((finished - started) / 1000),
      cpuMs: perThousand((used.user + used.system) / 1000),
      mainThreadMs: perThousand((usedByThread.user + usedByThread.system) / 1000),
      groups: Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, perThousand(v)])),
    };
  };
}

// Topic names take letters only: run 0 → a, 1 → b, …
const runName = (prefix: string, run: number) => `${prefix}-${String.fromCharCode(97 + run)}`;

const topicFor = (name: string) =>
  defineTopic({
    name: `qiwei.bench.${name}.v1`,
    publisher: 'bench',
    summary: 'benchmark',
    key: 'corp',
    partitions: 6,
    retentionMs: -1,
    events: [
      {
        type: `qiwei.bench.${name}.created.v1`,
        schema: DepartmentCreatedSchema,
        summary: 'created',
      },
    ],
  });

function anEvent(type: string, i: number): NewEvent<typeof DepartmentCreatedSchema> {
  const corp = `ww${(i % KEYS).toString(16).padStart(16, '0')}`;
  return {
    type,
    tenant: corp,
    key: corp,
    subject: `department/${i}`,
    data: {
      department: create(DepartmentSchema, {
        corpId: corp,
        id: i,
        name: `华东区销售部 ${i}`,
        order: i % 10,
        depth: 3,
        path: [1, 7, i],
      }),
    },
  };
}

/**
 * Raw kafkajs: the same encoded records produced (idempotent producer, acks=all, batches of 500)
 * and consumed by a joined consumer group; the clock starts when the consumer has joined.
 */
async function rawRun(brokers: string[], run: number): Promise<Measured> {
  const kafka = createKafka({ brokers, clientId: 'bench-raw' });
  const topic = topicFor(runName('raw', run));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic]);
  await admin.disconnect();
  const records = Array.from({ length: EVENTS }, (_, i) =>
    encodeEvent(topic, '/qiwei/bench', anEvent(topic.events[0].type, i)),
  );
  const producer = createProducer(kafka);
  const consumer = kafka.consumer({ groupId: `raw-${run}` });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: topic.name, fromBeginning: true });
  let received = 0;
  let finish: (at: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));
  // run() resolves once the consumer has joined its group: like the pipeline's consumer, whose
  // start() is awaited before its clock starts, the join is not part of the timed window.
  await consumer.run({
    eachBatch: async ({ batch }) => {
      received += batch.messages.length;
      if (received >= EVENTS) finish(performance.now());
    },
  });
  const stop = await startWindow(`raw-${run}`);
  for (let i = 0; i < records.length; i += 500) {
    await producer.send({
      topic: topic.name,
      acks: -1,
      messages: records
        .slice(i, i + 500)
        .map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    });
  }
  const measured = await stop(await done);
  await consumer.disconnect();
  await producer.disconnect();
  return measured;
}

interface Pipeline {
  relay: OutboxRelay;
  consumer: EventConsumer;
  handled: () => number;
  latencies: number[];
  stop(): Promise<void>;
}

async function startPipeline(
  dataSource: DataSource,
  dbUrl: string,
  brokers: string[],
  name: string,
): Promise<Pipeline> {
  const kafka = createKafka({ brokers, clientId: `bench-${name}` });
  const topic = topicFor(name);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic]);
  await admin.disconnect();
  const producer = createProducer(kafka);
  await producer.connect();
  const relay = new OutboxRelay(
    dataSource,
    producer,
    { ...RELAY_OPTIONS, databaseUrl: dbUrl },
    logger,
  );
  let handled = 0;
  const latencies: number[] = [];
  const consumer = new EventConsumer(
    kafka,
    dataSource,
    producer,
    {
      name,
      topic,
      // The handler does nothing but exist: the figures are the pipeline's own cost (inbox included).
      handle: async (event) => {
        handled += 1;
        latencies.push(Date.now() - event.time.getTime());
      },
    },
    { ...CONSUMER_OPTIONS, service: 'bench' },
    logger,
  );
  return {
    relay,
    consumer,
    handled: () => handled,
    latencies,
    async stop() {
      await consumer.stop();
      await relay.stop();
      await producer.disconnect();
    },
  };
}

async function writeBacklog(
  dataSource: DataSource,
  outbox: Outbox,
  type: string,
  name: string,
): Promise<void> {
  const topic = topicFor(name);
  for (let i = 0; i < EVENTS; i += 500) {
    await dataSource.transaction(async (manager) => {
      for (let j = i; j < Math.min(i + 500, EVENTS); j++)
        await outbox.publish(manager, topic, anEvent(type, j));
    });
  }
}

/** Full speed: a backlog of EVENTS committed events, drained by the relay and handled. */
async function pipelineRun(
  dataSource: DataSource,
  dbUrl: string,
  brokers: string[],
  run: number,
): Promise<Measured> {
  const name = runName('full', run);
  const outbox = new Outbox({ service: 'bench', lanes: RELAY_OPTIONS.lanes });
  await writeBacklog(dataSource, outbox, topicFor(name).events[0].type, name);
  const pipeline = await startPipeline(dataSource, dbUrl, brokers, name);
  await pipeline.consumer.start();
  const pgStats = await pgStatsWindow(dataSource);
  const stop = await startWindow(`pipeline-${run}`);
  await pipeline.relay.start();
  while (pipeline.handled() < EVENTS) await new Promise((r) => setTimeout(r, 5));
  const measured = await stop();
  await pgStats();
  await pipeline.stop();
  return measured;
}

/** Steady load: transactions of 20 events every 10 ms for STEADY_SECONDS; commit-to-handled latency. */
async function steadyRun(
  dataSource: DataSource,
  dbUrl: string,
  brokers: string[],
  run: number,
): Promise<number[]> {
  const name = runName('steady', run);
  const topic = topicFor(name);
  const outbox = new Outbox({ service: 'bench', lanes: RELAY_OPTIONS.lanes });
  const pipeline = await startPipeline(dataSource, dbUrl, brokers, name);
  await pipeline.consumer.start();
  await pipeline.relay.start();
  const total = STEADY_RATE * STEADY_SECONDS;
  const perTick = 20;
  const tickMs = (perTick / STEADY_RATE) * 1000;
  const started = performance.now();
  for (let i = 0; i < total; i += perTick) {
    const due = started + (i / perTick) * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await dataSource.transaction(async (manager) => {
      for (let j = i; j < i + perTick; j++)
        await outbox.publish(manager, topic, anEvent(topic.events[0].type, j));
    });
  }
  while (pipeline.handled() < total) await new Promise((r) => setTimeout(r, 5));
  await pipeline.stop();
  return pipeline.latencies;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qiwei-bench-events-'));
  const postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'pg'),
    port: 5497,
    persistent: false,
    settings: PG_STATS
      ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' }
      : {},
  });
  const broker = await spawnDevKafka(join(dir, 'kafka'), { DEV_KAFKA_DEFAULT_PARTITIONS: '6' });
  await ensureDatabase(postgres.url, 'bench_events');
  const dbUrl = databaseUrl(postgres.url, 'bench_events');
  const dataSource = createDataSource({
    url: dbUrl,
    applicationName: 'bench-events',
    entities: [],
    migrations: [CreateEventTables1763800000000, OutboxNotifyAfterCommit1765100000000],
    poolSize: 10,
  });
  await dataSource.initialize();
  await runMigrations(dataSource);
  if (PG_STATS) await dataSource.query('CREATE EXTENSION pg_stat_statements');
  postmasterPid = Number(readFileSync(join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  meter = new CpuMeter({
    bench: () => [process.pid],
    postgres: () => processTree(postmasterPid),
    kafka: () => [broker.pid],
  });
  const brokers = [broker.bootstrap];
  try {
    const raw: Measured[] = [];
    const pipeline: Measured[] = [];
    for (let run = 0; run < RUNS; run++) {
      raw.push(await rawRun(brokers, run));
      pipeline.push(await pipelineRun(dataSource, dbUrl, brokers, run));
    }
    const latencies = (await steadyRun(dataSource, dbUrl, brokers, 0)).sort((a, b) => a - b);
    const rawMedian = median(raw.map((m) => m.rate));
    const pipelineMedian = median(pipeline.map((m) => m.rate));
    const rates = (ms: Measured[]) => ms.map((m) => Math.round(m.rate)).join(', ');
    const cpu = (ms: Measured[]) =>
      `CPU ms per 1,000 events: median ${median(ms.map((m) => m.cpuMs)).toFixed(1)} (${ms.map((m) => m.cpuMs.toFixed(1)).join(', ')})`;
    console.log(
      `\nevents benchmark: ${EVENTS.toLocaleString('en-US')} events × ${RUNS} runs (median), ${KEYS} keys, 6 partitions\n`,
    );
    console.log('| measurement | events/s | notes |');
    console.log('| --- | ---: | --- |');
    console.log(
      `| baseline: raw kafkajs produce (acks=all, batches of 500) → consume | ${Math.round(rawMedian).toLocaleString('en-US')} | runs: ${rates(raw)}; ${cpu(raw)} |`,
    );
    console.log(
      `| outbox → relay → Kafka → consumer with inbox | ${Math.round(pipelineMedian).toLocaleString('en-US')} | ${((pipelineMedian / rawMedian) * 100).toFixed(0)}% of raw; runs: ${rates(pipeline)}; ${cpu(pipeline)} |`,
    );
    console.log('\nCPU ms per 1,000 events by process (median of the runs; runs in brackets):\n');
    const groups = Object.keys(raw[0].groups);
    console.log(`| side | bench main thread | ${groups.join(' | ')} | total |`);
    console.log(`| --- | ---: | ${groups.map(() => '---:').join(' | ')} | ---: |`);
    for (const [label, ms] of [
      ['raw kafkajs', raw],
      ['pipeline', pipeline],
    ] as const) {
      const cell = (values: number[]) =>
        `${median(values).toFixed(1)} (${values.map((v) => v.toFixed(1)).join(' / ')})`;
      const totals = ms.map((m) => Object.values(m.groups).reduce((a, b) => a + b, 0));
      console.log(
        `| ${label} | ${cell(ms.map((m) => m.mainThreadMs))} | ${groups.map((g) => cell(ms.map((m) => m.groups[g]))).join(' | ')} | ${cell(totals)} |`,
      );
    }
    console.log(
      `\nsteady ${STEADY_RATE.toLocaleString('en-US')} events/s for ${STEADY_SECONDS} s: commit-to-handled latency p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms, max ${latencies[latencies.length - 1]} ms (${latencies.length} events)`,
    );
  } finally {
    await dataSource.destroy();
    await broker.stop();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
