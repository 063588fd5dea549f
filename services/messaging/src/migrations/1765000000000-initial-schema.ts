import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messaging's own tables: the directory projection (from identity's member events),
 * conversations with their members and read positions, and messages numbered per conversation.
 */
export class MessagingSchema1765000000000 implements MigrationInterface {
  name = 'MessagingSchema1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory_members (
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        name varchar(64) NOT NULL,
        status varchar(16) NOT NULL,
        department_ids int[] NOT NULL DEFAULT '{}',
        tokens_valid_after timestamptz,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, userid)
      )`);
    await q.query(`
      CREATE TABLE conversations (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        kind varchar(16) NOT NULL CHECK (kind IN ('single', 'group')),
        name varchar(64) NOT NULL DEFAULT '',
        owner varchar(64),
        single_key text,
        only_admins_post boolean NOT NULL DEFAULT false,
        only_owner_invites boolean NOT NULL DEFAULT false,
        member_limit int NOT NULL,
        last_seq bigint NOT NULL DEFAULT 0,
        -- Copies of conversation_members (kept in the same transactions): a send reads who may
        -- post and whom to tell in the statement that takes its sequence number.
        participants text[] NOT NULL DEFAULT '{}',
        admins text[] NOT NULL DEFAULT '{}',
        created_by varchar(64) NOT NULL,
        disbanded_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, id)
      )`);
    await q.query(
      'CREATE UNIQUE INDEX conversations_single_uq ON conversations (corp_id, single_key) WHERE single_key IS NOT NULL',
    );
    await q.query(`
      CREATE TABLE conversation_members (
        corp_id varchar(18) NOT NULL,
        conversation_id uuid NOT NULL,
        userid varchar(64) NOT NULL,
        role varchar(8) NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
        read_seq bigint NOT NULL DEFAULT 0,
        joined_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, conversation_id, userid),
        FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE INDEX conversation_members_member_idx ON conversation_members (corp_id, userid, conversation_id)',
    );
    await q.query(`
      CREATE TABLE messages (
        corp_id varchar(18) NOT NULL,
        conversation_id uuid NOT NULL,
        seq bigint NOT NULL,
        id uuid NOT NULL,
        sender varchar(64) NOT NULL,
        client_msg_id varchar(64) NOT NULL,
        type varchar(16) NOT NULL,
        text text NOT NULL,
        mentions text[] NOT NULL DEFAULT '{}',
        quote_seq bigint NOT NULL DEFAULT 0,
        sent_at timestamptz NOT NULL,
        recalled_at timestamptz,
        recalled_by varchar(64),
        PRIMARY KEY (corp_id, conversation_id, seq),
        FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE UNIQUE INDEX messages_client_id_uq ON messages (corp_id, conversation_id, sender, client_msg_id)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE messages');
    await q.query('DROP TABLE conversation_members');
    await q.query('DROP TABLE conversations');
    await q.query('DROP TABLE directory_members');
  }
}
