import { z } from 'zod';

/** The variables of every service that publishes or consumes events. */
export const eventsConfigSchema = z.object({
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be a comma-separated list of host:port'),
  OUTBOX_LANES: z.coerce.number().int().min(1).max(64).default(4),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1_000),
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  /** A woken relay waits this long for more commits, so one batch carries many events. */
  OUTBOX_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(3),
  /**
   * `worker`: the relay runs in a worker thread of its own (its own event loop, database
   * connections and producer), next to the consumers and requests on the main thread;
   * `inline`: on the main thread.
   */
  OUTBOX_RELAY_MODE: z.enum(['worker', 'inline']).default('worker'),
  OUTBOX_PRUNE_AFTER_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(24 * 60 * 60 * 1000),
  CONSUMER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /**
   * Inbox entries are kept for their topic's retention plus this margin (a broker deletes whole
   * segments, so records outlive retention by up to a segment's age: Kafka's segment.ms, 7 days).
   */
  CONSUMER_INBOX_PRUNE_MARGIN_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(7 * 24 * 60 * 60 * 1000),
  CONSUMER_INBOX_PRUNE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(60 * 60 * 1000),
  CONSUMER_RETRY_BACKOFF_MS: z.coerce.number().int().min(1).max(60_000).default(200),
});

export type EventsConfig = z.infer<typeof eventsConfigSchema>;

export const brokersOf = (config: Pick<EventsConfig, 'KAFKA_BROKERS'>) =>
  config.KAFKA_BROKERS.split(',');
