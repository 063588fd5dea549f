import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka } from 'kafkajs';
import { DevKafka } from '../src';
import { eventually, kafkaClient, startTestBroker, tempDataDir } from './support/harness';

interface Read {
  partition: number;
  offset: number;
  value: string;
}

/** Every message of `topic` from the beginning, via a throwaway group. */
async function readAll(
  kafka: Kafka,
  topic: string,
  expected: number,
  groupId: string,
): Promise<Read[]> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: Read[] = [];
  await consumer.run({
    eachMessage: async ({ partition, message }) =>
      void seen.push({
        partition,
        offset: Number(message.offset),
        value: message.value?.toString() ?? '',
      }),
  });
  await eventually(() => expect(seen.length).toBe(expected), 30_000);
  await consumer.disconnect();
  return seen.sort((x, y) => x.partition - y.partition || x.offset - y.offset);
}

async function highWatermarks(kafka: Kafka, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => o.high);
}

describe('dev-kafka durability', () => {
  const brokers: DevKafka[] = [];
  afterAll(async () => {
    for (const b of brokers) await b.stop();
  });

  async function start(dataDir: string): Promise<{ broker: DevKafka; kafka: Kafka }> {
    const broker = await startTestBroker({ dataDir });
    brokers.push(broker);
    return { broker, kafka: kafkaClient(broker, 'durability') };
  }

  it('keeps messages, offsets, high watermarks and commits across a restart', async () => {
    const dataDir = tempDataDir('restart');
    const first = await start(dataDir);
    const admin = first.kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = first.kafka.producer();
    await producer.connect();
    for (let i = 0; i < 3; i++) {
      await producer.send({
        topic: 'durable',
        messages: Array.from({ length: 100 }, (_, j) => ({
          key: `k${j}`,
          value: `v${i * 100 + j}`,
        })),
      });
    }
    await producer.send({
      topic: 'durable',
      acks: 1,
      messages: [{ key: 'k0', value: 'acks-one' }],
    });
    await producer.disconnect();
    const before = await readAll(first.kafka, 'durable', 301, 'committer');
    const hwBefore = await highWatermarks(first.kafka, 'durable');
    await first.broker.stop();

    const second = await start(dataDir);
    expect(await highWatermarks(second.kafka, 'durable')).toEqual(hwBefore);
    expect(await readAll(second.kafka, 'durable', 301, 'fresh-reader')).toEqual(before);

    const admin2 = second.kafka.admin();
    await admin2.connect();
    const committed = await admin2.fetchOffsets({ groupId: 'committer', topics: ['durable'] });
    expect(
      committed[0].partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset),
    ).toEqual(hwBefore);
    await admin2.disconnect();

    // New writes continue at the old end, and the old group resumes with only them.
    const producer2 = second.kafka.producer();
    await producer2.connect();
    const [result] = await producer2.send({
      topic: 'durable',
      messages: [{ key: 'k0', value: 'after-restart' }],
    });
    expect(result.baseOffset).toBe(hwBefore[result.partition]);
    await producer2.disconnect();
    const resumed = await readAll(second.kafka, 'durable', 1, 'committer');
    expect(resumed.map((r) => r.value)).toEqual(['after-restart']);
  });

  it('recovers from a torn segment tail by truncating the partial batch', async () => {
    const dataDir = tempDataDir('torn');
    const first = await start(dataDir);
    const producer = first.kafka.producer();
    await producer.connect();
    const admin = first.kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'torn', numPartitions: 1 }] });
    await admin.disconnect();
    for (let i = 0; i < 5; i++) {
      await producer.send({
        topic: 'torn',
        messages: Array.from({ length: 10 }, (_, j) => ({ value: `b${i}-${j}` })),
      });
    }
    await producer.disconnect();
    await first.broker.stop();

    // Simulate a crash mid-write: the last batch is cut short.
    const partitionDir = path.join(dataDir, 'topics', 'torn', '0');
    const [segment] = fs.readdirSync(partitionDir).filter((f) => f.endsWith('.log'));
    const file = path.join(partitionDir, segment);
    fs.truncateSync(file, fs.statSync(file).size - 7);

    const second = await start(dataDir);
    expect(await highWatermarks(second.kafka, 'torn')).toEqual(['40']);
    const producer2 = second.kafka.producer();
    await producer2.connect();
    const [result] = await producer2.send({ topic: 'torn', messages: [{ value: 'after-crash' }] });
    expect(result.baseOffset).toBe('40');
    await producer2.disconnect();
    const all = await readAll(second.kafka, 'torn', 41, 'torn-reader');
    expect(all.map((r) => r.offset)).toEqual(Array.from({ length: 41 }, (_, i) => i));
    expect(all[39].value).toBe('b3-9');
    expect(all[40].value).toBe('after-crash');
  });
});
