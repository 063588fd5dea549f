import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Important announcements (强提醒) re-notify their unread recipients by themselves: when the
 * next automatic reminder is due and how many went out, and which reminders were automatic.
 * Announcements published before this version get none (their next time is NULL).
 */
export class AnnouncementAutoReminders1765800000000 implements MigrationInterface {
  name = 'AnnouncementAutoReminders1765800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE announcements
        ADD COLUMN auto_reminders int NOT NULL DEFAULT 0,
        ADD COLUMN next_auto_remind_at timestamptz`);
    // The scheduler's scan (across corps, like its other two).
    await q.query(
      `CREATE INDEX announcements_auto_remind_idx ON announcements (next_auto_remind_at)
        WHERE status = 'published' AND next_auto_remind_at IS NOT NULL`,
    );
    await q.query(
      'ALTER TABLE announcement_reminders ADD COLUMN automatic boolean NOT NULL DEFAULT false',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE announcement_reminders DROP COLUMN automatic');
    await q.query('DROP INDEX announcements_auto_remind_idx');
    await q.query(
      'ALTER TABLE announcements DROP COLUMN next_auto_remind_at, DROP COLUMN auto_reminders',
    );
  }
}
