import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Urgent reminders (强提醒) of messages: each flagging, by whom, and whom it re-notified. */
export class UrgentReminders1765510000000 implements MigrationInterface {
  name = 'UrgentReminders1765510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE message_urgent_reminders (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        conversation_id uuid NOT NULL,
        seq bigint NOT NULL,
        reminded_by varchar(64) NOT NULL,
        userids text[] NOT NULL,
        reminded_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, id),
        FOREIGN KEY (corp_id, conversation_id, seq)
          REFERENCES messages (corp_id, conversation_id, seq) ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE INDEX message_urgent_reminders_message_idx ON message_urgent_reminders (corp_id, conversation_id, seq, reminded_at)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE message_urgent_reminders');
  }
}
