// Loaded by each service's `instrumentation.ts` before anything else, so the OpenTelemetry
// instrumentations can patch http and pg before those modules are first required.
// This file is its own entry point (`@qiwei/platform/tracing`) for that reason: the package
// index pulls in NestJS and Fastify.
import { context, propagation, trace } from '@opentelemetry/api';
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
  sdk = new NodeSDK({
    resource,
    // An explicit (possibly empty) list stops the SDK from configuring an exporter from env.
    spanProcessors: processors,
    // With somewhere to send spans, the SDK's sampler (OTEL_TRACES_SAMPLER, parent-based
    // always-on by default); without, record nothing.
    ...(processors.length === 0 ? { sampler: new AlwaysOffSampler() } : {}),
    // Metrics are scraped from /metrics (Prometheus) and logs go to stdout: without these empty
    // lists the SDK would add OTLP exporters from env, whose shutdown waits on a collector.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => /^\/(health|metrics)/.test(req.url ?? ''),
      }),
      new PgInstrumentation(),
      // Kafka spans are made by libs/events (see its tracing.ts): the generic kafkajs
      // instrumentation would parent them on the relay and overwrite `traceparent`.
    ],
  });
  sdk.start();
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
  sink = undefined;
  await running?.shutdown();
}

export { context, propagation, trace };
