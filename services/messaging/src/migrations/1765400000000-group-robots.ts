import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Group robots (群机器人): robots of group conversations with the SHA-256 of their webhook key
 * (the key itself is shown once), each robot's fixed-minute send counter, and the articles of
 * news messages.
 */
export class GroupRobots1765400000000 implements MigrationInterface {
  name = 'GroupRobots1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE group_robots (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        conversation_id uuid NOT NULL,
        name varchar(64) NOT NULL,
        key_hash bytea NOT NULL,
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL,
        key_rotated_at timestamptz,
        PRIMARY KEY (corp_id, id),
        FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id) ON DELETE CASCADE
      )`);
    // The webhook names only its key: the lookup is by hash, across corps.
    await q.query('CREATE UNIQUE INDEX group_robots_key_hash_uq ON group_robots (key_hash)');
    await q.query(
      'CREATE INDEX group_robots_conversation_idx ON group_robots (corp_id, conversation_id, created_at)',
    );
    await q.query(`
      CREATE TABLE robot_send_counters (
        corp_id varchar(18) NOT NULL,
        robot_id uuid NOT NULL,
        minute_start timestamptz NOT NULL,
        count int NOT NULL,
        PRIMARY KEY (corp_id, robot_id),
        FOREIGN KEY (corp_id, robot_id) REFERENCES group_robots (corp_id, id) ON DELETE CASCADE
      )`);
    await q.query('ALTER TABLE messages ADD COLUMN articles jsonb');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP COLUMN articles');
    await q.query('DROP TABLE robot_send_counters');
    await q.query('DROP TABLE group_robots');
  }
}
