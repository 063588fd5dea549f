import { CompressionTypes, Consumer, Kafka, Producer } from 'kafkajs';
import { DevKafka } from '../src';
import {
  ConsumedRecord,
  eventually,
  headersToStrings,
  kafkaClient,
  startTestBroker,
  tempDataDir,
} from './support/harness';

const MESSAGES = 1000;
const PARTITIONS = 3;

describe('dev-kafka with kafkajs: produce and consume', () => {
  let broker: DevKafka;
  let kafka: Kafka;
  let producer: Producer;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    broker = await startTestBroker({ dataDir: tempDataDir('pc'), defaultPartitions: 2 });
    kafka = kafkaClient(broker, 'produce-consume');
    producer = kafka.producer();
    await producer.connect();
  });

  afterAll(async () => {
    for (const c of consumers) await c.disconnect();
    await producer.disconnect();
    await broker.stop();
  });

  async function consumeAll(
    topic: string,
    expected: number,
    groupId: string,
  ): Promise<ConsumedRecord[]> {
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: ConsumedRecord[] = [];
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({
          partition,
          offset: Number(message.offset),
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: headersToStrings(message.headers),
        });
      },
    });
    await eventually(() => expect(seen.length).toBeGreaterThanOrEqual(expected), 30_000);
    await consumer.stop();
    return seen;
  }

  function messages(label: string) {
    return Array.from({ length: MESSAGES }, (_, i) => ({
      key: `key-${i % 17}`,
      value: `${label}-value-${i}`,
      headers: { 'ce-id': `${label}-${i}`, source: 'test' },
    }));
  }

  function verify(label: string, seen: ConsumedRecord[]): void {
    expect(seen).toHaveLength(MESSAGES);
    const byPartition = new Map<number, ConsumedRecord[]>();
    for (const r of seen)
      byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
    for (const records of byPartition.values()) {
      // Contiguous offsets from 0 and producer order within each partition.
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
      const indexes = records.map((r) => Number(r.value?.split('-').pop()));
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
      // The same key always lands in the same partition.
      for (const r of records) expect(r.key).toBe(`key-${Number(r.value?.split('-').pop()) % 17}`);
    }
    const values = seen.map((r) => r.value).sort();
    expect(values).toEqual(
      messages(label)
        .map((m) => m.value)
        .sort(),
    );
    for (const r of seen)
      expect(r.headers).toEqual({
        'ce-id': r.value?.replace('-value-', '-') ?? '',
        source: 'test',
      });
  }

  it('creates a topic once: createTopics returns true, then false', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(
        await admin.createTopics({ topics: [{ topic: 'created', numPartitions: PARTITIONS }] }),
      ).toBe(true);
      expect(
        await admin.createTopics({ topics: [{ topic: 'created', numPartitions: PARTITIONS }] }),
      ).toBe(false);
      const metadata = await admin.fetchTopicMetadata({ topics: ['created'] });
      expect(metadata.topics[0].partitions.map((p) => p.leader)).toEqual([0, 0, 0]);
      expect(await admin.listTopics()).toContain('created');
      // numPartitions -1 (kafkajs default) means the broker default.
      expect(await admin.createTopics({ topics: [{ topic: 'defaulted' }] })).toBe(true);
      expect(
        (await admin.fetchTopicMetadata({ topics: ['defaulted'] })).topics[0].partitions,
      ).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
  });

  it.each([
    ['acks-all', { acks: -1 }],
    ['acks-none', { acks: 0 }],
    ['gzip', { acks: -1, compression: CompressionTypes.GZIP }],
  ])('round-trips 1,000 keyed messages over 3 partitions (%s)', async (label, options) => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: `rt-${label}`, numPartitions: PARTITIONS }] });
    await admin.disconnect();
    const all = messages(label);
    for (let i = 0; i < all.length; i += 100) {
      await producer.send({ topic: `rt-${label}`, messages: all.slice(i, i + 100), ...options });
    }
    verify(label, await consumeAll(`rt-${label}`, MESSAGES, `g-${label}`));
  });

  it('reports the high watermark in eachBatch', async () => {
    const topic = 'batches';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    await producer.send({
      topic,
      messages: Array.from({ length: 50 }, (_, i) => ({ value: `m${i}` })),
    });
    const consumer = kafka.consumer({ groupId: 'g-batches', maxWaitTimeInMs: 200 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: { highWatermark: string; count: number }[] = [];
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const m of batch.messages) resolveOffset(m.offset);
        await heartbeat();
        seen.push({ highWatermark: batch.highWatermark, count: batch.messages.length });
      },
    });
    await eventually(() => expect(seen.reduce((n, b) => n + b.count, 0)).toBe(50));
    expect(seen[seen.length - 1].highWatermark).toBe('50');
    await consumer.stop();
  });

  it('seeks back to an offset, and past the end resets to the default offset', async () => {
    const topic = 'seeking';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await producer.send({
      topic,
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `s${i}` })),
    });
    const consumer = kafka.consumer({ groupId: 'g-seek', maxWaitTimeInMs: 200 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const offsets: number[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => void offsets.push(Number(message.offset)),
    });
    await eventually(() => expect(offsets).toHaveLength(20));

    consumer.seek({ topic, partition: 0, offset: '15' });
    await eventually(() => expect(offsets.slice(20)).toEqual([15, 16, 17, 18, 19]));
    await eventually(async () => {
      const committed = await admin.fetchOffsets({ groupId: 'g-seek', topics: [topic] });
      expect(committed[0].partitions[0].offset).toBe('20');
    });

    // Past the end: the broker answers OFFSET_OUT_OF_RANGE and kafkajs resets to earliest (fromBeginning).
    consumer.seek({ topic, partition: 0, offset: '500' });
    await eventually(() => expect(offsets.length).toBeGreaterThanOrEqual(45));
    expect(offsets.slice(25, 45)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await consumer.stop();
    await admin.disconnect();
  });

  it('long-polls: an idle fetch returns by maxWait, a message produced mid-wait arrives at once', async () => {
    const topic = 'long-poll';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const maxWait = 1500;
    const consumer = kafka.consumer({ groupId: 'g-long-poll', maxWaitTimeInMs: maxWait });
    consumers.push(consumer);
    const fetchDurations: number[] = [];
    consumer.on(consumer.events.FETCH, (e: { payload: { duration: number } }) =>
      fetchDurations.push(e.payload.duration),
    );
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const arrivals: number[] = [];
    await consumer.run({ eachMessage: async () => void arrivals.push(Date.now()) });
    // Idle fetches: answered at maxWait, never so late that kafkajs (maxWait + 100 ms) times out.
    await eventually(() => expect(fetchDurations.length).toBeGreaterThanOrEqual(2), 20_000);
    for (const d of fetchDurations) expect(d).toBeLessThan(maxWait + 1000);
    expect(Math.max(...fetchDurations)).toBeGreaterThanOrEqual(maxWait - 50);

    await new Promise((r) => setTimeout(r, 300)); // land inside a parked fetch, not at its start
    const sentAt = Date.now();
    await producer.send({ topic, messages: [{ value: 'wake up' }] });
    await eventually(() => expect(arrivals).toHaveLength(1), 10_000);
    const latency = arrivals[0] - sentAt;
    console.info(
      `dev-kafka long-poll: idle fetch durations ${fetchDurations.join(', ')} ms, mid-wait delivery ${latency} ms`,
    );
    // Well under maxWait: the append woke the parked fetch instead of waiting out its timer.
    expect(latency).toBeLessThan(maxWait);
    await consumer.stop();
  });

  it('auto-creates topics on produce/metadata when enabled', async () => {
    await producer.send({ topic: 'auto-created', messages: [{ value: 'x' }] });
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain('auto-created');
    const offsets = await admin.fetchTopicOffsets('auto-created');
    expect(offsets).toHaveLength(2); // the broker's defaultPartitions
    expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(1);
    await admin.disconnect();
  });

  it('supports idempotent producers (InitProducerId)', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'idempotent', numPartitions: 1 }] });
    await admin.disconnect();
    const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await idempotent.connect();
    const results = await idempotent.send({
      topic: 'idempotent',
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `i${i}` })),
    });
    expect(results[0].errorCode).toBe(0);
    const more = await idempotent.send({ topic: 'idempotent', messages: [{ value: 'again' }] });
    expect(more[0].baseOffset).toBe('10');
    await idempotent.disconnect();
  });
});

describe('dev-kafka with auto-creation off', () => {
  it('answers UNKNOWN_TOPIC_OR_PARTITION for a missing topic', async () => {
    const broker = await startTestBroker({
      dataDir: tempDataDir('noauto'),
      autoCreateTopics: false,
    });
    const kafka = kafkaClient(broker, 'no-auto', { retry: { retries: 1, initialRetryTime: 50 } });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await expect(producer.send({ topic: 'missing', messages: [{ value: 'x' }] })).rejects.toThrow(
        /does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/i,
      );
      const admin = kafka.admin();
      await admin.connect();
      expect(await admin.listTopics()).not.toContain('missing');
      await admin.disconnect();
    } finally {
      await producer.disconnect();
      await broker.stop();
    }
  });
});
