// What the main thread and the outbox relay's worker thread say to each other (structured
// clone over the worker's port). Kept free of runtime imports: both sides load it.
import type { Attributes, HrTime, Link, SpanKind, SpanStatus } from '@opentelemetry/api';
import type { OutboxRelayOptions } from './outbox-relay';

/** The worker's `workerData`: everything it needs to build its own relay. */
export interface RelayWorkerData {
  relay: OutboxRelayOptions;
  brokers: string[];
  clientId: string;
  /**
   * The main thread's tracing, mirrored: whether it records spans (the worker then records and
   * forwards its own), makes span ids at all (an SDK, even one that records nothing), and
   * propagates W3C trace context.
   */
  tracing: {
    recordSpans: boolean;
    makesSpans: boolean;
    propagatesW3C: boolean;
    /**
     * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as the main thread's SDK read them: the
     * worker samples its spans with the same sampler (unset: parent-based always-on).
     */
    sampler: { OTEL_TRACES_SAMPLER?: string; OTEL_TRACES_SAMPLER_ARG?: string };
  };
  /**
   * One Int32 shared by both threads: 1 while a `wake` is on its way and the relay has not yet
   * begun reading the outbox since. The main thread posts a `wake` only when it sets it from 0,
   * and the worker sets it back to 0 as each read of the outbox begins: commits that land
   * before that read need no message of their own (it sees them), so a busy service posts about
   * one message per relay batch instead of one per commit.
   */
  wakeFlag: SharedArrayBuffer;
}

export type ToRelayWorker =
  /** This process committed an outbox write. */
  | { type: 'wake' }
  /** Finish the batch in flight, release the lanes, disconnect, exit. */
  | { type: 'stop' };

/** A finished span of the worker, for the main thread's span processors. */
export interface ForwardedSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
  parentSpanId?: string;
  startTime: HrTime;
  endTime: HrTime;
  duration: HrTime;
  status: SpanStatus;
  attributes: Attributes;
  links: Link[];
  events: {
    name: string;
    time: HrTime;
    attributes?: Attributes;
    droppedAttributesCount?: number;
  }[];
  scope: { name: string; version?: string };
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
}

export type FromRelayWorker =
  /** The relay runs (its LISTEN session is up); lanes follow in `lanes` messages. */
  | { type: 'started' }
  /** The relay could not start; the worker exits after this. */
  | { type: 'start-failed'; error: Error }
  | { type: 'lanes'; lanes: number[] }
  /** Events of one topic acknowledged by Kafka, with their outbox-to-ack latencies (s). */
  | { type: 'published'; topic: string; latencies: number[] }
  | { type: 'log'; level: 'error' | 'warn' | 'info'; fields: Record<string, unknown>; msg: string }
  | { type: 'spans'; spans: ForwardedSpan[] }
  /** Stopped on request: the batch in flight finished, leases released, producer disconnected. */
  | { type: 'stopped' };
