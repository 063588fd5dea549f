// Throughput benchmark: kafkajs against a standalone dev-kafka process (so client and broker
// use separate cores, as in `npm start`), next to a raw append+fsync baseline of the same bytes.
// Run with `npm run bench:dev-kafka`; BENCH_RUNS / BENCH_MESSAGES override the defaults.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { spawnDevKafka } from '../src';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const BATCH = 1000;
const MESSAGE_BYTES = 1024;
const PARTITIONS = 3;

interface Figures {
  seconds: number;
  messages: number;
}

function rate(f: Figures): { msgs: number; mb: number } {
  return {
    msgs: f.messages / f.seconds,
    mb: (f.messages * MESSAGE_BYTES) / f.seconds / 1024 / 1024,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function benchKafka(
  run: number,
  value: Buffer,
): Promise<{ produce: Figures; consume: Figures }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-kafka-bench-'));
  const broker = await spawnDevKafka(dataDir);
  try {
    const kafka = new Kafka({
      clientId: 'bench',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'bench', numPartitions: PARTITIONS }] });
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    const batch = Array.from({ length: BATCH }, () => ({ value }));
    const produceStart = process.hrtime.bigint();
    for (let sent = 0; sent < MESSAGES; sent += BATCH)
      await producer.send({ topic: 'bench', acks: -1, messages: batch });
    const produceSeconds = Number(process.hrtime.bigint() - produceStart) / 1e9;
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `bench-${run}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'bench', fromBeginning: true });
    let received = 0;
    let consumeStart = 0n;
    const done = new Promise<bigint>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch: b }) => {
          if (consumeStart === 0n) consumeStart = process.hrtime.bigint();
          received += b.messages.length;
          if (received >= MESSAGES) resolve(process.hrtime.bigint());
        },
      });
    });
    const consumeEnd = await done;
    const consumeSeconds = Number(consumeEnd - consumeStart) / 1e9;
    await consumer.disconnect();
    return {
      produce: { seconds: produceSeconds, messages: MESSAGES },
      consume: { seconds: consumeSeconds, messages: received },
    };
  } finally {
    await broker.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The floor under acks=-1: the same bytes, written and fsynced once per 1,000-message batch. */
function benchRawAppend(value: Buffer): Figures {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-kafka-raw-'));
  const chunk = Buffer.concat(Array.from({ length: BATCH }, () => value));
  const fd = fs.openSync(path.join(dir, 'raw.log'), 'a');
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < MESSAGES; sent += BATCH) {
    fs.writeSync(fd, chunk);
    fs.fsyncSync(fd);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  return { seconds, messages: MESSAGES };
}

async function main(): Promise<void> {
  const value = Buffer.alloc(MESSAGE_BYTES, 'q');
  const produce: ReturnType<typeof rate>[] = [];
  const consume: ReturnType<typeof rate>[] = [];
  const raw: ReturnType<typeof rate>[] = [];
  for (let run = 1; run <= RUNS; run++) {
    raw.push(rate(benchRawAppend(value)));
    const r = await benchKafka(run, value);
    produce.push(rate(r.produce));
    consume.push(rate(r.consume));
    console.error(
      `run ${run}: produce ${produce[run - 1].msgs.toFixed(0)} msg/s, consume ${consume[run - 1].msgs.toFixed(0)} msg/s, raw ${raw[run - 1].msgs.toFixed(0)} msg/s`,
    );
  }
  const row = (label: string, rs: ReturnType<typeof rate>[]): string =>
    `| ${label} | ${median(rs.map((x) => x.msgs)).toFixed(0)} | ${median(rs.map((x) => x.mb)).toFixed(1)} |`;
  console.log(
    `\n${RUNS} runs × ${MESSAGES.toLocaleString('en')} messages of ${MESSAGE_BYTES} B, batches of ${BATCH}, ${PARTITIONS} partitions, ${os.cpus().length} cores, Node ${process.version}; medians:\n`,
  );
  console.log('| workload | msgs/s | MB/s |');
  console.log('| --- | ---: | ---: |');
  console.log(row('raw append + fsync per 1,000 msgs (baseline)', raw));
  console.log(row('kafkajs produce, acks=-1 (fsync before ack)', produce));
  console.log(row('kafkajs consumer group, eachBatch', consume));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
