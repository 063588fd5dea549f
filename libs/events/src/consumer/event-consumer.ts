import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { TopicDefinition } from '@qiwei/contracts';
import { deadLetterTopicOf } from '@qiwei/contracts';
import type { Logger } from '@qiwei/platform';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { decodeEvent, headersOf, type RawRecord, type ReceivedEvent } from '../cloud-event';
import { REDRIVE_HEADER } from '../dead-letter/redrive';
import { isNonRetriable } from '../errors';
import type { EventMetrics } from '../metrics';
import { contextFromHeaders, tracer } from '../tracing';

/** A service's interest in one topic. The handler runs inside the inbox transaction. */
export interface Subscription {
  /** Names the consumer group: `qiwei.<service>.<name>`. */
  name: string;
  topic: TopicDefinition;
  handle(event: ReceivedEvent, manager: EntityManager): Promise<void>;
}

export interface EventConsumerOptions {
  service: string;
  /** Attempts per record before it is dead-lettered (non-retriable errors: one). */
  maxAttempts: number;
  /** First retry delay; doubles each attempt, capped at 30 s. */
  retryBackoffMs: number;
  /** Records handled in one transaction when all goes well. */
  chunkSize: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Partitions handled at the same time (order within each partition is kept). */
  partitionsConsumedConcurrently: number;
  /** Most bytes one fetch takes from a partition (kafkajs `maxBytesPerPartition`). */
  maxBytesPerPartition?: number;
  /** Most bytes of one fetch across its partitions (kafkajs `maxBytes`). */
  maxBytes?: number;
}

export const DEFAULT_CONSUMER_OPTIONS: Omit<EventConsumerOptions, 'service'> = {
  maxAttempts: 5,
  retryBackoffMs: 200,
  chunkSize: 500,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  partitionsConsumedConcurrently: 3,
};

interface Decoded {
  partition: number;
  message: KafkaMessage;
  event?: ReceivedEvent;
  poison?: Error;
}

class StoppingError extends Error {}

/** Which record of a run failed, so that failure counts as its first attempt. */
class RunFailure extends Error {
  constructor(
    readonly eventId: string,
    readonly failure: unknown,
  ) {
    super(`event ${eventId} failed`);
  }
}

/**
 * One kafkajs consumer for one subscription, in the service's consumer group. Each record is
 * validated against its schema, then handled in a transaction that also records its event id
 * in the inbox, so a redelivered record changes nothing. Offsets are committed only after that
 * transaction commits. Failures are retried with backoff a bounded number of times; then — or
 * at once for poison and non-retriable errors — the record goes to `<topic>.dlq` with the
 * error attached, and consumption continues.
 */
export class EventConsumer {
  readonly groupId: string;
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly dataSource: DataSource,
    private readonly producer: Producer,
    private readonly subscription: Subscription,
    private readonly options: EventConsumerOptions,
    private readonly logger: Logger,
    private readonly metrics?: EventMetrics,
  ) {
    this.groupId = `qiwei.${options.service}.${subscription.name}`;
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: this.options.heartbeatIntervalMs,
      retry: { retries: 10 },
      maxBytesPerPartition: this.options.maxBytesPerPartition,
      maxBytes: this.options.maxBytes,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.subscription.topic.name, fromBeginning: true });
    await consumer.run({
      // Only offsets of records whose transaction committed are resolved, and so committed.
      // Committing at most once a second keeps the broker off the hot path; after a crash the
      // inbox absorbs the redelivered second.
      autoCommit: true,
      autoCommitInterval: 1_000,
      eachBatchAutoResolve: false,
      // Partitions are independent; overlapping them hides database round trips.
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** Finishes the batch in hand, commits what finished, leaves the group. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (!consumer) return;
    await consumer.stop();
    await consumer.disconnect();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const isRunning = () => payload.isRunning();
    const isStale = () => payload.isStale();
    // Long handlers must not look like a dead member.
    const beat = setInterval(
      () => void payload.heartbeat().catch(() => undefined),
      this.options.heartbeatIntervalMs,
    );
    try {
      const decoded = batch.messages.map((message) =>
        this.decode(batch.topic, batch.partition, message),
      );
      let run: Decoded[] = [];
      const flush = async () => {
        if (run.length === 0) return;
        await this.handleRun(run, isRunning);
        payload.resolveOffset(run[run.length - 1].message.offset);
        run = [];
        await payload.commitOffsetsIfNecessary();
      };
      for (const item of decoded) {
        if (!isRunning() || isStale()) break;
        if (item.poison) {
          await flush();
          await this.deadLetter(item, item.poison, 1);
          payload.resolveOffset(item.message.offset);
          await payload.commitOffsetsIfNecessary();
          continue;
        }
        run.push(item);
        if (run.length >= this.options.chunkSize) await flush();
      }
      if (isRunning() && !isStale()) await flush();
      this.metrics?.consumerLag.set(
        { consumer: this.groupId, topic: batch.topic, partition: String(batch.partition) },
        Number(batch.offsetLag()),
      );
    } catch (error) {
      if (error instanceof StoppingError) return; // unresolved records are redelivered
      throw error;
    } finally {
      clearInterval(beat);
    }
  }

  private decode(topic: string, partition: number, message: KafkaMessage): Decoded {
    const record: RawRecord = {
      topic,
      partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers: message.headers,
      timestamp: message.timestamp,
    };
    try {
      return { partition, message, event: decodeEvent(this.subscription.topic, record) };
    } catch (error) {
      return { partition, message, poison: error as Error };
    }
  }

  /** Handles records in one transaction; on any failure, one by one with retries. */
  private async handleRun(run: Decoded[], isRunning: () => boolean): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await this.dataSource.transaction(async (manager) => {
        const done = await this.claim(
          manager,
          run.map((item) => item.event as ReceivedEvent),
        );
        for (const item of run) {
          const event = item.event as ReceivedEvent;
          if (done.has(event.id)) continue; // already handled (or twice in this run)
          done.add(event.id);
          try {
            await this.invoke(event, manager);
          } catch (error) {
            throw new RunFailure(event.id, error);
          }
        }
      });
      this.observe(started, run.length, 'ok');
    } catch (error) {
      // The transaction rolled back: handle the run one record at a time, so a failing record
      // is retried (and perhaps dead-lettered) alone. Its failure here was its first attempt.
      const failed = error instanceof RunFailure ? error : undefined;
      if (run.length > 1) {
        this.logger.warn(
          { err: failed?.failure ?? error, consumer: this.groupId },
          'handling a run one by one',
        );
      }
      for (const item of run) {
        const first = failed && item.event?.id === failed.eventId ? failed.failure : undefined;
        await this.handleWithRetries(item, isRunning, first);
      }
    }
  }

  private async handleWithRetries(
    item: Decoded,
    isRunning: () => boolean,
    firstError?: unknown,
  ): Promise<void> {
    const event = item.event as ReceivedEvent;
    let attempts = firstError === undefined ? 0 : 1;
    let lastError = firstError;
    for (;;) {
      if (lastError !== undefined) {
        if (isNonRetriable(lastError) || attempts >= this.options.maxAttempts) break;
        this.metrics?.retries.inc({ consumer: this.groupId, topic: event.topic });
        await this.backoff(attempts, isRunning);
      }
      attempts += 1;
      const started = process.hrtime.bigint();
      try {
        await this.dataSource.transaction(async (manager) => {
          const done = await this.claim(manager, [event]);
          if (!done.has(event.id)) await this.invoke(event, manager);
        });
        this.observe(started, 1, 'ok');
        return;
      } catch (error) {
        this.observe(started, 1, 'error');
        lastError = error;
      }
    }
    await this.deadLetter(
      item,
      lastError instanceof Error ? lastError : new Error(JSON.stringify(lastError)),
      attempts,
    );
  }

  /**
   * Inserts the event ids into the inbox; returns those handled before (the ids it could not
   * claim), which the caller skips.
   */
  private async claim(manager: EntityManager, events: ReceivedEvent[]): Promise<Set<string>> {
    // A dead-lettered event is handled again only when it was re-driven on purpose.
    const redriven: string[] = [];
    // One row per id even when a record arrived twice in the same run (ON CONFLICT needs it).
    const ids = new Set<string>();
    for (const event of events) {
      ids.add(event.id);
      if (event.headers[REDRIVE_HEADER] !== undefined) redriven.push(event.id);
    }
    // Only the ids not claimed come back: none at all when nothing is redelivered, instead of
    // a row per event.
    const rows = await manager.query<{ event_id: string }[]>(
      `WITH claimed AS (
         INSERT INTO event_inbox (consumer, event_id, status)
         SELECT $1, id, 'processed' FROM unnest($2::text[]) AS id
         ON CONFLICT (consumer, event_id) DO UPDATE SET status = 'processed', processed_at = now()
           WHERE event_inbox.status = 'dead_lettered' AND event_inbox.event_id = ANY($3::text[])
         RETURNING event_id)
       SELECT id AS event_id FROM unnest($2::text[]) AS id
        WHERE id NOT IN (SELECT event_id FROM claimed)`,
      [this.groupId, [...ids], redriven],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  private async invoke(event: ReceivedEvent, manager: EntityManager): Promise<void> {
    await tracer.startActiveSpan(
      `${event.topic} process`,
      { kind: SpanKind.CONSUMER },
      contextFromHeaders(event.headers),
      async (span) => {
        // Attributes only for a span that records them (not built per event for nothing).
        if (span.isRecording()) {
          span.setAttributes({
            'messaging.system': 'kafka',
            'messaging.destination.name': event.topic,
            'messaging.consumer.group.name': this.groupId,
            'messaging.message.id': event.id,
            'messaging.kafka.offset': Number(event.offset),
            'cloudevents.event_type': event.type,
          });
        }
        try {
          await this.subscription.handle(event, manager);
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  private async deadLetter(item: Decoded, error: Error, attempts: number): Promise<void> {
    const topic = this.subscription.topic.name;
    const headers = headersOf({ headers: item.message.headers });
    await this.producer.send({
      topic: deadLetterTopicOf(topic),
      acks: -1,
      messages: [
        {
          key: item.message.key,
          value: item.message.value,
          headers: {
            ...headers,
            dlq_error: `${error.name}: ${error.message}`.slice(0, 4_000),
            dlq_original_topic: topic,
            dlq_original_partition: String(item.partition),
            dlq_original_offset: item.message.offset,
            dlq_attempts: String(attempts),
            dlq_failed_at: new Date().toISOString(),
            dlq_consumer: this.groupId,
          },
        },
      ],
    });
    if (item.event) {
      // Remember it, so a redelivery of the same record is not dead-lettered twice.
      await this.dataSource.query(
        `INSERT INTO event_inbox (consumer, event_id, status) VALUES ($1, $2, 'dead_lettered') ON CONFLICT DO NOTHING`,
        [this.groupId, item.event.id],
      );
    }
    this.metrics?.deadLettered.inc({ consumer: this.groupId, topic });
    this.logger.error(
      {
        consumer: this.groupId,
        topic,
        offset: item.message.offset,
        eventId: item.event?.id,
        attempts,
        err: error,
      },
      'event dead-lettered',
    );
    const activeSpan = trace.getActiveSpan();
    activeSpan?.addEvent('dead-lettered', { topic, offset: item.message.offset });
  }

  private async backoff(attempt: number, isRunning: () => boolean): Promise<void> {
    const delay = Math.min(this.options.retryBackoffMs * 2 ** (attempt - 1), 30_000);
    const deadline = Date.now() + delay;
    while (Date.now() < deadline) {
      if (!isRunning()) throw new StoppingError();
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, deadline - Date.now())));
    }
  }

  private observe(started: bigint, count: number, outcome: 'ok' | 'error'): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9 / Math.max(count, 1);
    this.metrics?.handlerDuration.observe(
      { consumer: this.groupId, topic: this.subscription.topic.name, outcome },
      seconds,
    );
  }
}
