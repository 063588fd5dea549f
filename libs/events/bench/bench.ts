// npm run bench:events — the event pipeline (outbox → relay → Kafka → consumer with inbox) next
// to raw kafkajs produce → consume of the same records, measured in the same run, on embedded
// PostgreSQL and a dev-kafka broker process. BENCH_RUNS / BENCH_EVENTS / BENCH_STEADY_SECONDS
// override the defaults.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { defineTopic, DepartmentCreatedSchema, DepartmentSchema } from '@qiwei/contracts';
import { spawnDevKafka } from '@qiwei/dev-kafka';
import { startEmbeddedPostgres } from '@qiwei/embedded-postgres';
import { createDataSource, databaseUrl, ensureDatabase, runMigrations } from '@qiwei/persistence';
import { createLogger } from '@qiwei/platform';
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
const logger = createLogger({ service: 'bench-events', level: 'warn' });

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Events/s, and CPU time of this process (user + system) per 1,000 events over the same window. */
interface Measured {
  rate: number;
  cpuMs: number;
}

// CPU time is far less sensitive than wall time to other load on the machine: a steadier view
// of what each side costs per event.
function cpuMsPerThousand(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000 / (EVENTS / 1000);
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
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < records.length; i += 500) {
    await producer.send({
      topic: topic.name,
      acks: -1,
      messages: records
        .slice(i, i + 500)
        .map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    });
  }
  const finished = await done;
  const cpuMs = cpuMsPerThousand(cpu);
  await consumer.disconnect();
  await producer.disconnect();
  return { rate: EVENTS / ((finished - started) / 1000), cpuMs };
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
    { ...DEFAULT_RELAY_OPTIONS, databaseUrl: dbUrl },
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
    { ...DEFAULT_CONSUMER_OPTIONS, service: 'bench' },
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
  const outbox = new Outbox({ service: 'bench', lanes: DEFAULT_RELAY_OPTIONS.lanes });
  await writeBacklog(dataSource, outbox, topicFor(name).events[0].type, name);
  const pipeline = await startPipeline(dataSource, dbUrl, brokers, name);
  await pipeline.consumer.start();
  const started = performance.now();
  const cpu = process.cpuUsage();
  await pipeline.relay.start();
  while (pipeline.handled() < EVENTS) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = cpuMsPerThousand(cpu);
  await pipeline.stop();
  return { rate: EVENTS / seconds, cpuMs };
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
  const outbox = new Outbox({ service: 'bench', lanes: DEFAULT_RELAY_OPTIONS.lanes });
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
