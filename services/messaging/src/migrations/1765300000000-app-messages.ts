import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * App messages (应用消息): the rest of the directory projection they need (departments with
 * their paths, tags, apps), the messages with one recipient row each (a member's inbox), and
 * per app and member send counters for the rate limits.
 */
export class AppMessages1765300000000 implements MigrationInterface {
  name = 'AppMessages1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory_departments (
        corp_id varchar(18) NOT NULL,
        id int NOT NULL,
        path text NOT NULL,
        PRIMARY KEY (corp_id, id)
      )`);
    await q.query(
      'CREATE INDEX directory_departments_path_idx ON directory_departments (corp_id, path text_pattern_ops)',
    );
    await q.query(
      'CREATE INDEX directory_members_departments_idx ON directory_members USING gin (department_ids)',
    );
    await q.query(`
      CREATE TABLE directory_tags (
        corp_id varchar(18) NOT NULL,
        id int NOT NULL,
        userids text[] NOT NULL DEFAULT '{}',
        department_ids int[] NOT NULL DEFAULT '{}',
        PRIMARY KEY (corp_id, id)
      )`);
    await q.query(`
      CREATE TABLE directory_apps (
        corp_id varchar(18) NOT NULL,
        agentid int NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        tokens_valid_after timestamptz,
        PRIMARY KEY (corp_id, agentid)
      )`);
    await q.query(`
      CREATE TABLE app_messages (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        agentid int NOT NULL,
        msgtype varchar(16) NOT NULL,
        content jsonb NOT NULL,
        content_hash char(64) NOT NULL,
        recipients int NOT NULL,
        sent_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, id)
      )`);
    await q.query(
      'CREATE INDEX app_messages_duplicates_idx ON app_messages (corp_id, agentid, content_hash, sent_at)',
    );
    await q.query(`
      CREATE TABLE app_message_recipients (
        corp_id varchar(18) NOT NULL,
        message_id uuid NOT NULL,
        userid varchar(64) NOT NULL,
        read_at timestamptz,
        PRIMARY KEY (corp_id, message_id, userid)
      )`);
    await q.query(
      'CREATE INDEX app_message_recipients_inbox_idx ON app_message_recipients (corp_id, userid, message_id)',
    );
    await q.query(`
      CREATE TABLE app_send_counters (
        corp_id varchar(18) NOT NULL,
        agentid int NOT NULL,
        userid varchar(64) NOT NULL,
        minute_start timestamptz NOT NULL,
        minute_count int NOT NULL,
        hour_start timestamptz NOT NULL,
        hour_count int NOT NULL,
        PRIMARY KEY (corp_id, agentid, userid)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE app_send_counters');
    await q.query('DROP TABLE app_message_recipients');
    await q.query('DROP TABLE app_messages');
    await q.query('DROP TABLE directory_apps');
    await q.query('DROP TABLE directory_tags');
    await q.query('DROP INDEX directory_members_departments_idx');
    await q.query('DROP TABLE directory_departments');
  }
}
