import type { Logger } from '@qiwei/platform';
import type { DataSource } from 'typeorm';
import type { EventMetrics } from '../metrics';

/** One consumer group's inbox and how long its entries must be kept. */
export interface InboxRetention {
  /** The consumer group (`qiwei.<service>.<subscription>`), the inbox's `consumer` column. */
  consumer: string;
  /** The subscribed topic's retention in ms; -1 (kept forever) means its entries are kept too. */
  topicRetentionMs: number;
}

export interface InboxPrunerOptions {
  /**
   * Kept beyond the topic's retention: a broker deletes whole log segments, so a record can
   * outlive its retention by up to a segment's age (Kafka's `segment.ms`, 7 days by default).
   */
  marginMs: number;
  /** How often a round runs (the first one shortly after start). */
  intervalMs: number;
  /** Rows deleted per statement (each its own short transaction). */
  batchSize: number;
  /** Statements per round at most, so a huge backlog is worked off over several rounds. */
  maxBatchesPerRound: number;
}

export const DEFAULT_INBOX_PRUNER_OPTIONS: InboxPrunerOptions = {
  marginMs: 7 * 24 * 60 * 60 * 1000,
  intervalMs: 60 * 60 * 1000,
  batchSize: 5_000,
  maxBatchesPerRound: 200,
};

/**
 * Deletes inbox entries that can no longer matter. An entry guards against handling a record
 * twice, and a record can only be delivered again while its topic still holds it: after the
 * topic's retention (plus the margin) no redelivery, not even a consumer group rewound to the
 * earliest offset, can bring it back. Entries of topics kept forever are never deleted. Several
 * instances may prune at once: each statement skips the rows another one holds.
 */
export class InboxPruner {
  private timer?: NodeJS.Timeout;
  private round?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly retentions: readonly InboxRetention[],
    private readonly options: InboxPrunerOptions,
    private readonly logger: Logger,
    private readonly metrics?: EventMetrics,
  ) {}

  /** Schedules rounds: the first after `firstDelayMs` (default a minute), then every interval. */
  start(firstDelayMs = 60_000): void {
    this.stopped = false;
    this.schedule(firstDelayMs);
  }

  /** Waits for a round in progress (it ends after its current statement) and stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round?.catch(() => undefined);
  }

  /** One round over every consumer group; how many entries it deleted. */
  async pruneOnce(): Promise<number> {
    let deleted = 0;
    for (const { consumer, topicRetentionMs } of this.retentions) {
      if (topicRetentionMs < 0) continue;
      const keepMs = topicRetentionMs + this.options.marginMs;
      for (let i = 0; i < this.options.maxBatchesPerRound && !this.stopped; i++) {
        const rows = await this.dataSource.query<{ n: number }[]>(
          `WITH gone AS (
             DELETE FROM event_inbox WHERE consumer = $1 AND event_id = ANY(ARRAY(
               SELECT event_id FROM event_inbox
                WHERE consumer = $1 AND processed_at < clock_timestamp() - make_interval(secs => $2)
                LIMIT $3 FOR UPDATE SKIP LOCKED))
             RETURNING 1)
           SELECT count(*)::int AS n FROM gone`,
          [consumer, keepMs / 1000, this.options.batchSize],
        );
        const n = rows[0].n;
        deleted += n;
        if (n) this.metrics?.inboxPruned.inc({ consumer }, n);
        if (n < this.options.batchSize) break;
      }
    }
    return deleted;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.pruneOnce();
      this.round
        .then((n) => {
          if (n)
            this.logger.info({ deleted: n }, 'inbox entries past their topics’ retention pruned');
        })
        .catch((error: unknown) => this.logger.warn({ err: error }, 'inbox pruning failed'))
        .finally(() => {
          this.round = undefined;
          this.schedule(this.options.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
