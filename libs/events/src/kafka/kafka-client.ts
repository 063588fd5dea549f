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
