import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * External and department groups, group settings (versioned notices, welcome message, tags),
 * location/link/contact-card messages, and members' search of their own conversations: a
 * tsvector per message (GIN-indexed; filled at send, and for older messages by the background
 * indexer) and, per member and conversation, up to which seq they may search it.
 */
export class GroupKinds1765600000000 implements MigrationInterface {
  name = 'GroupKinds1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE conversations DROP CONSTRAINT conversations_kind_check');
    await q.query(`
      ALTER TABLE conversations
        ADD CONSTRAINT conversations_kind_check
          CHECK (kind IN ('single', 'group', 'external', 'department')),
        ADD COLUMN department_id int,
        ADD COLUMN welcome_message text NOT NULL DEFAULT '',
        ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
        ADD COLUMN notice_version int NOT NULL DEFAULT 0,
        -- A copy of conversation_external_members, read by a send with its seq (as participants).
        ADD COLUMN external_participants text[] NOT NULL DEFAULT '{}',
        ADD CONSTRAINT conversations_department_check
          CHECK ((kind = 'department') = (department_id IS NOT NULL))`);
    // A department has at most one live department group.
    await q.query(
      `CREATE UNIQUE INDEX conversations_department_uq ON conversations (corp_id, department_id)
        WHERE kind = 'department' AND disbanded_at IS NULL`,
    );
    await q.query(`
      CREATE TABLE conversation_external_members (
        corp_id varchar(18) NOT NULL,
        conversation_id uuid NOT NULL,
        external_userid varchar(64) NOT NULL,
        added_by varchar(64) NOT NULL,
        joined_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, conversation_id, external_userid),
        FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE group_notices (
        corp_id varchar(18) NOT NULL,
        conversation_id uuid NOT NULL,
        version int NOT NULL CHECK (version > 0),
        text text NOT NULL,
        published_by varchar(64) NOT NULL,
        published_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, conversation_id, version),
        FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id) ON DELETE CASCADE
      )`);
    // Who may search which conversation: current members everything (until_seq NULL), former
    // members what was sent until they left.
    await q.query(`
      CREATE TABLE conversation_access (
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        conversation_id uuid NOT NULL,
        until_seq bigint,
        PRIMARY KEY (corp_id, userid, conversation_id),
        FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id) ON DELETE CASCADE
      )`);
    await q.query(`
      INSERT INTO conversation_access (corp_id, userid, conversation_id)
      SELECT corp_id, userid, conversation_id FROM conversation_members`);
    await q.query(`
      ALTER TABLE messages
        ADD COLUMN location jsonb,
        ADD COLUMN link jsonb,
        ADD COLUMN contact_card jsonb,
        ADD COLUMN search_terms tsvector`);
    await q.query('CREATE INDEX messages_search_idx ON messages USING gin (search_terms)');
    // What the background indexer still has to do (empty once it caught up).
    await q.query(
      `CREATE INDEX messages_unindexed_idx ON messages (corp_id, conversation_id, seq)
        WHERE search_terms IS NULL`,
    );
    await q.query(`
      ALTER TABLE directory_members
        ADD COLUMN leader_department_ids int[] NOT NULL DEFAULT '{}',
        ADD COLUMN admin_department_ids int[] NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE directory_members DROP COLUMN admin_department_ids, DROP COLUMN leader_department_ids',
    );
    await q.query('DROP INDEX messages_unindexed_idx');
    await q.query('DROP INDEX messages_search_idx');
    await q.query(
      'ALTER TABLE messages DROP COLUMN search_terms, DROP COLUMN contact_card, DROP COLUMN link, DROP COLUMN location',
    );
    await q.query('DROP TABLE conversation_access');
    await q.query('DROP TABLE group_notices');
    await q.query('DROP TABLE conversation_external_members');
    await q.query('DROP INDEX conversations_department_uq');
    // Conversations of the new kinds cannot exist under the old constraint.
    await q.query(`DELETE FROM conversations WHERE kind IN ('external', 'department')`);
    await q.query(`
      ALTER TABLE conversations
        DROP CONSTRAINT conversations_department_check,
        DROP COLUMN external_participants,
        DROP COLUMN notice_version,
        DROP COLUMN tags,
        DROP COLUMN welcome_message,
        DROP COLUMN department_id,
        DROP CONSTRAINT conversations_kind_check,
        ADD CONSTRAINT conversations_kind_check CHECK (kind IN ('single', 'group'))`);
  }
}
