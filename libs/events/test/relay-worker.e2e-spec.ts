import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { eventually } from '@qiwei/testing';
import type { Admin } from 'kafkajs';
import { Registry } from 'prom-client';
import {
  DEFAULT_RELAY_OPTIONS,
  ensureTopics,
  EventMetrics,
  Outbox,
  OutboxRelayWorker,
  relayWorkerEntry,
  type OutboxRelayOptions,
  type RelayLogger,
} from '../src';
import {
  aTestTopic,
  anEvent,
  readTopic,
  seqOfRecord,
  startEventTestEnv,
  type EventTestEnv,
} from './support/event-test-env';

/** Keeps what the worker's side logged, level and message, for the assertions. */
function capturingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown> = {}, msg = '') =>
      void lines.push({ level, fields, msg });
  const logger = {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
  } as unknown as RelayLogger;
  return { logger, lines };
}

/**
 * The relay's worker thread itself: loaded from the build, restarted after a crash (uncaught
 * error, or terminated in the middle of a batch) without losing an event, its metrics recorded
 * in the main thread's registry, and a start that cannot succeed reported to the caller.
 */
describe('events: the outbox relay in a worker thread', () => {
  let env: EventTestEnv;
  let admin: Admin;
  const outbox = new Outbox({ service: 'testing', lanes: 4 });
  const running: OutboxRelayWorker[] = [];

  beforeAll(async () => {
    env = await startEventTestEnv('events_relay_worker');
    admin = env.kafka.admin();
    await admin.connect();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await admin.disconnect();
    await env.close();
  });

  const startWorker = async (
    logger: RelayLogger,
    options: Partial<OutboxRelayOptions> = {},
    metrics?: EventMetrics,
  ) => {
    const relay = new OutboxRelayWorker(
      env.dataSource,
      {
        relay: {
          ...DEFAULT_RELAY_OPTIONS,
          databaseUrl: env.databaseUrl,
          pollIntervalMs: 100,
          ...options,
        },
        brokers: env.brokers,
        clientId: 'relay-worker-test',
        restartDelayMs: 50,
      },
      logger,
      metrics,
    );
    await relay.start();
    running.push(relay);
    return relay;
  };
  const count = async (where: string, topic: string) =>
    Number(
      (
        await env.dataSource.query<{ n: string }[]>(
          `SELECT count(*) AS n FROM event_outbox WHERE topic = $1 AND ${where}`,
          [topic],
        )
      )[0].n,
    );

  it('runs the compiled worker entry (services run from dist/)', () => {
    const entry = relayWorkerEntry();
    expect(entry).toMatch(/dist\/libs\/events\/src\/outbox\/relay-worker\.js$/);
    expect(existsSync(entry)).toBe(true);
  });

  it('logs a crash of the worker, starts a new one, and publishes what is committed after it', async () => {
    const topic = aTestTopic('worker-crash');
    await ensureTopics(admin, [topic]);
    const { logger, lines } = capturingLogger();
    const relay = await startWorker(logger);
    await eventually(() => expect(relay.lanes()).toEqual([0, 1, 2, 3]));
    await env.dataSource.transaction((manager) =>
      outbox.publish(manager, topic, anEvent(topic, 'k', 1)),
    );
    await eventually(async () => expect(await count('published_at IS NULL', topic.name)).toBe(0));

    const first = relay.currentWorker();
    // A message the worker does not understand makes it throw outside any handler: an
    // uncaught exception in the worker thread, which ends it.
    first?.postMessage({ type: 'no-such-message' });
    await eventually(() =>
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 'error', msg: 'outbox relay worker: crashed' }),
      ),
    );
    await eventually(() => {
      expect(relay.currentWorker()).toBeDefined();
      expect(relay.currentWorker()).not.toBe(first);
      expect(relay.lanes()).toEqual([0, 1, 2, 3]);
    });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'outbox relay worker: running again' }),
    );

    await env.dataSource.transaction((manager) =>
      outbox.publish(manager, topic, anEvent(topic, 'k', 2)),
    );
    const records = await readTopic(env.kafka, topic.name, 2);
    expect(records.map(seqOfRecord)).toEqual([1, 2]);
  });

  it('killed in the middle of a backlog, the next worker publishes every event (at least once, in order per key)', async () => {
    const topic = aTestTopic('worker-killed');
    await ensureTopics(admin, [topic]);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const perKey = 400;
    for (let seq = 0; seq < perKey; seq += 100) {
      await env.dataSource.transaction(async (manager) => {
        for (let i = seq; i < seq + 100; i++)
          for (const key of keys) await outbox.publish(manager, topic, anEvent(topic, key, i));
      });
    }
    const total = keys.length * perKey;
    const { logger, lines } = capturingLogger();
    const relay = await startWorker(logger, { batchSize: 20 });
    await eventually(
      async () => expect(await count('published_at IS NOT NULL', topic.name)).toBeGreaterThan(0),
      {
        intervalMs: 5,
      },
    );
    const first = relay.currentWorker();
    await first?.terminate();
    expect(await count('published_at IS NOT NULL', topic.name)).toBeLessThan(total);

    await eventually(
      async () => expect(await count('published_at IS NOT NULL', topic.name)).toBe(total),
      { timeoutMs: 60_000 },
    );
    expect(relay.currentWorker()).not.toBe(first);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'outbox relay worker: exited unexpectedly; starting a new one',
      }),
    );
    const offsets = await admin.fetchTopicOffsets(topic.name);
    const inKafka = offsets.reduce((sum, p) => sum + Number(p.high), 0);
    expect(inKafka).toBeGreaterThanOrEqual(total);
    const records = await readTopic(env.kafka, topic.name, inKafka);
    for (const key of keys) {
      // A batch in flight when the worker died may be sent again: order per key holds with
      // those repeats removed (each repeat re-sends a run already seen, in the same order).
      const seqs = records.filter((r) => r.key === key).map(seqOfRecord);
      const firstSeen = seqs.filter((seq, i) => seqs.indexOf(seq) === i);
      expect(firstSeen).toEqual(Array.from({ length: perKey }, (_, i) => i));
    }
  });

  it('records its publish metrics in the main thread registry', async () => {
    const topic = aTestTopic('worker-metrics');
    await ensureTopics(admin, [topic]);
    const registry = new Registry();
    await startWorker(capturingLogger().logger, {}, new EventMetrics(registry));
    await env.dataSource.transaction(async (manager) => {
      for (let i = 0; i < 5; i++) await outbox.publish(manager, topic, anEvent(topic, 'm', i));
    });
    await eventually(async () => {
      const published = await registry.getSingleMetricAsString('qiwei_outbox_published_total');
      expect(published).toContain(`qiwei_outbox_published_total{topic="${topic.name}"} 5`);
    });
    const latency = await registry.getSingleMetricAsString('qiwei_outbox_publish_latency_seconds');
    expect(latency).toContain(
      `qiwei_outbox_publish_latency_seconds_count{topic="${topic.name}"} 5`,
    );
  });

  it('rejects start() when the relay cannot start, and leaves no worker behind', async () => {
    const { logger } = capturingLogger();
    const relay = new OutboxRelayWorker(
      env.dataSource,
      {
        relay: {
          ...DEFAULT_RELAY_OPTIONS,
          // Nothing listens there: the worker's LISTEN session cannot connect.
          databaseUrl: 'postgres://nobody:nothing@127.0.0.1:1/none',
        },
        brokers: env.brokers,
        clientId: 'relay-worker-test',
        restartDelayMs: 50,
      },
      logger,
    );
    await expect(relay.start()).rejects.toMatchObject({
      message: expect.stringMatching(/ECONNREFUSED|connect/),
    });
    await eventually(() => expect(relay.currentWorker()).toBeUndefined());
    await relay.stop();
  });

  it('stops promptly when asked while its worker is still starting', async () => {
    const relay = new OutboxRelayWorker(
      env.dataSource,
      {
        relay: { ...DEFAULT_RELAY_OPTIONS, databaseUrl: env.databaseUrl, pollIntervalMs: 100 },
        brokers: env.brokers,
        clientId: 'relay-worker-test',
        stopTimeoutMs: 60_000,
      },
      capturingLogger().logger,
    );
    const starting = relay.start();
    const stopping = relay.stop();
    const began = Date.now();
    await Promise.all([starting, stopping]);
    // Stopped by the worker itself once started, not terminated after the timeout.
    expect(Date.now() - began).toBeLessThan(30_000);
    expect(relay.currentWorker()).toBeUndefined();
    expect(relay.lanes()).toEqual([]);
  });

  it('stops: the batch in flight finishes, the leases are released for another relay', async () => {
    const topic = aTestTopic('worker-stop');
    await ensureTopics(admin, [topic]);
    const first = await startWorker(capturingLogger().logger);
    await eventually(() => expect(first.lanes()).toEqual([0, 1, 2, 3]));
    const second = await startWorker(capturingLogger().logger);
    expect(second.lanes()).toEqual([]);
    await first.stop();
    expect(first.currentWorker()).toBeUndefined();
    expect(first.lanes()).toEqual([]);
    await eventually(() => expect(second.lanes()).toEqual([0, 1, 2, 3]));
    await env.dataSource.transaction((manager) =>
      outbox.publish(manager, topic, anEvent(topic, 'k', 3)),
    );
    expect((await readTopic(env.kafka, topic.name, 1)).map(seqOfRecord)).toEqual([3]);
  });
  it('samples its publish spans as OTEL_TRACES_SAMPLER says, as the main thread does', async () => {
    const saved = {
      sampler: process.env.OTEL_TRACES_SAMPLER,
      arg: process.env.OTEL_TRACES_SAMPLER_ARG,
    };
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    /** Publish spans the worker hands over, for events written under a sampled and an unsampled request. */
    const publishSpansWith = async (sampler: string | undefined, arg?: string) => {
      for (const [name, value] of [
        ['OTEL_TRACES_SAMPLER', sampler],
        ['OTEL_TRACES_SAMPLER_ARG', arg],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      const topic = aTestTopic(`worker-sampler-${(sampler ?? 'default').replace(/_/g, '')}`);
      await ensureTopics(admin, [topic]);
      const exporter = new InMemorySpanExporter();
      const relay = new OutboxRelayWorker(
        env.dataSource,
        {
          relay: { ...DEFAULT_RELAY_OPTIONS, databaseUrl: env.databaseUrl, pollIntervalMs: 100 },
          brokers: env.brokers,
          clientId: 'relay-worker-sampler-test',
          spans: { processor: new SimpleSpanProcessor(exporter) },
        },
        capturingLogger().logger,
      );
      await relay.start();
      const requests = new Map<string, string>();
      for (const [label, traceFlags] of [
        ['sampled request', TraceFlags.SAMPLED],
        ['unsampled request', TraceFlags.NONE],
      ] as const) {
        const parent = {
          traceId: randomBytes(16).toString('hex'),
          spanId: randomBytes(8).toString('hex'),
          traceFlags,
          isRemote: true,
        };
        requests.set(parent.traceId, label);
        await context.with(trace.setSpanContext(ROOT_CONTEXT, parent), () =>
          env.dataSource.transaction((manager) =>
            outbox.publish(manager, topic, anEvent(topic, label, 1)),
          ),
        );
      }
      await eventually(async () => expect(await count('published_at IS NULL', topic.name)).toBe(0));
      // Stopping flushes the worker's finished spans to this thread before it exits.
      await relay.stop();
      return exporter
        .getFinishedSpans()
        .filter((span) => span.name === `${topic.name} publish`)
        .map((span) => requests.get(span.spanContext().traceId))
        .sort();
    };
    try {
      // Unset: parent-based always-on, as the main thread's SDK.
      expect(await publishSpansWith(undefined)).toEqual(['sampled request']);
      expect(await publishSpansWith('always_off')).toEqual([]);
      expect(await publishSpansWith('always_on')).toEqual(['sampled request', 'unsampled request']);
      expect(await publishSpansWith('traceidratio', '0')).toEqual([]);
    } finally {
      for (const [name, value] of [
        ['OTEL_TRACES_SAMPLER', saved.sampler],
        ['OTEL_TRACES_SAMPLER_ARG', saved.arg],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      propagation.disable();
      context.disable();
    }
  });
});
