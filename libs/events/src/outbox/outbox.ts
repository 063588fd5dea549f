import type { DescMessage } from '@bufbuild/protobuf';
import type { TopicDefinition } from '@qiwei/contracts';
import { sqlLiteral } from '@qiwei/persistence';
import type { DataSource, EntityManager } from 'typeorm';
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
    const [id] = await this.publishAll(manager, topic, [event]);
    return id;
  }

  /**
   * The events as one INSERT statement with their values written in, for a transaction that
   * sends its statements itself — a pipelined transaction sending its last statements together
   * with COMMIT, where parameters cannot go. Everything else is as `publishAll`: the same
   * encoding, lanes and order, and the statement must run in the transaction that makes the
   * change the events announce. Once that transaction has committed, call `committed` so the
   * relays are woken (as `publish` does through the commit subscriber).
   */
  statement<M extends DescMessage>(
    topic: TopicDefinition,
    events: NewEvent<M>[],
  ): { sql: string; ids: string[] } {
    if (events.length === 0) throw new Error('Outbox.statement needs at least one event');
    const trace = currentTraceHeaders();
    const encoded = events.map((event) => encodeEvent(topic, this.source, event, trace));
    const rows = encoded.map(
      (e) =>
        `(${sqlLiteral(e.id)}, ${sqlLiteral(topic.name)}, ${sqlLiteral(e.key)}, ${laneOf(e.key, this.options.lanes)}, ${sqlLiteral(JSON.stringify(e.headers))}, ${sqlLiteral(e.value)})`,
    );
    return {
      sql: `INSERT INTO event_outbox (event_id, topic, partition_key, lane, headers, payload) VALUES ${rows.join(', ')}`,
      ids: encoded.map((e) => e.id),
    };
  }

  /** Wakes the relays after a transaction that ran an `Outbox.statement` committed. */
  committed(dataSource: DataSource): void {
    outboxSignalOf(dataSource).committed();
  }

  /**
   * Several events of one topic in one statement (bulk writers such as imports), in the given
   * order, in the caller's transaction like `publish`.
   */
  async publishAll<M extends DescMessage>(
    manager: EntityManager,
    topic: TopicDefinition,
    events: NewEvent<M>[],
  ): Promise<string[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      // Outside a transaction the event could be written without the change (or the reverse).
      throw new Error('Outbox.publish needs the EntityManager of an open transaction');
    }
    if (events.length === 0) return [];
    const trace = currentTraceHeaders();
    const encoded = events.map((event) => encodeEvent(topic, this.source, event, trace));
    await manager.query(
      `INSERT INTO event_outbox (event_id, topic, partition_key, lane, headers, payload)
       SELECT e.event_id, $1, e.partition_key, e.lane, e.headers, e.payload
         FROM unnest($2::text[], $3::text[], $4::smallint[], $5::text[], $6::text[])
              WITH ORDINALITY AS e(event_id, partition_key, lane, headers, payload, n)
        ORDER BY e.n`,
      [
        topic.name,
        encoded.map((e) => e.id),
        encoded.map((e) => e.key),
        encoded.map((e) => laneOf(e.key, this.options.lanes)),
        encoded.map((e) => JSON.stringify(e.headers)),
        encoded.map((e) => e.value),
      ],
    );
    // Relays are woken after the commit (see OutboxSignal), never from inside it.
    outboxSignalOf(manager.connection);
    OutboxSignal.markWrote(manager.queryRunner);
    return encoded.map((e) => e.id);
  }
}
