export {
  encodeEvent,
  decodeEvent,
  headersOf,
  HEADER,
  CE_SPECVERSION,
  type NewEvent,
  type ReceivedEvent,
  type EncodedEvent,
  type RawRecord,
} from './cloud-event';
export { NonRetriableEventError, PoisonMessageError, isNonRetriable } from './errors';
export {
  createKafka,
  createProducer,
  ensureTopics,
  patchKafkaRequestQueue,
  type KafkaSettings,
} from './kafka/kafka-client';
export { Outbox, OUTBOX_CHANNEL, type OutboxOptions } from './outbox/outbox';
export {
  OutboxRelay,
  DEFAULT_RELAY_OPTIONS,
  type OutboxRelayOptions,
  type PublishObserver,
  type RelayLogger,
  type RelayWakeups,
} from './outbox/outbox-relay';
export {
  OutboxRelayWorker,
  relayWorkerEntry,
  type OutboxRelayWorkerOptions,
} from './outbox/outbox-relay-worker';
export { laneOf } from './outbox/lanes';
export {
  EventConsumer,
  DEFAULT_CONSUMER_OPTIONS,
  type Subscription,
  type EventConsumerOptions,
} from './consumer/event-consumer';
export {
  InboxPruner,
  DEFAULT_INBOX_PRUNER_OPTIONS,
  type InboxPrunerOptions,
  type InboxRetention,
} from './consumer/inbox-pruner';
export { redriveDeadLetters, REDRIVE_HEADER, type RedriveResult } from './dead-letter/redrive';
export { EventMetrics } from './metrics';
export { CreateEventTables1763800000000 } from './migrations/create-event-tables';
export { OutboxNotifyAfterCommit1765100000000 } from './migrations/notify-after-commit';
export { OutboxSignal, outboxSignalOf } from './outbox/outbox-signal';
export { eventsConfigSchema, brokersOf, type EventsConfig } from './events-config';
export { EventsModule, EventSubscriptions, type EventsModuleOptions } from './events.module';
