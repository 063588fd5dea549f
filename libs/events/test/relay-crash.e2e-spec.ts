import { distEntry, eventually, spawnNode, type SpawnedProcess } from '@qiwei/testing';
import type { Producer } from 'kafkajs';
import {
  createProducer,
  DEFAULT_CONSUMER_OPTIONS,
  ensureTopics,
  EventConsumer,
  Outbox,
} from '../src';
import { createLogger } from '@qiwei/platform';
import {
  aTestTopic,
  anEvent,
  recordingSubscription,
  startEventTestEnv,
  type EventTestEnv,
} from './support/event-test-env';

/**
 * The relay as its own process, killed with SIGKILL in the middle of publishing and started
 * again: every event is published at least once, and the consumer's effects happen exactly once.
 */
describe.each(['inline', 'worker'] as const)('events: relay killed mid-batch (%s)', (mode) => {
  let env: EventTestEnv;
  let producer: Producer;
  beforeAll(async () => {
    env = await startEventTestEnv(`events_crash_${mode}`);
    producer = createProducer(env.kafka);
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await env.close();
  });

  const published = async () =>
    Number(
      (
        await env.dataSource.query<{ n: string }[]>(
          'SELECT count(*) AS n FROM event_outbox WHERE published_at IS NOT NULL',
        )
      )[0].n,
    );
  const startRelayProcess = (): SpawnedProcess =>
    spawnNode(distEntry('libs/events/test/support/relay-process.js'), {
      PATH: process.env.PATH,
      DATABASE_URL: env.databaseUrl,
      KAFKA_BROKERS: env.brokers.join(','),
      BATCH_SIZE: '50',
      RELAY_MODE: mode,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    });

  it('publishes everything at least once and applies it exactly once', async () => {
    const topic = aTestTopic('crash');
    const admin = env.kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic]);
    const outbox = new Outbox({ service: 'testing', lanes: 4 });
    const total = 6_000;
    for (let start = 0; start < total; start += 500) {
      await env.dataSource.transaction(async (manager) => {
        for (let i = start; i < start + 500; i++)
          await outbox.publish(manager, topic, anEvent(topic, `k${i % 11}`, i + 1));
      });
    }

    const first = startRelayProcess();
    await eventually(async () => expect(await published()).toBeGreaterThan(500), {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const publishedBeforeCrash = await published();
    expect(publishedBeforeCrash).toBeLessThan(total); // it really died mid-way

    const second = startRelayProcess();
    await eventually(async () => expect(await published()).toBe(total), { timeoutMs: 60_000 });
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    const offsets = await admin.fetchTopicOffsets(topic.name);
    const inKafka = offsets.reduce((sum, p) => sum + Number(p.high), 0);
    expect(inKafka).toBeGreaterThanOrEqual(total); // at least once (a batch in flight may be sent twice)
    await admin.disconnect();

    const consumer = new EventConsumer(
      env.kafka,
      env.dataSource,
      producer,
      recordingSubscription('crash', topic),
      { ...DEFAULT_CONSUMER_OPTIONS, service: 'testing' },
      createLogger({ service: 'crash-test', level: 'silent' }),
    );
    await consumer.start();
    try {
      await eventually(
        async () => {
          const rows = await env.dataSource.query<{ n: string; distinct_events: string }[]>(
            'SELECT count(*) AS n, count(DISTINCT event_id) AS distinct_events FROM effects',
          );
          expect(Number(rows[0].distinct_events)).toBe(total);
          expect(Number(rows[0].n)).toBe(total); // duplicates in Kafka never doubled an effect
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    } finally {
      await consumer.stop();
    }
  });
});
