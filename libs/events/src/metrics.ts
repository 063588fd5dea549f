import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { PublishObserver } from './outbox/outbox-relay';

/** The event pipeline's Prometheus metrics, registered in the service's registry. */
export class EventMetrics implements PublishObserver {
  readonly published: Counter<'topic'>;
  readonly publishLatency: Histogram<'topic'>;
  readonly handlerDuration: Histogram<'consumer' | 'topic' | 'outcome'>;
  readonly consumerLag: Gauge<'consumer' | 'topic' | 'partition'>;
  readonly deadLettered: Counter<'consumer' | 'topic'>;
  readonly retries: Counter<'consumer' | 'topic'>;
  readonly inboxPruned: Counter<'consumer'>;

  constructor(registry: Registry, dataSource?: DataSource) {
    const registers = [registry];
    this.published = new Counter({
      name: 'qiwei_outbox_published_total',
      help: 'Events the relay published to Kafka.',
      labelNames: ['topic'],
      registers,
    });
    this.publishLatency = new Histogram({
      name: 'qiwei_outbox_publish_latency_seconds',
      help: 'From the outbox write to the Kafka acknowledgement.',
      labelNames: ['topic'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.handlerDuration = new Histogram({
      name: 'qiwei_event_handler_duration_seconds',
      help: 'Time to handle one event, including its transaction.',
      labelNames: ['consumer', 'topic', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'qiwei_consumer_lag_messages',
      help: 'Messages between the high watermark and the last processed offset.',
      labelNames: ['consumer', 'topic', 'partition'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'qiwei_consumer_dead_lettered_total',
      help: 'Records sent to a dead-letter topic.',
      labelNames: ['consumer', 'topic'],
      registers,
    });
    this.retries = new Counter({
      name: 'qiwei_consumer_retries_total',
      help: 'Handler attempts that failed and were retried.',
      labelNames: ['consumer', 'topic'],
      registers,
    });
    this.inboxPruned = new Counter({
      name: 'qiwei_consumer_inbox_pruned_total',
      help: 'Inbox entries deleted once their topic can no longer redeliver the record.',
      labelNames: ['consumer'],
      registers,
    });
    if (dataSource) {
      // Read at scrape time: the backlog is a fact of the database, not of this process.
      new Gauge({
        name: 'qiwei_outbox_backlog_events',
        help: 'Events written to the outbox and not yet published.',
        registers,
        async collect() {
          const rows = await dataSource.query<{ n: string }[]>(
            'SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL',
          );
          this.set(Number(rows[0].n));
        },
      });
      new Gauge({
        name: 'qiwei_outbox_oldest_pending_age_seconds',
        help: 'Age of the oldest unpublished outbox event (0 when none).',
        registers,
        async collect() {
          const rows = await dataSource.query<{ age: number | null }[]>(
            `SELECT EXTRACT(EPOCH FROM clock_timestamp() - min(created_at))::float8 AS age
               FROM event_outbox WHERE published_at IS NULL`,
          );
          this.set(rows[0].age ?? 0);
        },
      });
    }
  }

  /** Events of one topic acknowledged by Kafka: one label lookup for all of them. */
  observePublished(topic: string, latencies: number[]): void {
    const labels = { topic };
    this.published.inc(labels, latencies.length);
    const latency = this.publishLatency.labels(labels);
    for (const seconds of latencies) latency.observe(seconds);
  }
}
