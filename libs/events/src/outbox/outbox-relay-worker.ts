import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { propagation, ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { defaultResource, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { DataSource } from 'typeorm';
import type { OutboxRelayOptions, PublishObserver, RelayLogger } from './outbox-relay';
import { outboxSignalOf } from './outbox-signal';
import type {
  ForwardedSpan,
  FromRelayWorker,
  RelayWorkerData,
  ToRelayWorker,
} from './relay-worker-protocol';

export interface OutboxRelayWorkerOptions {
  relay: OutboxRelayOptions;
  /** Kafka bootstrap brokers and client id of the worker's own producer. */
  brokers: string[];
  clientId: string;
  /**
   * The main thread's span processors, when it records spans (see `tracingSpanSink` in
   * `@qiwei/platform/tracing`): the worker's publish spans are forwarded to them.
   */
  spans?: { processor: SpanProcessor; resource?: Resource };
  /** First pause before a crashed worker is started again; doubles up to `maxRestartDelayMs`. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** How long `stop()` waits for the worker to finish its batch before terminating it. */
  stopTimeoutMs?: number;
}

/**
 * The worker's compiled entry point. Services run from `dist/` (swc output, where the `@qiwei/*`
 * aliases are already rewritten to relative paths), so it sits next to this file. Under jest this
 * file is TypeScript loaded from `src/`, and a worker thread cannot load TypeScript with the
 * aliases: it then uses the build's copy (`npm run build`, which `npm test` runs first).
 */
export function relayWorkerEntry(): string {
  const here = join(__dirname, 'relay-worker.js');
  if (existsSync(here)) return here;
  const root = resolve(__dirname, '../../../..');
  const built = join(root, 'dist', 'libs', 'events', 'src', 'outbox', 'relay-worker.js');
  if (!existsSync(built)) {
    throw new Error(`${built} is missing: run \`npm run build\` first (npm test does)`);
  }
  return built;
}

const NEVER_STARTED = Symbol('never started');

/** What the worker mirrors of this thread's tracing (see RelayWorkerData). */
function mainThreadTracing(recordSpans: boolean): RelayWorkerData['tracing'] {
  // A child of an unsampled parent: an SDK gives it an id of its own (and, sampling by parent,
  // records and exports nothing); the API's no-op tracer passes the parent's context through.
  const parent: SpanContext = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.NONE,
    isRemote: true,
  };
  const probe = trace
    .getTracer('@qiwei/events')
    .startSpan('relay worker tracing probe', {}, trace.setSpanContext(ROOT_CONTEXT, parent));
  const makesSpans = probe.spanContext().spanId !== parent.spanId;
  probe.end();
  return {
    recordSpans,
    makesSpans,
    propagatesW3C: propagation.fields().includes('traceparent'),
    sampler: {
      OTEL_TRACES_SAMPLER: process.env.OTEL_TRACES_SAMPLER,
      OTEL_TRACES_SAMPLER_ARG: process.env.OTEL_TRACES_SAMPLER_ARG,
    },
  };
}

/**
 * The outbox relay in a worker thread (OUTBOX_RELAY_MODE=worker): the same OutboxRelay, on an
 * event loop of its own, so the relay and the service's consumers and requests use two cores.
 * This side wakes it on this process's commits, mirrors the lanes it holds, records its publish
 * metrics in the service's registry, hands its spans to the service's span processors and writes
 * its logs through the service's logger. A worker that dies (uncaught error, unhandled
 * rejection, exit) is logged and started again with backoff; its leases died with its database
 * session, and rows it had not marked are published again (at least once; consumers dedupe).
 */
export class OutboxRelayWorker {
  private worker?: Worker;
  private heldLanes: number[] = [];
  private running = false;
  private unlisten?: () => void;
  private restartTimer?: NodeJS.Timeout;
  private restarts = 0;
  private readonly resource: Resource | undefined;
  /** See RelayWorkerData.wakeFlag: shared with the worker in place. */
  private wakeFlag = new Int32Array(new SharedArrayBuffer(4));
  /** Resolves when the worker in place has exited (undefined when none runs). */
  private exited?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: OutboxRelayWorkerOptions,
    private readonly logger: RelayLogger,
    private readonly metrics?: PublishObserver,
  ) {
    this.resource = options.spans ? (options.spans.resource ?? defaultResource()) : undefined;
  }

  /** Lanes the worker relays right now (as it last reported them). */
  lanes(): number[] {
    return [...this.heldLanes];
  }

  /** The worker thread in place (for diagnostics and tests); undefined between restarts. */
  currentWorker(): Worker | undefined {
    return this.worker;
  }

  /** Starts the worker; resolves once its relay runs, rejects if it cannot start. */
  async start(): Promise<void> {
    this.running = true;
    this.unlisten = outboxSignalOf(this.dataSource).listen(
      () => {
        // Only when no wake is on its way since the relay last began reading the outbox.
        if (Atomics.exchange(this.wakeFlag, 0, 1) === 0) this.post({ type: 'wake' });
      },
      () => this.heldLanes.length === this.options.relay.lanes,
    );
    try {
      await this.spawn();
    } catch (error) {
      this.running = false;
      this.unlisten();
      clearTimeout(this.restartTimer);
      throw error;
    }
  }

  /** The batch in flight finishes, leases are released, the worker exits. */
  async stop(): Promise<void> {
    this.running = false;
    this.unlisten?.();
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    const exited = this.exited;
    if (!worker || !exited) return;
    this.post({ type: 'stop' });
    const timeoutMs = this.options.stopTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((done) => {
      timer = setTimeout(() => done(true), timeoutMs);
    });
    if (await Promise.race([exited.then(() => false), timedOut])) {
      this.logger.warn({ timeoutMs }, 'outbox relay worker: did not stop in time; terminating it');
      await worker.terminate();
      await exited;
    }
    clearTimeout(timer);
  }

  private post(message: ToRelayWorker): void {
    this.worker?.postMessage(message);
  }

  private spawn(): Promise<void> {
    // A new worker gets a flag of its own: whatever the last one left in its flag, this one
    // reads the outbox as it starts, and commits from now on wake it.
    this.wakeFlag = new Int32Array(new SharedArrayBuffer(4));
    const workerData: RelayWorkerData = {
      relay: this.options.relay,
      brokers: this.options.brokers,
      clientId: this.options.clientId,
      tracing: mainThreadTracing(Boolean(this.options.spans)),
      wakeFlag: this.wakeFlag.buffer,
    };
    const worker = new Worker(relayWorkerEntry(), {
      workerData,
      name: 'qiwei-outbox-relay',
      // Its output, if any (its logs come over the port), goes to this process's.
      stdout: false,
      stderr: false,
    });
    this.worker = worker;
    const startedAt = Date.now();
    let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
    const started = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    let failure: unknown = NEVER_STARTED;
    let stoppedCleanly = false;

    worker.on('message', (message: FromRelayWorker) => {
      switch (message.type) {
        case 'started':
          failure = undefined;
          settle?.resolve();
          return;
        case 'start-failed':
          failure = Object.assign(
            new Error(`outbox relay worker: could not start: ${message.error.message}`),
            { cause: message.error },
          );
          return;
        case 'lanes':
          this.heldLanes = message.lanes;
          return;
        case 'published':
          this.metrics?.observePublished(message.topic, message.latencies);
          return;
        case 'log':
          this.logger[message.level](message.fields, message.msg);
          return;
        case 'spans':
          this.exportSpans(message.spans);
          return;
        case 'stopped':
          stoppedCleanly = true;
          return;
      }
    });
    worker.on('error', (error) => {
      // An uncaught exception or unhandled rejection in the worker: it exits next.
      this.logger.error({ err: error }, 'outbox relay worker: crashed');
      if (failure === NEVER_STARTED) failure = error;
    });
    this.exited = new Promise<void>((done) => {
      worker.once('exit', (code) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.heldLanes = [];
        }
        done();
        if (failure !== undefined) {
          // It never got its relay running: the first start reports it to the caller.
          settle?.reject(
            failure === NEVER_STARTED
              ? new Error(`outbox relay worker exited (code ${code}) before it started`)
              : failure,
          );
        }
        if (!this.running || stoppedCleanly) return;
        this.logger.error(
          { code, restartInMs: this.restartDelay() },
          'outbox relay worker: exited unexpectedly; starting a new one',
        );
        // A worker that ran for a while before dying starts over at the shortest delay.
        if (Date.now() - startedAt > 60_000) this.restarts = 0;
        this.scheduleRestart();
      });
    });
    return started;
  }

  private restartDelay(): number {
    const first = this.options.restartDelayMs ?? 500;
    const max = this.options.maxRestartDelayMs ?? 30_000;
    return Math.min(max, first * 2 ** Math.min(this.restarts, 16));
  }

  private scheduleRestart(): void {
    const delay = this.restartDelay();
    this.restarts += 1;
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.spawn().then(
        () => this.logger.info({ restarts: this.restarts }, 'outbox relay worker: running again'),
        (error: unknown) => {
          // Its exit handler already scheduled the next attempt.
          this.logger.error({ err: error }, 'outbox relay worker: could not start');
        },
      );
    }, delay);
  }

  /** The worker's finished spans, as the main thread's span processors expect them. */
  private exportSpans(spans: ForwardedSpan[]): void {
    const sink = this.options.spans;
    const resource = this.resource;
    if (!sink || !resource) return;
    for (const span of spans) {
      const context: SpanContext = {
        traceId: span.traceId,
        spanId: span.spanId,
        traceFlags: span.traceFlags,
      };
      const parent: SpanContext | undefined = span.parentSpanId
        ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: span.traceFlags }
        : undefined;
      const readable: ReadableSpan = {
        name: span.name,
        kind: span.kind,
        spanContext: () => context,
        parentSpanContext: parent,
        startTime: span.startTime,
        endTime: span.endTime,
        duration: span.duration,
        status: span.status,
        attributes: span.attributes,
        links: span.links.map((link) => ({ context: link.context, attributes: link.attributes })),
        events: span.events,
        ended: true,
        resource,
        instrumentationScope: span.scope,
        droppedAttributesCount: span.droppedAttributesCount,
        droppedEventsCount: span.droppedEventsCount,
        droppedLinksCount: span.droppedLinksCount,
      };
      sink.processor.onEnd(readable);
    }
  }
}
