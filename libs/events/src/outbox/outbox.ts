import type { DescMessage } from '@bufbuild/protobuf';
import type { TopicDefinition } from '@qiwei/contracts';
import type { EntityManager } from 'typeorm';
import { encodeEvent, type NewEvent } from '../cloud-event';
import { currentTraceHeaders } from '../tracing';
import { laneOf } from './lanes';
import { OutboxSignal, outboxSignalOf } from './outbox-signal';

export { OUTBOX_CHANNEL } from './outbox-signal';

export interface OutboxOptions {
  /** The service that publishes: becomes `ce_source` (`/qiwei/<service>`). */
  service: string;
  lanes: number;
}

/**
 * The only way to publish an event: written in the caller's transaction, so the state change
 * and the event announcing it commit or roll back together. The relay sends it to Kafka.
 */
export class Outbox {
  private readonly source: string;

  constructor(private readonly options: OutboxOptions) {
    this.source = `/qiwei/${options.service}`;
  }

  async publish<M extends DescMessage>(
    manager: EntityManager,
    topic: TopicDefinition,
    event: NewEvent<M>,
  ): Promise<string> {
    if (!manager.queryRunner?.isTransactionActive) {
      // Outside a transaction the event could be written without the change (or the reverse).
      throw new Error('Outbox.publish needs the EntityManager of an open transaction');
    }
    const encoded = encodeEvent(topic, this.source, event, currentTraceHeaders());
    await manager.query(
      `INSERT INTO event_outbox (event_id, topic, partition_key, lane, headers, payload)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        encoded.id,
        encoded.topic,
        encoded.key,
        laneOf(encoded.key, this.options.lanes),
        JSON.stringify(encoded.headers),
        encoded.value,
      ],
    );
    // Relays are woken after the commit (see OutboxSignal), never from inside it.
    outboxSignalOf(manager.connection);
    OutboxSignal.markWrote(manager.queryRunner);
    return encoded.id;
  }
}
