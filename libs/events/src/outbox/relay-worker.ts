// Entry point of the outbox relay's worker thread (started by OutboxRelayWorker). It runs an
// ordinary OutboxRelay with its own event loop, its own PostgreSQL connections and its own
// idempotent kafkajs producer, so reading, encoding and marking batches no longer queue with
// the service's requests and consumers on the main thread. Wake-ups come from the main thread
// (this process's commits) and from LISTEN/NOTIFY (other processes' commits), as inline.
// Logs, publish metrics and (when the main thread records them) spans go back over the port.
import { parentPort, workerData } from 'node:worker_threads';
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createKafka, createProducer } from '../kafka/kafka-client';
import { OutboxRelay, type RelayLogger, type RelayWakeups } from './outbox-relay';
import type {
  ForwardedSpan,
  FromRelayWorker,
  RelayWorkerData,
  ToRelayWorker,
} from './relay-worker-protocol';

const port = parentPort;
if (!port) throw new Error('relay-worker.js runs as a worker thread (see OutboxRelayWorker)');
const data = workerData as RelayWorkerData;
const post = (message: FromRelayWorker) => port.postMessage(message);

/** Errors as plain objects: what pino prints for an `err`, and what survives the port. */
function plain(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const { name, message, stack } = value;
  const extra = value as Error & { code?: unknown; cause?: unknown };
  return {
    type: name,
    message,
    stack,
    ...(extra.code !== undefined ? { code: extra.code } : {}),
    ...(extra.cause !== undefined ? { cause: plain(extra.cause) } : {}),
  };
}

function forward(level: 'error' | 'warn' | 'info', fields: object, msg?: string): void {
  const plainFields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) plainFields[key] = plain(value);
  const message: FromRelayWorker = { type: 'log', level, fields: plainFields, msg: msg ?? '' };
  try {
    port?.postMessage(message);
  } catch {
    // A field the port cannot clone (a function, a socket): send it as text.
    port?.postMessage({ ...message, fields: JSON.parse(JSON.stringify(plainFields)) as object });
  }
}

/** Logs go to the main thread's logger (its level, its destination, its redaction). */
const forwardingLogger = {
  error: (fields: object, msg?: string) => forward('error', fields, msg),
  warn: (fields: object, msg?: string) => forward('warn', fields, msg),
  info: (fields: object, msg?: string) => forward('info', fields, msg),
};
const logger: RelayLogger = forwardingLogger;

/**
 * Spans: the publish span of each event continues the trace context written with it (from
 * `traceparent`), and its own context goes on the record, exactly as inline. When the main
 * thread records spans, this thread records its own, sampled as the main thread's SDK samples
 * (OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG; by default parent-based, so an unsampled
 * request stays unsampled), and posts them, finished, to the main thread's span processors;
 * otherwise spans are not recorded here either (ids are still generated for `traceparent`).
 */
class ForwardingSpanProcessor implements SpanProcessor {
  private queued: ForwardedSpan[] = [];
  private scheduled = false;

  onStart(): void {
    // Spans are sent once finished.
  }

  onEnd(span: ReadableSpan): void {
    const context = span.spanContext();
    this.queued.push({
      name: span.name,
      kind: span.kind,
      traceId: context.traceId,
      spanId: context.spanId,
      traceFlags: context.traceFlags,
      traceState: context.traceState?.serialize(),
      parentSpanId: span.parentSpanContext?.spanId,
      startTime: span.startTime,
      endTime: span.endTime,
      duration: span.duration,
      status: span.status,
      attributes: span.attributes,
      links: span.links.map((link) => ({
        context: {
          traceId: link.context.traceId,
          spanId: link.context.spanId,
          traceFlags: link.context.traceFlags,
        },
        attributes: link.attributes,
      })),
      events: span.events.map((event) => ({
        name: event.name,
        time: event.time,
        attributes: event.attributes,
        droppedAttributesCount: event.droppedAttributesCount,
      })),
      scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version },
      droppedAttributesCount: span.droppedAttributesCount,
      droppedEventsCount: span.droppedEventsCount,
      droppedLinksCount: span.droppedLinksCount,
    });
    // A batch's spans end together: one message for all of them.
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.queued.length === 0) return;
    const spans = this.queued;
    this.queued = [];
    post({ type: 'spans', spans });
  }

  forceFlush(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.forceFlush();
  }
}

const spanForwarder = new ForwardingSpanProcessor();
// As on the main thread: a service's SDK propagates W3C trace context and makes span ids (and
// records when it exports); without an SDK there, the worker does neither, as inline.
// The sampler settings the main thread's SDK read, whatever this thread's environment copy says.
for (const [name, value] of Object.entries(data.tracing.sampler)) {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
if (data.tracing.propagatesW3C) propagation.setGlobalPropagator(new W3CTraceContextPropagator());
if (data.tracing.recordSpans || data.tracing.makesSpans) {
  trace.setGlobalTracerProvider(
    new BasicTracerProvider(
      data.tracing.recordSpans
        ? // No sampler given: the SDK's, from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (set
          // above from the main thread's), as the main thread's SDK samples; parent-based
          // always-on when unset.
          { spanProcessors: [spanForwarder] }
        : { sampler: new AlwaysOffSampler() },
    ),
  );
}

/** The main thread's messages are this relay's in-process wake-ups. */
const wakeListeners = new Set<() => void>();
const wakeFlag = new Int32Array(data.wakeFlag);
const wakeups: RelayWakeups = {
  listen(listener) {
    wakeListeners.add(listener);
    return () => wakeListeners.delete(listener);
  },
  // From here on, a commit on the main thread posts a wake again (see RelayWorkerData.wakeFlag).
  reading: () => Atomics.store(wakeFlag, 0, 0),
};

async function main(): Promise<void> {
  const kafka = createKafka({
    brokers: data.brokers,
    clientId: data.clientId,
    logger,
  });
  const producer = createProducer(kafka);
  const relay = new OutboxRelay(wakeups, producer, data.relay, logger, {
    observePublished: (topic, latencies) => post({ type: 'published', topic, latencies }),
  });
  relay.onLanesChanged = (lanes) => post({ type: 'lanes', lanes });

  let stopping: Promise<void> | undefined;
  // A stop asked for while the relay is still starting waits for the start to settle.
  let stopRequested = false;
  let running = false;
  const stop = async () => {
    await relay.stop();
    await producer.disconnect();
    spanForwarder.flush();
    post({ type: 'stopped' });
    port?.close();
  };
  port?.on('message', (message: ToRelayWorker) => {
    switch (message.type) {
      case 'wake':
        for (const listener of wakeListeners) listener();
        return;
      case 'stop':
        stopRequested = true;
        if (running) stopping ??= stop();
        return;
      default:
        // A message this worker does not know is a bug on the other side: fail loudly (the
        // main thread logs it and starts a new worker).
        throw new Error(`relay worker: unknown message ${JSON.stringify(message)}`);
    }
  });

  try {
    await producer.connect();
    await relay.start();
  } catch (error) {
    post({ type: 'start-failed', error: plain(error) as Error });
    await relay.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    port?.close();
    return;
  }
  running = true;
  post({ type: 'started' });
  if (stopRequested) stopping ??= stop();
}

void main();
