import type { MigrationInterface, QueryRunner } from 'typeorm';

const APPEND_ONLY = ['archive_records', 'access_log', 'chain_heads'];

/**
 * The archive: immutable records in a per-corp hash chain (append-only, enforced by triggers),
 * their search index, signed chain heads, the access log (a hash chain of its own), alert rules
 * and alerts, and the projections of identity's members and messaging's conversations.
 */
export class ComplianceSchema1766000000000 implements MigrationInterface {
  name = 'ComplianceSchema1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory_members (
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        name varchar(64) NOT NULL,
        status varchar(16) NOT NULL,
        roles text[] NOT NULL DEFAULT '{}',
        department_ids int[] NOT NULL DEFAULT '{}',
        tokens_valid_after timestamptz,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, userid)
      )`);
    await q.query(`
      CREATE TABLE archived_conversations (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        kind varchar(16) NOT NULL,
        name varchar(64) NOT NULL DEFAULT '',
        owner varchar(64),
        participants text[] NOT NULL DEFAULT '{}',
        disbanded_at timestamptz,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, id)
      )`);
    // One row per corp and chain, locked FOR UPDATE while appending: the chain never forks.
    await q.query(`
      CREATE TABLE chain_tips (
        corp_id varchar(18) NOT NULL,
        chain varchar(16) NOT NULL CHECK (chain IN ('archive', 'access')),
        chain_seq bigint NOT NULL DEFAULT 0,
        hash bytea NOT NULL DEFAULT '\\x0000000000000000000000000000000000000000000000000000000000000000',
        PRIMARY KEY (corp_id, chain)
      )`);
    await q.query(`
      CREATE TABLE archive_records (
        corp_id varchar(18) NOT NULL,
        chain_seq bigint NOT NULL,
        kind varchar(16) NOT NULL CHECK (kind IN ('message', 'recall', 'conversation')),
        event_id varchar(128) NOT NULL,
        message_id varchar(64),
        pre_message_id varchar(64),
        conversation_id uuid NOT NULL,
        conversation_kind varchar(16) NOT NULL,
        sender varchar(64) NOT NULL,
        type varchar(48) NOT NULL,
        text text NOT NULL DEFAULT '',
        mentions text[] NOT NULL DEFAULT '{}',
        quote_seq bigint NOT NULL DEFAULT 0,
        seq bigint NOT NULL DEFAULT 0,
        participants text[] NOT NULL DEFAULT '{}',
        details jsonb NOT NULL DEFAULT '{}',
        media jsonb NOT NULL DEFAULT '[]',
        consent varchar(16) NOT NULL DEFAULT 'not_required',
        sent_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (corp_id, chain_seq),
        UNIQUE (corp_id, event_id)
      )`);
    await q.query(
      'CREATE INDEX archive_records_conversation_idx ON archive_records (corp_id, conversation_id, sent_at, chain_seq)',
    );
    // The PostgreSQL ArchiveIndex: derived from the records, rebuildable, not evidence itself.
    await q.query(`
      CREATE TABLE archive_search (
        corp_id varchar(18) NOT NULL,
        chain_seq bigint NOT NULL,
        kind varchar(16) NOT NULL,
        type varchar(48) NOT NULL,
        conversation_id uuid NOT NULL,
        conversation_kind varchar(16) NOT NULL,
        sender varchar(64) NOT NULL,
        participants text[] NOT NULL,
        sent_at timestamptz NOT NULL,
        terms tsvector NOT NULL,
        PRIMARY KEY (corp_id, chain_seq)
      )`);
    await q.query('CREATE INDEX archive_search_terms_idx ON archive_search USING gin (terms)');
    await q.query(
      'CREATE INDEX archive_search_time_idx ON archive_search (corp_id, sent_at DESC, chain_seq DESC)',
    );
    await q.query(
      'CREATE INDEX archive_search_sender_idx ON archive_search (corp_id, sender, sent_at DESC)',
    );
    await q.query(
      'CREATE INDEX archive_search_conversation_idx ON archive_search (corp_id, conversation_id, sent_at DESC)',
    );
    await q.query(
      'CREATE INDEX archive_search_participants_idx ON archive_search USING gin (participants)',
    );
    await q.query(`
      CREATE TABLE chain_heads (
        corp_id varchar(18) NOT NULL,
        chain varchar(16) NOT NULL,
        chain_seq bigint NOT NULL,
        hash bytea NOT NULL,
        signed_at timestamptz NOT NULL,
        key_id varchar(32) NOT NULL,
        signature bytea NOT NULL,
        PRIMARY KEY (corp_id, chain, chain_seq)
      )`);
    await q.query(`
      CREATE TABLE access_log (
        corp_id varchar(18) NOT NULL,
        chain_seq bigint NOT NULL,
        actor varchar(64) NOT NULL,
        action varchar(32) NOT NULL,
        query jsonb NOT NULL,
        result_count int NOT NULL,
        at timestamptz NOT NULL,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (corp_id, chain_seq)
      )`);
    await q.query(`
      CREATE TABLE alert_rules (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        name varchar(64) NOT NULL,
        kind varchar(8) NOT NULL CHECK (kind IN ('keyword', 'regex')),
        keywords text[] NOT NULL DEFAULT '{}',
        pattern text NOT NULL DEFAULT '',
        case_insensitive boolean NOT NULL DEFAULT true,
        conversation_kinds text[] NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, id)
      )`);
    await q.query(`
      CREATE TABLE alerts (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        rule_id uuid NOT NULL,
        rule_name varchar(64) NOT NULL,
        rule_kind varchar(8) NOT NULL,
        archive_seq bigint NOT NULL,
        message_id varchar(64) NOT NULL,
        conversation_id uuid NOT NULL,
        conversation_kind varchar(16) NOT NULL,
        sender varchar(64) NOT NULL,
        matched_text varchar(256) NOT NULL,
        sent_at timestamptz NOT NULL,
        status varchar(8) NOT NULL CHECK (status IN ('open', 'assigned', 'closed')),
        assignee varchar(64),
        note text,
        closed_by varchar(64),
        closed_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, id),
        FOREIGN KEY (corp_id, rule_id) REFERENCES alert_rules (corp_id, id)
      )`);
    await q.query('CREATE INDEX alerts_created_idx ON alerts (corp_id, created_at DESC, id DESC)');
    await q.query('CREATE INDEX alerts_rule_idx ON alerts (corp_id, rule_id, created_at DESC)');
    await q.query(`
      CREATE FUNCTION compliance_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of APPEND_ONLY) {
      await q.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
          FOR EACH ROW EXECUTE FUNCTION compliance_refuse_change()`);
      await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION compliance_refuse_change()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'alerts',
      'alert_rules',
      'access_log',
      'chain_heads',
      'archive_search',
      'archive_records',
      'chain_tips',
      'archived_conversations',
      'directory_members',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query('DROP FUNCTION compliance_refuse_change()');
  }
}
