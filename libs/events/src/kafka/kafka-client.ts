import type { TopicDefinition } from '@qiwei/contracts';
import type { Logger } from '@qiwei/platform';
import { Kafka, logLevel, Partitioners, type Admin, type LogEntry, type Producer } from 'kafkajs';
import { deadLetterTopicOf } from '@qiwei/contracts';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** A pino logger, or anything with its `error` and `warn` (the relay worker's forwarder). */
  logger?: Pick<Logger, 'error' | 'warn'>;
}

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: unknown;
  scheduleCheckPendingRequests: (this: RequestQueueInternals) => void;
}
const PATCHED = Symbol.for('qiwei.kafkajs.idleRequestQueue');

/**
 * Stops kafkajs 2.2.4 from spinning on every idle connection. Its request queue re-arms a timer
 * after every check, even with nothing pending and no throttling, and with a negative delay
 * (Node runs it after 1 ms, with a TimeoutNegativeWarning): about 1,000 wake-ups and ~50 ms of
 * CPU per second per broker connection, measured here on an idle relay, and the same wake-ups
 * interleaved with the event loop's work under load (kafkajs issues #1556, #1704; unreleased
 * fix in PR #1667). Nothing is lost by not arming it: a request that has to wait is queued by
 * `push()`, which arms the check itself, and a throttled queue still gets its timer. Applied
 * once per module instance; a kafkajs whose queue looks different is left alone.
 */
export function patchKafkaRequestQueue(): boolean {
  let RequestQueue: { prototype: RequestQueueInternals & { [PATCHED]?: true } };
  try {
    // The internal module kafkajs itself loads (no `exports` map: deep paths resolve).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    RequestQueue = require('kafkajs/src/network/requestQueue') as typeof RequestQueue;
  } catch {
    return false;
  }
  const proto = RequestQueue.prototype;
  if (proto[PATCHED]) return true;
  const original = Object.getOwnPropertyDescriptor(proto, 'scheduleCheckPendingRequests')?.value as
    ((this: RequestQueueInternals) => void) | undefined;
  if (typeof original !== 'function' || !String(original).includes('this.throttledUntil')) {
    return false;
  }
  proto.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    const idle =
      this.pending.length === 0 &&
      !this.throttleCheckTimeoutId &&
      this.throttledUntil - Date.now() <= 0;
    if (!idle) original.call(this);
  };
  proto[PATCHED] = true;
  return true;
}

patchKafkaRequestQueue();

/** A kafkajs client whose logs go to the service's logger (warnings and errors only). */
export function createKafka(settings: KafkaSettings): Kafka {
  const logger = settings.logger;
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        if (!logger) return;
        const { message, ...extra } = log;
        if (level === logLevel.ERROR) logger.error({ kafka: extra }, message);
        else logger.warn({ kafka: extra }, message);
      },
  });
}

/**
 * The only kind of producer Qiwei uses: idempotent, one request in flight (strict order per
 * partition), Java-compatible partitioner (a key lands where any other client puts it).
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/**
 * Creates the owning service's topics (and their dead-letter topics) with the partitions and
 * retention of the catalog. Existing topics are left as they are.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicDefinition[],
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = topics.flatMap((topic) => [
    { topic: topic.name, numPartitions: topic.partitions, retentionMs: topic.retentionMs },
    // Dead letters are kept until an operator acts on them (docs/asyncapi.yaml says the same).
    { topic: deadLetterTopicOf(topic.name), numPartitions: topic.partitions, retentionMs: -1 },
  ]);
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((t) => ({
      topic: t.topic,
      numPartitions: t.numPartitions,
      configEntries: [{ name: 'retention.ms', value: String(t.retentionMs) }],
    })),
  });
}
