// npm run bench:events — the event pipeline (outbox → relay → Kafka → consumer with inbox) next
// to raw kafkajs produce → consume of the same records, measured in the same run, on embedded
// PostgreSQL and a dev-kafka broker process. Each relay mode (BENCH_RELAY_MODES, default
// `inline,worker`: the relay on the main thread, or in its worker thread) runs on a database of
// its own with a relay started once and kept running, as in a service; a run writes its backlog
// while the running relay is held off its lanes (the batch lane locks, taken from another
// session), and the clock starts when they are released. One untimed warm-up round first
// (BENCH_WARMUP_ROUNDS). BENCH_RUNS / BENCH_EVENTS / BENCH_STEADY_SECONDS override the defaults;
// BENCH_PROFILE_DIR=… writes a CPU profile of the main thread for each
// timed window there (raw-<run>.cpuprofile, pipeline-<mode>-<run>.cpuprofile, and .heapprofile), with
// GC pauses, which BENCH_GC_STATS=1 prints alone; BENCH_PG_STATS=1 loads
// pg_stat_statements and prints, for each pipeline window, the statements' cost and
// PostgreSQL's CPU by backend.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import {
  constants as perfConstants,
  monitorEventLoopDelay,
  PerformanceObserver,
} from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { defineTopic, DepartmentCreatedSchema, DepartmentSchema } from '@qiwei/contracts';
import { spawnDevKafka } from '@qiwei/dev-kafka';
import { startEmbeddedPostgres } from '@qiwei/embedded-postgres';
import { createDataSource, databaseUrl, ensureDatabase, runMigrations } from '@qiwei/persistence';
import { createLogger } from '@qiwei/platform';
import { CpuMeter, processCpuMs, processTree, type CpuSnapshot } from '@qiwei/testing';
import { Client } from 'pg';
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
  EventMetrics,
  Outbox,
  type PublishObserver,
  type ReceivedEvent,
  OutboxRelay,
  OutboxRelayWorker,
  type NewEvent,
} from '../src';
import { Registry } from 'prom-client';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 30_000);
const STEADY_RATE = 2_000;
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 10);
/** Steady runs per mode (the modes take turns going first); BENCH_RUNS=0 runs only these. */
const STEADY_ROUNDS = Number(process.env.BENCH_STEADY_ROUNDS ?? 1);
/** BENCH_STEADY_DETAIL=1: per-second maxima and the slowest events of each steady run. */
const STEADY_DETAIL = process.env.BENCH_STEADY_DETAIL === '1';
const KEYS = 64;
// BENCH_RELAY_BATCH / BENCH_RELAY_LINGER_MS / BENCH_CONSUMER_CONCURRENCY / BENCH_CONSUMER_CHUNK /
// BENCH_CONSUMER_PARTITION_BYTES / BENCH_CONSUMER_FETCH_BYTES try other settings.
const RELAY_OPTIONS = {
  ...DEFAULT_RELAY_OPTIONS,
  batchSize: Number(process.env.BENCH_RELAY_BATCH ?? DEFAULT_RELAY_OPTIONS.batchSize),
  lingerMs: Number(process.env.BENCH_RELAY_LINGER_MS ?? DEFAULT_RELAY_OPTIONS.lingerMs),
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
/** Untimed rounds (raw and every mode) before the measured ones. */
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 1);
/**
 * BENCH_RELAY_MODES: the relay modes measured, each run next to the same raw run
 * (OUTBOX_RELAY_MODE: `worker` — its own thread —, `inline` — on the main thread).
 */
type RelayMode = 'worker' | 'inline';
const RELAY_MODES: RelayMode[] = (process.env.BENCH_RELAY_MODES ?? 'inline,worker')
  .split(',')
  .map((mode) => {
    const trimmed = mode.trim();
    if (trimmed !== 'worker' && trimmed !== 'inline')
      throw new Error(`unknown relay mode ${trimmed}`);
    return trimmed;
  });

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
  /** CPU of the relay's worker thread (worker mode; 0 inline). */
  relayThreadMs: number;
  groups: Record<string, number>;
}

/**
 * CPU of this process's relay worker threads by thread id (/proc; the worker is named
 * `qiwei-outbox-relay`, which Linux cuts to 15 characters).
 */
function relayThreadsCpuMs(): Map<string, number> {
  const threads = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== 'qiwei-outbox-re')
        continue;
    } catch {
      continue; // the thread ended meanwhile
    }
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks (100 per second on Linux).
    threads.set(tid, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return threads;
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
  const relayThreadsBefore = relayThreadsCpuMs();
  const snapshot: CpuSnapshot = meter.snapshot();
  return async (finished = performance.now()): Promise<Measured> => {
    const used = process.cpuUsage(cpu);
    const usedByThread = process.threadCpuUsage(thread);
    const relayThreadsAfter = relayThreadsCpuMs();
    let relayThreadMs = 0;
    for (const [tid, ms] of relayThreadsAfter)
      relayThreadMs += ms - (relayThreadsBefore.get(tid) ?? 0);
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
      relayThreadMs: perThousand(relayThreadMs),
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

/**
 * The relay of one mode, started once and kept running for the whole benchmark, as in a service
 * (a worker thread's start and the compilation of its code are start-up costs, not per-event
 * ones). Each mode has a database of its own, so the two relays never share lanes.
 */
interface ModeSetup {
  mode: RelayMode;
  dataSource: DataSource;
  dbUrl: string;
  relay: OutboxRelay | OutboxRelayWorker;
  /** Milliseconds until the relay's start() resolved. */
  relayStartMs: number;
  /** Holds the relay's per-batch lane locks while a backlog is written (see gateLanes). */
  gate: Client;
  /**
   * While set, the relay's publish observations (outbox write to Kafka acknowledgement, in ms)
   * are collected here besides the metrics: a steady run's publish half.
   */
  publishLatencies?: number[];
  stop(): Promise<void>;
}

async function setUpMode(
  postgresUrl: string,
  brokers: string[],
  mode: RelayMode,
): Promise<ModeSetup> {
  const database = `bench_events_${mode}`;
  await ensureDatabase(postgresUrl, database);
  const dbUrl = databaseUrl(postgresUrl, database);
  const dataSource = createDataSource({
    url: dbUrl,
    applicationName: 'bench-events',
    entities: [],
    migrations: [CreateEventTables1763800000000, OutboxNotifyAfterCommit1765100000000],
    poolSize: 10,
  });
  await dataSource.initialize();
  await runMigrations(dataSource);
  if (PG_STATS) await dataSource.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const kafka = createKafka({ brokers, clientId: `bench-relay-${mode}` });
  const producer = createProducer(kafka);
  await producer.connect();
  // Publish metrics recorded as a service records them (in worker mode: sent to this thread).
  const registryMetrics = new EventMetrics(new Registry());
  const setupRef: { setup?: ModeSetup } = {};
  const metrics: PublishObserver = {
    observePublished(topic, latencies) {
      registryMetrics.observePublished(topic, latencies);
      const collected = setupRef.setup?.publishLatencies;
      if (collected) for (const seconds of latencies) collected.push(seconds * 1000);
    },
  };
  const relay =
    mode === 'worker'
      ? new OutboxRelayWorker(
          dataSource,
          { relay: { ...RELAY_OPTIONS, databaseUrl: dbUrl }, brokers, clientId: 'bench-relay' },
          logger,
          metrics,
        )
      : new OutboxRelay(
          dataSource,
          producer,
          { ...RELAY_OPTIONS, databaseUrl: dbUrl },
          logger,
          metrics,
        );
  const starting = performance.now();
  await relay.start();
  const relayStartMs = performance.now() - starting;
  while (relay.lanes().length < RELAY_OPTIONS.lanes) await new Promise((r) => setTimeout(r, 5));
  const gate = new Client({ connectionString: dbUrl, application_name: 'bench-gate' });
  gate.on('error', (error) => logger.warn({ err: error }, 'bench gate connection lost'));
  await gate.connect();
  const setup: ModeSetup = {
    mode,
    dataSource,
    dbUrl,
    relay,
    relayStartMs,
    gate,
    async stop() {
      await relay.stop();
      await producer.disconnect();
      await gate.end();
      await dataSource.destroy();
    },
  };
  setupRef.setup = setup;
  return setup;
}

// The relay's per-batch lane lock (transaction-scoped advisory lock, class 4240003, per lane):
// held from another session, a running relay's batches wait for it.
const BATCH_LOCK_CLASS = 4_240_003;

/** Keeps the running relay from publishing until the returned function is called. */
async function gateLanes(setup: ModeSetup): Promise<() => Promise<void>> {
  for (let lane = 0; lane < RELAY_OPTIONS.lanes; lane++)
    await setup.gate.query('SELECT pg_advisory_lock($1, $2)', [BATCH_LOCK_CLASS, lane]);
  return async () => {
    await setup.gate.query('SELECT pg_advisory_unlock_all()');
  };
}

interface Consumption {
  consumer: EventConsumer;
  handled: () => number;
  /** Per handled event (in the order handled): the time handled (epoch ms) and the event. */
  handledAt: number[];
  events: ReceivedEvent[];
}

/** A consumer (with inbox) of the run's topic, joined to its group. */
async function startConsumer(
  setup: ModeSetup,
  brokers: string[],
  name: string,
): Promise<Consumption> {
  const kafka = createKafka({ brokers, clientId: `bench-${name}` });
  const topic = topicFor(name);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic]);
  await admin.disconnect();
  let handled = 0;
  const handledAt: number[] = [];
  const events: ReceivedEvent[] = [];
  const consumer = new EventConsumer(
    kafka,
    setup.dataSource,
    // Dead letters only (none in this benchmark): the relay's producer is its own.
    createProducer(kafka),
    {
      name,
      topic,
      // The handler does nothing but exist: the figures are the pipeline's own cost (inbox included).
      handle: async (event) => {
        handled += 1;
        handledAt.push(Date.now());
        events.push(event);
      },
    },
    { ...CONSUMER_OPTIONS, service: 'bench' },
    logger,
  );
  await consumer.start();
  return { consumer, handled: () => handled, handledAt, events };
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

/**
 * Full speed: a backlog of EVENTS committed events (written while the running relay is held
 * off its lanes), then released at the start of the window, drained by the relay and handled.
 */
async function pipelineRun(
  setup: ModeSetup,
  brokers: string[],
  run: number,
  label: string,
): Promise<Measured> {
  const name = runName(`full-${setup.mode}`, run);
  const outbox = new Outbox({ service: 'bench', lanes: RELAY_OPTIONS.lanes });
  const release = await gateLanes(setup);
  await writeBacklog(setup.dataSource, outbox, topicFor(name).events[0].type, name);
  const consumption = await startConsumer(setup, brokers, name);
  const pgStats = await pgStatsWindow(setup.dataSource);
  const stop = await startWindow(`pipeline-${setup.mode}-${label}`);
  await release();
  while (consumption.handled() < EVENTS) await new Promise((r) => setTimeout(r, 5));
  const measured = await stop();
  await pgStats();
  await consumption.consumer.stop();
  return measured;
}

/** What a steady run measured (milliseconds; each list sorted). */
interface SteadyResult {
  mode: RelayMode;
  round: number;
  /** The writing transaction's COMMIT returning to the consumer's handler: the goal's measure. */
  latencies: number[];
  /** The event's write (ce_time, set in its transaction) to its handler: commit time included. */
  fromWrite: number[];
  /** COMMIT returned to the produce request's encoding (the record's Kafka timestamp). */
  toSent: number[];
  /** Kafka timestamp to the handler (the broker, the fetch, the consumer's decoding and inbox). */
  sentToHandled: number[];
  /** The relay's outbox write (created_at, the transaction's start) to Kafka's acknowledgement. */
  published: number[];
  /** Each writing transaction's duration. */
  commits: number[];
  /** Events written per second, over the writing window. */
  writeRate: number;
  /** The main thread's event-loop delay over the run: p99 and max. */
  loopDelay: { p99: number; max: number };
  /**
   * CPU ms per 1,000 events over the run, by process group, the main thread and the relay's
   * thread: far steadier than latency on a shared machine, it shows what the pipeline costs.
   */
  cpu: Record<string, number>;
  /** Per second of the run (by commit time): the slowest commit-to-handled latency. */
  perSecondMax: number[];
  /** The slowest events: when committed (ms into the run), latency, and its halves. */
  slowest: { atMs: number; latency: number; toSent: number; sentToHandled: number }[];
  loadAverage: number;
}

/**
 * Steady load: every 10 ms, on schedule, a transaction writing 20 events (2,000 events/s),
 * whether or not the previous one has committed (as concurrent requests of a service would), on
 * the DataSource's pool. Latency is measured from each transaction's COMMIT returning to the
 * consumer's handler, and split at the record's Kafka timestamp (the relay's produce request).
 */
async function steadyRun(
  setup: ModeSetup,
  brokers: string[],
  round: number,
): Promise<SteadyResult> {
  const name = runName(`steady-${setup.mode}`, round);
  const topic = topicFor(name);
  const outbox = new Outbox({ service: 'bench', lanes: RELAY_OPTIONS.lanes });
  const consumption = await startConsumer(setup, brokers, name);
  const total = STEADY_RATE * STEADY_SECONDS;
  const perTick = 20;
  const tickMs = (perTick / STEADY_RATE) * 1000;
  const ticks = total / perTick;
  const published: number[] = [];
  setup.publishLatencies = published;
  const commits: number[] = [];
  /** Epoch ms at which each tick's COMMIT returned. */
  const committedAt = new Array<number>(ticks);
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const cpuBefore = meter.snapshot();
  const threadBefore = process.threadCpuUsage();
  const relayThreadsBefore = relayThreadsCpuMs();
  const startedAt = Date.now();
  const started = performance.now();
  const writes: Promise<void>[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    const wait = started + tick * tickMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const first = tick * perTick;
    const begun = performance.now();
    writes.push(
      setup.dataSource
        .transaction(async (manager) => {
          for (let j = first; j < first + perTick; j++)
            await outbox.publish(manager, topic, anEvent(topic.events[0].type, j));
        })
        .then(() => {
          committedAt[tick] = Date.now();
          commits.push(performance.now() - begun);
        }),
    );
  }
  await Promise.all(writes);
  const writeRate = total / ((performance.now() - started) / 1000);
  while (consumption.handled() < total) await new Promise((r) => setTimeout(r, 5));
  loopDelay.disable();
  const perThousand = (ms: number) => ms / (total / 1000);
  const thread = process.threadCpuUsage(threadBefore);
  let relayThreadMs = 0;
  for (const [tid, ms] of relayThreadsCpuMs())
    relayThreadMs += ms - (relayThreadsBefore.get(tid) ?? 0);
  const cpu: Record<string, number> = {
    'main thread': perThousand((thread.user + thread.system) / 1000),
    'relay thread': perThousand(relayThreadMs),
  };
  for (const [group, ms] of Object.entries(CpuMeter.since(cpuBefore, meter.snapshot())))
    cpu[group] = perThousand(ms);
  setup.publishLatencies = undefined;
  await consumption.consumer.stop();
  const latencies: number[] = [];
  const fromWrite: number[] = [];
  const toSent: number[] = [];
  const sentToHandled: number[] = [];
  const perSecondMax: number[] = [];
  const detail: SteadyResult['slowest'] = [];
  consumption.events.forEach((event, k) => {
    const handledAt = consumption.handledAt[k];
    const index = Number((event.data as { department?: { id: number } }).department?.id);
    const commit = committedAt[Math.floor(index / perTick)];
    const sent = event.timestampMs ?? NaN;
    const latency = handledAt - commit;
    latencies.push(latency);
    fromWrite.push(handledAt - event.time.getTime());
    toSent.push(sent - commit);
    sentToHandled.push(handledAt - sent);
    const atMs = commit - startedAt;
    const second = Math.max(0, Math.floor(atMs / 1000));
    perSecondMax[second] = Math.max(perSecondMax[second] ?? 0, latency);
    detail.push({ atMs, latency, toSent: sent - commit, sentToHandled: handledAt - sent });
  });
  const sort = (values: number[]) => [...values].sort((a, b) => a - b);
  return {
    mode: setup.mode,
    round,
    latencies: sort(latencies),
    fromWrite: sort(fromWrite),
    toSent: sort(toSent),
    sentToHandled: sort(sentToHandled),
    published: sort(published),
    commits: sort(commits),
    writeRate,
    loopDelay: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    cpu,
    perSecondMax: Array.from(perSecondMax, (v) => v ?? 0),
    slowest: detail.sort((a, b) => b.latency - a.latency).slice(0, 5),
    loadAverage: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
  };
}

function printSteady(result: SteadyResult): void {
  const pct = (values: number[], p: number) => (values.length ? percentile(values, p) : NaN);
  const trio = (values: number[]) =>
    `${pct(values, 0.5).toFixed(0)} / ${pct(values, 0.99).toFixed(0)} / ${(values[values.length - 1] ?? NaN).toFixed(0)}`;
  console.log(
    `steady ${STEADY_RATE.toLocaleString('en-US')} events/s for ${STEADY_SECONDS} s, relay ${result.mode} (round ${result.round}, load ${result.loadAverage.toFixed(2)}, written at ${Math.round(result.writeRate).toLocaleString('en-US')}/s): commit-to-handled p50 / p99 / max ${trio(result.latencies)} ms (${result.latencies.length} events)`,
  );
  console.log(
    `  p50 / p99 / max ms: commit-to-sent ${trio(result.toSent)}, sent-to-handled ${trio(result.sentToHandled)}, write-to-handled ${trio(result.fromWrite)}, write-to-acknowledged ${trio(result.published)}, transactions ${trio(result.commits)}; main event-loop delay p99 ${result.loopDelay.p99.toFixed(0)} / max ${result.loopDelay.max.toFixed(0)}`,
  );
  console.log(
    `  CPU ms per 1,000 events: ${Object.entries(result.cpu)
      .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
      .join(', ')}`,
  );
  if (STEADY_DETAIL) {
    console.log(`  slowest per second: ${result.perSecondMax.join(' ')}`);
    console.log(
      `  slowest events (committed at ms: latency = to sent + sent to handled): ${result.slowest.map((e) => `${e.atMs}: ${e.latency} = ${e.toSent} + ${e.sentToHandled}`).join(', ')}`,
    );
  }
}

/** The full-speed runs' table and CPU per event. */
function printThroughput(
  raw: Measured[],
  pipelines: Map<RelayMode, Measured[]>,
  ratios: Map<RelayMode, number[]>,
  setups: ModeSetup[],
): void {
  const rawMedian = median(raw.map((m) => m.rate));
  const rates = (ms: Measured[]) => ms.map((m) => Math.round(m.rate)).join(', ');
  const cpu = (ms: Measured[]) =>
    `CPU ms per 1,000 events: median ${median(ms.map((m) => m.cpuMs)).toFixed(1)} (${ms.map((m) => m.cpuMs.toFixed(1)).join(', ')})`;
  console.log(
    `\nevents benchmark: ${EVENTS.toLocaleString('en-US')} events × ${RUNS} runs (median), ${KEYS} keys, 6 partitions, relay modes ${RELAY_MODES.join(', ')}\n`,
  );
  console.log('| measurement | events/s | notes |');
  console.log('| --- | ---: | --- |');
  console.log(
    `| baseline: raw kafkajs produce (acks=all, batches of 500) → consume | ${Math.round(rawMedian).toLocaleString('en-US')} | runs: ${rates(raw)}; ${cpu(raw)} |`,
  );
  for (const mode of RELAY_MODES) {
    const pipeline = pipelines.get(mode) ?? [];
    const pipelineMedian = median(pipeline.map((m) => m.rate));
    const perRun = ratios.get(mode) ?? [];
    console.log(
      `| outbox → relay (${mode}) → Kafka → consumer with inbox | ${Math.round(pipelineMedian).toLocaleString('en-US')} | ${((pipelineMedian / rawMedian) * 100).toFixed(0)}% of raw (per-run ratios: median ${(median(perRun) * 100).toFixed(0)}%, ${perRun.map((r) => (r * 100).toFixed(0)).join(' / ')}); runs: ${rates(pipeline)}; ${cpu(pipeline)}; relay started once in ${setups.find((x) => x.mode === mode)?.relayStartMs.toFixed(0)} ms |`,
    );
  }
  console.log('\nCPU ms per 1,000 events by process (median of the runs; runs in brackets):\n');
  const groups = Object.keys(raw[0].groups);
  console.log(`| side | bench main thread | relay worker thread | ${groups.join(' | ')} | total |`);
  console.log(`| --- | ---: | ---: | ${groups.map(() => '---:').join(' | ')} | ---: |`);
  for (const [label, ms] of [
    ['raw kafkajs', raw] as const,
    ...RELAY_MODES.map((mode) => [`pipeline (${mode})`, pipelines.get(mode) ?? []] as const),
  ]) {
    const cell = (values: number[]) =>
      `${median(values).toFixed(1)} (${values.map((v) => v.toFixed(1)).join(' / ')})`;
    const totals = ms.map((m) => Object.values(m.groups).reduce((a, b) => a + b, 0));
    console.log(
      `| ${label} | ${cell(ms.map((m) => m.mainThreadMs))} | ${cell(ms.map((m) => m.relayThreadMs))} | ${groups.map((g) => cell(ms.map((m) => m.groups[g]))).join(' | ')} | ${cell(totals)} |`,
    );
  }
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
  postmasterPid = Number(readFileSync(join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  meter = new CpuMeter({
    bench: () => [process.pid],
    postgres: () => processTree(postmasterPid),
    kafka: () => [broker.pid],
  });
  const brokers = [broker.bootstrap];
  const setups: ModeSetup[] = [];
  try {
    for (const mode of RELAY_MODES) setups.push(await setUpMode(postgres.url, brokers, mode));
    // Warm-up rounds (not reported): every side's code compiled before the clock counts.
    for (let round = 0; round < WARMUP_ROUNDS; round++) {
      await rawRun(brokers, RUNS + round);
      for (const setup of setups) await pipelineRun(setup, brokers, RUNS + round, 'warmup');
    }
    const raw: Measured[] = [];
    const pipelines = new Map<RelayMode, Measured[]>(RELAY_MODES.map((mode) => [mode, []]));
    /** Each pipeline run against the raw run of the same round. */
    const ratios = new Map<RelayMode, number[]>(RELAY_MODES.map((mode) => [mode, []]));
    for (let run = 0; run < RUNS; run++) {
      const rawRunMeasured = await rawRun(brokers, run);
      raw.push(rawRunMeasured);
      // The modes take turns going first, so neither always runs right after the raw side.
      const order = setups.map((_, i) => setups[(i + run) % setups.length]);
      for (const setup of order) {
        const measured = await pipelineRun(setup, brokers, run, String(run));
        pipelines.get(setup.mode)?.push(measured);
        ratios.get(setup.mode)?.push(measured.rate / rawRunMeasured.rate);
      }
    }
    const steady: SteadyResult[] = [];
    for (let round = 0; round < STEADY_ROUNDS; round++) {
      const order = setups.map((_, i) => setups[(i + round) % setups.length]);
      for (const setup of order) {
        const result = await steadyRun(setup, brokers, round);
        steady.push(result);
        printSteady(result);
      }
    }
    if (RUNS > 0) printThroughput(raw, pipelines, ratios, setups);
    console.log('');
    for (const result of steady) printSteady(result);
  } finally {
    for (const setup of setups) await setup.stop();
    await broker.stop();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
