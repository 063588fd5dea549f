import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { TopicDefinition } from '@qiwei/contracts';
import { HealthRegistry, LOGGER, METRICS_REGISTRY, type Logger } from '@qiwei/platform';
import { tracingSpanSink } from '@qiwei/platform/tracing';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import {
  DEFAULT_CONSUMER_OPTIONS,
  EventConsumer,
  type Subscription,
} from './consumer/event-consumer';
import { DEFAULT_INBOX_PRUNER_OPTIONS, InboxPruner } from './consumer/inbox-pruner';
import { brokersOf, type EventsConfig } from './events-config';
import { createKafka, createProducer, ensureTopics } from './kafka/kafka-client';
import { EventMetrics } from './metrics';
import { Outbox } from './outbox/outbox';
import { OutboxRelay, type OutboxRelayOptions } from './outbox/outbox-relay';
import { OutboxRelayWorker } from './outbox/outbox-relay-worker';

export interface EventsModuleOptions {
  service: string;
  config: EventsConfig;
  /** The service's database (the relay keeps a session of its own on it). */
  databaseUrl: string;
  /** Topics this service owns: created (with their DLQs) at start-up. */
  publishes: readonly TopicDefinition[];
}

const OPTIONS = Symbol('EVENTS_OPTIONS');
const KAFKA = Symbol('KAFKA');

/** Where a service's consumers register their subscriptions (in `onModuleInit`). */
@Injectable()
export class EventSubscriptions {
  readonly all: Subscription[] = [];
  add(subscription: Subscription): void {
    if (this.all.some((s) => s.name === subscription.name)) {
      throw new Error(`Subscription ${subscription.name} is registered twice`);
    }
    this.all.push(subscription);
  }
}

/**
 * Starts the event machinery once the application is ready (topics, relay, consumers) and
 * stops it before the database closes: consumers finish and commit, the relay finishes its
 * batch, the producer disconnects.
 */
@Injectable()
class EventsRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private producer?: Producer;
  private admin?: Admin;
  private relay?: OutboxRelay | OutboxRelayWorker;
  private consumers: EventConsumer[] = [];
  private inboxPruner?: InboxPruner;
  private readonly metrics: EventMetrics;

  constructor(
    @Inject(OPTIONS) private readonly options: EventsModuleOptions,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly dataSource: DataSource,
    private readonly subscriptions: EventSubscriptions,
    health: HealthRegistry,
  ) {
    this.metrics = new EventMetrics(registry, dataSource);
    health.register('kafka', async () => {
      if (!this.admin) throw new Error('not connected');
      await this.admin.describeCluster();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const { config } = this.options;
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await ensureTopics(this.admin, this.options.publishes);
    this.producer = createProducer(this.kafka);
    await this.producer.connect();
    const relayOptions: OutboxRelayOptions = {
      databaseUrl: this.options.databaseUrl,
      lanes: config.OUTBOX_LANES,
      batchSize: config.OUTBOX_BATCH_SIZE,
      pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
      lingerMs: config.OUTBOX_LINGER_MS,
      pruneAfterMs: config.OUTBOX_PRUNE_AFTER_MS,
      retryBackoffMs: 500,
    };
    const relayLogger = this.logger.child({ component: 'outbox-relay' });
    // The main thread's producer stays for the consumers' dead letters; the worker has its own.
    this.relay =
      config.OUTBOX_RELAY_MODE === 'worker'
        ? new OutboxRelayWorker(
            this.dataSource,
            {
              relay: relayOptions,
              brokers: brokersOf(config),
              clientId: `qiwei-${this.options.service}-relay`,
              spans: tracingSpanSink(),
            },
            relayLogger,
            this.metrics,
          )
        : new OutboxRelay(this.dataSource, this.producer, relayOptions, relayLogger, this.metrics);
    await this.relay.start();
    for (const subscription of this.subscriptions.all) {
      const consumer = new EventConsumer(
        this.kafka,
        this.dataSource,
        this.producer,
        subscription,
        {
          ...DEFAULT_CONSUMER_OPTIONS,
          service: this.options.service,
          maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
          retryBackoffMs: config.CONSUMER_RETRY_BACKOFF_MS,
        },
        this.logger.child({ component: 'event-consumer', subscription: subscription.name }),
        this.metrics,
      );
      await consumer.start();
      this.consumers.push(consumer);
    }
    if (this.consumers.length) {
      this.inboxPruner = new InboxPruner(
        this.dataSource,
        this.consumers.map((c, i) => ({
          consumer: c.groupId,
          topicRetentionMs: this.subscriptions.all[i].topic.retentionMs,
        })),
        {
          ...DEFAULT_INBOX_PRUNER_OPTIONS,
          marginMs: config.CONSUMER_INBOX_PRUNE_MARGIN_MS,
          intervalMs: config.CONSUMER_INBOX_PRUNE_INTERVAL_MS,
        },
        this.logger.child({ component: 'inbox-pruner' }),
        this.metrics,
      );
      this.inboxPruner.start();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.inboxPruner?.stop();
    await Promise.all(this.consumers.map((c) => c.stop()));
    await this.relay?.stop();
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }
}

@Global()
@Module({})
export class EventsModule {
  static forRoot(options: EventsModuleOptions): DynamicModule {
    return {
      module: EventsModule,
      providers: [
        { provide: OPTIONS, useValue: options },
        {
          provide: KAFKA,
          inject: [LOGGER],
          useFactory: (logger: Logger) =>
            createKafka({
              brokers: brokersOf(options.config),
              clientId: `qiwei-${options.service}`,
              logger: logger.child({ component: 'kafka' }),
            }),
        },
        {
          provide: Outbox,
          useFactory: () =>
            new Outbox({ service: options.service, lanes: options.config.OUTBOX_LANES }),
        },
        EventSubscriptions,
        EventsRuntime,
      ],
      exports: [Outbox, EventSubscriptions],
    };
  }
}
