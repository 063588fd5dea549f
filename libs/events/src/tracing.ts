import { context, propagation, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';

/**
 * Kafka tracing is done here rather than by the generic kafkajs instrumentation: that one
 * parents the send span on whatever context is active when the relay sends (the relay's own)
 * and overwrites `traceparent`, which would cut every event off from the request that caused
 * it. Here the publish span is a child of the context captured when the event was written to
 * the outbox, and the consumer's span a child of the publish span: one trace end to end.
 */
export const tracer = trace.getTracer('@qiwei/events');

/** W3C trace context of the active span, as headers (empty when nothing is being traced). */
export function currentTraceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

export function contextFromHeaders(headers: Record<string, string>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

/** Replaces the W3C trace context in `headers` (owned by the caller) with `ctx`'s; returns them. */
export function replaceTraceHeaders(
  headers: Record<string, string>,
  ctx: Context,
): Record<string, string> {
  delete headers.traceparent;
  delete headers.tracestate;
  propagation.inject(ctx, headers);
  return headers;
}
