import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createLogger } from '@qiwei/platform';
import { eventually } from '@qiwei/testing';
import type { Admin, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import {
  createProducer,
  DEFAULT_CONSUMER_OPTIONS,
  DEFAULT_INBOX_PRUNER_OPTIONS,
  DEFAULT_RELAY_OPTIONS,
  encodeEvent,
  ensureTopics,
  EventConsumer,
  EventMetrics,
  InboxPruner,
  NonRetriableEventError,
  Outbox,
  OutboxRelay,
  OutboxRelayWorker,
  redriveDeadLetters,
  type EventConsumerOptions,
  type Subscription,
} from '../src';
import {
  aTestTopic,
  anEvent,
  readTopic,
  recordingSubscription,
  startEventTestEnv,
  type EventTestEnv,
} from './support/event-test-env';

const logger = createLogger({ service: 'consumer-test', level: 'silent' });

describe('events: idempotent consumers, retries and dead letters', () => {
  let env: EventTestEnv;
  let admin: Admin;
  let producer: Producer;
  const running: { stop(): Promise<void> }[] = [];
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    env = await startEventTestEnv('events_consumer');
    admin = env.kafka.admin();
    await admin.connect();
    producer = createProducer(env.kafka);
    await producer.connect();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await producer.disconnect();
    await admin.disconnect();
    await env.close();
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  const consume = async (
    subscription: Subscription,
    options: Partial<EventConsumerOptions> = {},
    metrics?: EventMetrics,
  ) => {
    const consumer = new EventConsumer(
      env.kafka,
      env.dataSource,
      producer,
      subscription,
      {
        ...DEFAULT_CONSUMER_OPTIONS,
        service: 'testing',
        retryBackoffMs: 20,
        sessionTimeoutMs: 6_000,
        ...options,
      },
      logger,
      metrics,
    );
    await consumer.start();
    running.push(consumer);
    return consumer;
  };
  /** Sends encoded events straight to Kafka (as a relay would), `times` times each. */
  const sendRaw = async (
    topicName: string,
    records: ReturnType<typeof encodeEvent>[],
    times = 1,
  ) => {
    for (let i = 0; i < times; i++) {
      await producer.send({
        topic: topicName,
        acks: -1,
        messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      });
    }
  };
  const effects = async (consumer: string) =>
    env.dataSource.query<{ event_id: string; key: string; seq: number }[]>(
      'SELECT event_id, key, seq FROM effects WHERE consumer = $1 ORDER BY n',
      [consumer],
    );

  it('has effects exactly once when every record is delivered twice', async () => {
    const topic = aTestTopic('twice');
    await ensureTopics(admin, [topic]);
    const records = Array.from({ length: 300 }, (_, i) =>
      encodeEvent(topic, '/qiwei/testing', anEvent(topic, `k${i % 7}`, i + 1)),
    );
    await sendRaw(topic.name, records, 2);
    const subscription = recordingSubscription('twice', topic);
    const consumer = await consume(subscription);
    expect(consumer.groupId).toBe('qiwei.testing.twice');
    await eventually(async () => expect(await effects('twice')).toHaveLength(300));
    // Give duplicates every chance to be (wrongly) applied: consume a marker sent last.
    const marker = encodeEvent(topic, '/qiwei/testing', anEvent(topic, 'k0', 9999));
    await sendRaw(topic.name, [marker]);
    await eventually(async () =>
      expect((await effects('twice')).some((e) => e.seq === 9999)).toBe(true),
    );
    const rows = await effects('twice');
    expect(rows).toHaveLength(301);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(301);
    // Per key, effects follow the partition order.
    for (let k = 0; k < 7; k++) {
      const seqs = rows.filter((r) => r.key === `k${k}` && r.seq !== 9999).map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('sends a poison message to the DLQ with its headers and goes on with the next ones', async () => {
    const topic = aTestTopic('poison');
    await ensureTopics(admin, [topic]);
    const good1 = encodeEvent(topic, '/qiwei/testing', anEvent(topic, 'k', 1));
    const good2 = encodeEvent(topic, '/qiwei/testing', anEvent(topic, 'k', 3));
    const badPayload = { ...encodeEvent(topic, '/qiwei/testing', anEvent(topic, 'k', 2)) };
    badPayload.value = '{"department": {"id": "not a number"}}';
    const noHeaders = { ...good1, headers: { 'content-type': 'application/json' } };
    const unknownType = {
      ...good1,
      headers: { ...good1.headers, ce_type: 'qiwei.testing.poison.exploded.v1', ce_id: 'x-1' },
    };
    await sendRaw(topic.name, [good1, badPayload, noHeaders, unknownType, good2]);
    const metrics = new EventMetrics(new Registry());
    await consume(recordingSubscription('poison', topic), {}, metrics);
    await eventually(async () =>
      expect((await effects('poison')).map((e) => e.seq)).toEqual([1, 3]),
    );
    const dead = await readTopic(env.kafka, `${topic.name}.dlq`, 3);
    expect(dead.map((d) => d.headers.dlq_error)).toEqual([
      expect.stringMatching(
        /PoisonMessageError: payload is not a valid qiwei.identity.v1.DepartmentCreated/,
      ),
      expect.stringMatching(/PoisonMessageError: missing CloudEvents header ce_id/),
      expect.stringMatching(
        /PoisonMessageError: event type qiwei.testing.poison.exploded.v1 is not declared/,
      ),
    ]);
    expect(dead[0]).toMatchObject({
      key: 'k',
      value: badPayload.value,
      headers: {
        ce_id: badPayload.id,
        ce_type: 'qiwei.testing.poison.created.v1',
        dlq_original_topic: topic.name,
        dlq_original_offset: '1',
        dlq_attempts: '1',
        dlq_consumer: 'qiwei.testing.poison',
      },
    });
    expect(dead[0].headers.dlq_original_partition).toMatch(/^[0-2]$/);
    expect(Number.isNaN(Date.parse(dead[0].headers.dlq_failed_at))).toBe(false);
    expect((await metrics.deadLettered.get()).values[0].value).toBe(3);
  });

  it('retries a failing handler with backoff, and succeeds without doubling effects', async () => {
    const topic = aTestTopic('retry');
    await ensureTopics(admin, [topic]);
    const records = [1, 2, 3].map((seq) =>
      encodeEvent(topic, '/qiwei/testing', anEvent(topic, 'k', seq)),
    );
    await sendRaw(topic.name, records);
    // Seq 2 fails twice (say the database blipped), then works.
    const subscription = recordingSubscription('retry', topic, (event, attempt) =>
      event.id === records[1].id && attempt <= 2 ? new Error('connection reset') : undefined,
    );
    await consume(subscription, { maxAttempts: 5 });
    await eventually(async () =>
      expect((await effects('retry')).map((e) => e.seq)).toEqual([1, 2, 3]),
    );
    expect(subscription.attempts.get(records[1].id)).toBe(3);
  });

  it('dead-letters after the last retry, at once for non-retriable errors, and can re-drive them', async () => {
    const topic = aTestTopic('exhausted');
    await ensureTopics(admin, [topic]);
    const records = [1, 2, 3].map((seq) =>
      encodeEvent(topic, '/qiwei/testing', anEvent(topic, 'k', seq)),
    );
    await sendRaw(topic.name, records);
    let healed = false;
    const subscription = recordingSubscription('exhausted', topic, (event) => {
      if (healed) return undefined;
      if (event.id === records[0].id) return new Error('downstream keeps failing');
      if (event.id === records[1].id) return new NonRetriableEventError('refused by a domain rule');
      return undefined;
    });
    await consume(subscription, { maxAttempts: 3 });
    await eventually(async () =>
      expect((await effects('exhausted')).map((e) => e.seq)).toEqual([3]),
    );
    const dead = await readTopic(env.kafka, `${topic.name}.dlq`, 2);
    expect(dead.map((d) => [d.headers.ce_id, d.headers.dlq_attempts])).toEqual([
      [records[0].id, '3'],
      [records[1].id, '1'],
    ]);
    expect(subscription.attempts.get(records[0].id)).toBe(3);
    expect(subscription.attempts.get(records[1].id)).toBe(1);

    // The cause is fixed: re-drive the dead letters back to the topic; they are handled now.
    healed = true;
    expect(await redriveDeadLetters(env.kafka, topic.name)).toEqual({ redriven: 2 });
    await eventually(async () =>
      expect((await effects('exhausted')).map((e) => e.seq).sort()).toEqual([1, 2, 3]),
    );
    // A second re-drive finds nothing new.
    expect(await redriveDeadLetters(env.kafka, topic.name)).toEqual({ redriven: 0 });
  });

  it('shares partitions between two instances and hands over when one shuts down', async () => {
    const topic = aTestTopic('group');
    await ensureTopics(admin, [topic]);
    const seen = new Map<string, string>(); // event id → instance
    const instance = (name: string): Subscription => ({
      ...recordingSubscription('group', topic),
      async handle(event, manager) {
        seen.set(event.id, name);
        await manager.query(
          'INSERT INTO effects (consumer, event_id, key, seq) VALUES ($1, $2, $3, 0)',
          ['group', event.id, event.key],
        );
      },
    });
    const a = await consume(instance('a'), { sessionTimeoutMs: 6_000 });
    const b = await consume(instance('b'), { sessionTimeoutMs: 6_000 });
    const firstBatch = Array.from({ length: 60 }, (_, i) =>
      encodeEvent(topic, '/qiwei/testing', anEvent(topic, `key-${i}`, i + 1)),
    );
    await eventually(
      async () => {
        await sendRaw(topic.name, [firstBatch[seen.size % firstBatch.length]]);
        expect(new Set(seen.values())).toEqual(new Set(['a', 'b']));
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    await sendRaw(topic.name, firstBatch);
    await eventually(async () =>
      expect(new Set((await effects('group')).map((e) => e.event_id)).size).toBe(60),
    );

    await b.stop(); // graceful: commits and leaves; a takes every partition
    running.splice(running.indexOf(b), 1);
    const secondBatch = Array.from({ length: 30 }, (_, i) =>
      encodeEvent(topic, '/qiwei/testing', anEvent(topic, `key-${i}`, 100 + i)),
    );
    await sendRaw(topic.name, secondBatch);
    await eventually(
      async () => expect(secondBatch.every((r) => seen.get(r.id) === 'a')).toBe(true),
      { timeoutMs: 30_000 },
    );
    const rows = await effects('group');
    expect(rows).toHaveLength(new Set(rows.map((r) => r.event_id)).size); // nothing twice
    expect(a.groupId).toBe('qiwei.testing.group');
  });

  it('prunes inbox entries only once their topic can no longer redeliver the record', async () => {
    const DAY = 24 * 60 * 60 * 1000;
    const topic = { ...aTestTopic('pruned'), retentionMs: 7 * DAY };
    await ensureTopics(admin, [topic]);
    const records = [1, 2, 3, 4].map((seq) =>
      encodeEvent(topic, '/qiwei/testing', anEvent(topic, 'k', seq)),
    );
    await sendRaw(topic.name, records);
    const consumer = await consume(recordingSubscription('pruned', topic));
    await eventually(async () => expect(await effects('pruned')).toHaveLength(4));
    const inbox = (name: string) =>
      env.dataSource
        .query<{ event_id: string }[]>(
          'SELECT event_id FROM event_inbox WHERE consumer = $1 ORDER BY event_id',
          [name],
        )
        .then((rows) => rows.map((r) => r.event_id));
    // Two entries handled 20 days ago, two 10 days ago; entries of a topic kept forever and of
    // another consumer group with a longer retention, just as old.
    const age = (ids: string[], days: number) =>
      env.dataSource.query(
        `UPDATE event_inbox SET processed_at = now() - make_interval(days => $3)
          WHERE consumer = $1 AND event_id = ANY($2::text[])`,
        [consumer.groupId, ids, days],
      );
    await age([records[0].id, records[1].id], 20);
    await age([records[2].id, records[3].id], 10);
    await env.dataSource.query(
      `INSERT INTO event_inbox (consumer, event_id, status, processed_at)
       SELECT 'qiwei.testing.forever', 'f-' || i, 'processed', now() - interval '400 days'
         FROM generate_series(1, 30) AS i
       UNION ALL
       SELECT 'qiwei.testing.monthly', 'm-' || i, 'dead_lettered', now() - interval '20 days'
         FROM generate_series(1, 30) AS i`,
    );
    const retentions = [
      { consumer: consumer.groupId, topicRetentionMs: topic.retentionMs },
      { consumer: 'qiwei.testing.forever', topicRetentionMs: -1 },
      { consumer: 'qiwei.testing.monthly', topicRetentionMs: 30 * DAY },
    ];
    const metrics = new EventMetrics(new Registry());
    // 7 days of topic retention + 7 days of margin: the entries 20 days old go, those 10 days
    // old stay. Two instances pruning at once, in batches of 1, delete each entry once.
    const pruners = [1, 2].map(
      () =>
        new InboxPruner(
          env.dataSource,
          retentions,
          { ...DEFAULT_INBOX_PRUNER_OPTIONS, marginMs: 7 * DAY, batchSize: 1 },
          logger,
          metrics,
        ),
    );
    const deleted = await Promise.all(pruners.map((p) => p.pruneOnce()));
    expect(deleted[0] + deleted[1]).toBe(2);
    expect(await inbox(consumer.groupId)).toEqual([records[2].id, records[3].id].sort());
    expect(await inbox('qiwei.testing.forever')).toHaveLength(30);
    expect(await inbox('qiwei.testing.monthly')).toHaveLength(30);
    expect((await metrics.inboxPruned.get()).values).toEqual([
      expect.objectContaining({ labels: { consumer: consumer.groupId }, value: 2 }),
    ]);
    expect(await pruners[0].pruneOnce()).toBe(0);
    // A record whose entry was kept is still skipped when it comes again.
    await sendRaw(topic.name, [records[3]]);
    const marker = encodeEvent(topic, '/qiwei/testing', anEvent(topic, 'k', 5));
    await sendRaw(topic.name, [marker]);
    await eventually(async () =>
      expect((await effects('pruned')).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]),
    );
    // Scheduled rounds run on their own and stop cleanly.
    await age([records[2].id], 20);
    const scheduled = new InboxPruner(
      env.dataSource,
      retentions,
      { ...DEFAULT_INBOX_PRUNER_OPTIONS, marginMs: 7 * DAY, intervalMs: 1_000 },
      logger,
    );
    scheduled.start(0);
    running.push(scheduled);
    await eventually(async () =>
      expect(await inbox(consumer.groupId)).not.toContain(records[2].id),
    );
  });

  it.each(['inline', 'worker'] as const)(
    'continues the trace from the request that wrote the event to the handler (relay %s)',
    async (mode) => {
      exporter.reset();
      const topic = aTestTopic(`traced-${mode}`);
      await ensureTopics(admin, [topic]);
      const outbox = new Outbox({ service: 'testing', lanes: 2 });
      const tracer = trace.getTracer('test');
      let requestTraceId = '';
      await tracer.startActiveSpan('POST /v1/things', async (span) => {
        requestTraceId = span.spanContext().traceId;
        await env.dataSource.transaction((manager) =>
          outbox.publish(manager, topic, anEvent(topic, 'k', 1)),
        );
        span.end();
      });
      const relayOptions = {
        ...DEFAULT_RELAY_OPTIONS,
        databaseUrl: env.databaseUrl,
        pollIntervalMs: 100,
      };
      // In a worker thread the publish spans are made there and handed to this thread's span
      // processors (a service passes those of its SDK: tracingSpanSink()).
      const relay =
        mode === 'worker'
          ? new OutboxRelayWorker(
              env.dataSource,
              {
                relay: relayOptions,
                brokers: env.brokers,
                clientId: 'traced-relay',
                spans: { processor: new SimpleSpanProcessor(exporter) },
              },
              logger,
            )
          : new OutboxRelay(env.dataSource, producer, relayOptions, logger);
      await relay.start();
      running.push(relay);
      await consume(recordingSubscription(`traced-${mode}`, topic));
      await eventually(async () => expect(await effects(`traced-${mode}`)).toHaveLength(1));
      await eventually(() => {
        const spans = exporter.getFinishedSpans();
        const publish = spans.find((s) => s.name === `${topic.name} publish`);
        const process = spans.find((s) => s.name === `${topic.name} process`);
        const request = spans.find((s) => s.name === 'POST /v1/things');
        expect(publish?.spanContext().traceId).toBe(requestTraceId);
        expect(process?.spanContext().traceId).toBe(requestTraceId);
        expect(publish?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
        expect(process?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
      });
    },
  );
});
