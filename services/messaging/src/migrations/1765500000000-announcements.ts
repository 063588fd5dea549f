import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Announcements (公告): the announcements with their targets and schedule, one row per
 * recipient (resolved when published) with their read time, the reminders sent to the unread,
 * and the department admins' scopes (from identity's member events) that bound who may
 * announce to whom.
 */
export class Announcements1765500000000 implements MigrationInterface {
  name = 'Announcements1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory_admin_scopes (
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        department_id int NOT NULL,
        permissions text[] NOT NULL,
        PRIMARY KEY (corp_id, userid, department_id)
      )`);
    await q.query(`
      CREATE TABLE announcements (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        publisher varchar(64) NOT NULL,
        title varchar(128) NOT NULL,
        body text NOT NULL,
        format varchar(16) NOT NULL CHECK (format IN ('markdown')),
        -- Snapshots of ready uploads of the publisher's (media_uploads rows never go away).
        attachments jsonb NOT NULL DEFAULT '[]',
        priority varchar(16) NOT NULL CHECK (priority IN ('normal', 'important')),
        pinned boolean NOT NULL DEFAULT false,
        no_forward boolean NOT NULL DEFAULT false,
        target_all boolean NOT NULL DEFAULT false,
        target_department_ids int[] NOT NULL DEFAULT '{}',
        target_tag_ids int[] NOT NULL DEFAULT '{}',
        target_userids text[] NOT NULL DEFAULT '{}',
        -- The departments whose subtrees bound the recipients (a department admin's scope when
        -- they set the targets; paths are looked up when publishing, so moves are followed);
        -- NULL: the whole corp (a super admin).
        scope_department_ids int[],
        status varchar(16) NOT NULL
          CHECK (status IN ('scheduled', 'published', 'withdrawn', 'archived')),
        publish_at timestamptz NOT NULL,
        published_at timestamptz,
        expires_at timestamptz,
        archived_at timestamptz,
        withdrawn_at timestamptz,
        withdrawn_by varchar(64),
        recipient_count int NOT NULL DEFAULT 0,
        -- The scheduler's failed attempts to publish it, and when it tries again.
        publish_attempts int NOT NULL DEFAULT 0,
        retry_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, id),
        CHECK (expires_at IS NULL OR expires_at > publish_at)
      )`);
    // The scheduler's two scans (across corps, like the outbox relay's).
    await q.query(
      `CREATE INDEX announcements_due_idx ON announcements (publish_at) WHERE status = 'scheduled'`,
    );
    await q.query(
      `CREATE INDEX announcements_expiry_idx ON announcements (expires_at)
        WHERE status = 'published' AND expires_at IS NOT NULL`,
    );
    await q.query(
      'CREATE INDEX announcements_publisher_idx ON announcements (corp_id, publisher, created_at, id)',
    );
    await q.query(
      'CREATE INDEX announcements_created_idx ON announcements (corp_id, created_at, id)',
    );
    await q.query(`
      CREATE TABLE announcement_recipients (
        corp_id varchar(18) NOT NULL,
        announcement_id uuid NOT NULL,
        userid varchar(64) NOT NULL,
        read_at timestamptz,
        PRIMARY KEY (corp_id, announcement_id, userid),
        FOREIGN KEY (corp_id, announcement_id) REFERENCES announcements (corp_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE INDEX announcement_recipients_member_idx ON announcement_recipients (corp_id, userid, announcement_id)',
    );
    await q.query(`
      CREATE TABLE announcement_reminders (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        announcement_id uuid NOT NULL,
        reminded_by varchar(64) NOT NULL,
        userids text[] NOT NULL,
        reminded_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, id),
        FOREIGN KEY (corp_id, announcement_id) REFERENCES announcements (corp_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE INDEX announcement_reminders_announcement_idx ON announcement_reminders (corp_id, announcement_id, reminded_at)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE announcement_reminders');
    await q.query('DROP TABLE announcement_recipients');
    await q.query('DROP TABLE announcements');
    await q.query('DROP TABLE directory_admin_scopes');
  }
}
