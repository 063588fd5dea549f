import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Relays are woken after commit now (OutboxSignal) instead of by a trigger inside every writing
 * transaction: PostgreSQL serialises the commits of all transactions that NOTIFY.
 */
export class OutboxNotifyAfterCommit1765100000000 implements MigrationInterface {
  name = 'OutboxNotifyAfterCommit1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER event_outbox_notify ON event_outbox');
    await q.query('DROP FUNCTION event_outbox_notify()');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION event_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('qiwei_outbox', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox
      FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_notify()`);
  }
}
