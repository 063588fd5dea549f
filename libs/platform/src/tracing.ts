// Loaded by each service's `instrumentation.ts` before anything else, so the OpenTelemetry
// instrumentations can patch http and pg before those modules are first required.
// This file is its own entry point (`@qiwei/platform/tracing`) for that reason: the package
// index pulls in NestJS and Fastify.
import { Server, type IncomingMessage } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TracingOptions {
  serviceName: string;
  serviceVersion?: string;
  /**
   * OTLP/HTTP endpoint. Without it (and without `spanProcessors`) nothing would ever read a
   * span, so spans are not recorded: they still carry trace and span ids (for the logs and the
   * `traceparent` sent on), at a fraction of the cost.
   */
  otlpEndpoint?: string;
  /** Extra processors, e.g. an in-memory exporter in tests. */
  spanProcessors?: SpanProcessor[];
}

let sdk: NodeSDK | undefined;
/** Undoes the light incoming-request context (see continueIncomingTraces). */
let unpatchIncoming: (() => void) | undefined;
/** What startTracing configured, for spans made in worker threads (see tracingSpanSink). */
let sink: { processor: SpanProcessor; resource: Resource } | undefined;

export function startTracing(options: TracingOptions): void {
  if (sdk) return;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) {
    processors.push(
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }),
      ),
    );
  }
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.serviceName,
    [ATTR_SERVICE_VERSION]: options.serviceVersion ?? '0.0.0',
  });
  sink =
    processors.length === 0
      ? undefined
      : {
          resource,
          processor: {
            onStart: () => undefined,
            onEnd: (span) => processors.forEach((p) => p.onEnd(span)),
            forceFlush: async () => void (await Promise.all(processors.map((p) => p.forceFlush()))),
            shutdown: () => Promise.resolve(), // the SDK shuts its processors down
          },
        };
  const recording = processors.length > 0;
  sdk = new NodeSDK({
    resource,
    // An explicit (possibly empty) list stops the SDK from configuring an exporter from env.
    spanProcessors: processors,
    // With somewhere to send spans, the SDK's sampler (OTEL_TRACES_SAMPLER, parent-based
    // always-on by default); without, record nothing.
    ...(recording ? {} : { sampler: new AlwaysOffSampler() }),
    // Metrics are scraped from /metrics (Prometheus) and logs go to stdout: without these empty
    // lists the SDK would add OTLP exporters from env, whose shutdown waits on a collector.
    metricReaders: [],
    logRecordProcessors: [],
    // Kafka spans are made by libs/events (see its tracing.ts): the generic kafkajs
    // instrumentation would parent them on the relay and overwrite `traceparent`.
    instrumentations: recording
      ? [
          new HttpInstrumentation({
            ignoreIncomingRequestHook: (req) => IGNORED_PATHS.test(req.url ?? ''),
          }),
          new PgInstrumentation(),
        ]
      : // Spans nobody records: no wrapper around every query (a pg span unrecorded carries
        // nothing), and incoming requests get only their trace context (continueIncomingTraces)
        // instead of the full server instrumentation, which measured ~5% of a message send's
        // CPU. Outgoing requests still carry `traceparent`.
        [new HttpInstrumentation({ disableIncomingRequestInstrumentation: true })],
  });
  sdk.start();
  if (!recording) unpatchIncoming = continueIncomingTraces();
}

/** Requests without a span (as with the full HTTP instrumentation): probes and scrapes. */
const IGNORED_PATHS = /^\/(health|metrics)/;

/**
 * When no span is recorded: each incoming request runs in the context of a span that continues
 * the caller's `traceparent` (or starts a trace), so its logs carry trace and span ids and the
 * events it writes carry the trace on — what the full HTTP instrumentation gives, without its
 * attributes, hooks and wrappers. Patches `http.Server.prototype.emit` as that instrumentation
 * does; returns the undo.
 */
function continueIncomingTraces(): () => void {
  const tracer = trace.getTracer('@qiwei/platform');
  // Called as each server's own method, with the server as `this`, as it always was.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = Server.prototype.emit;
  const emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request') return Reflect.apply(original, this, [event, ...args]) as boolean;
    const request = args[0] as IncomingMessage;
    if (IGNORED_PATHS.test(request.url ?? ''))
      return Reflect.apply(original, this, [event, ...args]) as boolean;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(request.method ?? 'HTTP', { kind: SpanKind.SERVER }, parent);
    return context.with(
      trace.setSpan(parent, span),
      () => Reflect.apply(original, this, [event, ...args]) as boolean,
    );
  };
  Server.prototype.emit = emit as typeof original;
  return () => {
    if (Server.prototype.emit === emit) Server.prototype.emit = original;
  };
}

/** Tracing from the process environment, as each service's instrumentation.ts calls it. */
export function startTracingFromEnv(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (env.OTEL_SDK_DISABLED === 'true') return;
  startTracing({
    serviceName: env.OTEL_SERVICE_NAME ?? `qiwei-${serviceName}`,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
  });
}

/**
 * The span processors and resource this process records with, or undefined when it records no
 * spans: a worker thread (which has no SDK of its own) forwards its finished spans here.
 */
export function tracingSpanSink(): { processor: SpanProcessor; resource: Resource } | undefined {
  return sink;
}

export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  unpatchIncoming?.();
  unpatchIncoming = undefined;
  sink = undefined;
  await running?.shutdown();
}

export { context, propagation, trace };
