import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox and inbox tables every service that publishes or consumes events needs. Add this
 * migration to the service's migration list; it runs in the service's own database.
 */
export class CreateEventTables1763800000000 implements MigrationInterface {
  name = 'CreateEventTables1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_outbox (
        id bigserial PRIMARY KEY,
        event_id text NOT NULL,
        topic text NOT NULL,
        partition_key text NOT NULL,
        lane smallint NOT NULL,
        headers text NOT NULL, -- JSON; text avoids a jsonb round trip on the relay's hot path
        payload text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        published_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX event_outbox_pending_idx ON event_outbox (lane, id) WHERE published_at IS NULL`,
    );
    // Relays LISTEN on qiwei_outbox. Notifying from a statement trigger saves producers a round
    // trip per event; PostgreSQL delivers it at commit, once per transaction (it folds
    // duplicates), and never for a rolled-back one.
    await q.query(`
      CREATE FUNCTION event_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('qiwei_outbox', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox
      FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_notify()`);
    await q.query(`
      CREATE TABLE event_inbox (
        consumer text NOT NULL,
        event_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('processed', 'dead_lettered')),
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
    await q.query(`CREATE INDEX event_inbox_processed_idx ON event_inbox (processed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE event_inbox');
    await q.query('DROP TABLE event_outbox');
    await q.query('DROP FUNCTION event_outbox_notify()');
  }
}
