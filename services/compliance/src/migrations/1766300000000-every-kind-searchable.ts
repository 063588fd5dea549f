import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * App messages, announcements and every record kind in search: alert rules gain their other two
 * scopes (external chats only, senders' department subtrees); retention policies gain the
 * conversation kinds `department`, `app` and `announcement`; media outcomes and tombstones
 * archived before are put in the PostgreSQL index (their searchable text is empty, so the
 * terms are too; an Elasticsearch index takes them by requeueing, see the README).
 */
export class EveryKindSearchable1766300000000 implements MigrationInterface {
  name = 'EveryKindSearchable1766300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE alert_rules ADD COLUMN external_only boolean NOT NULL DEFAULT false,
         ADD COLUMN department_ids int[] NOT NULL DEFAULT '{}'`,
    );
    await q.query('ALTER TABLE retention_policies DROP CONSTRAINT retention_policies_scope_check');
    await q.query(`
      ALTER TABLE retention_policies ADD CONSTRAINT retention_policies_scope_check
        CHECK (scope IN ('default', 'internal', 'external', 'single', 'group', 'department', 'app',
                         'announcement'))`);
    await q.query(`
      INSERT INTO archive_search (corp_id, chain_seq, kind, type, conversation_id, conversation_kind,
        sender, participants, sender_departments, has_attachment, sent_at, terms)
      SELECT r.corp_id, r.chain_seq, r.kind, r.type, r.conversation_id, r.conversation_kind,
             r.sender, r.participants, coalesce(d.department_ids, '{}'),
             jsonb_array_length(r.media) > 0, r.sent_at, ''::tsvector
        FROM archive_records r
        LEFT JOIN archive_sender_departments d
          ON d.corp_id = r.corp_id AND d.chain_seq = r.chain_seq
       WHERE r.kind IN ('media', 'tombstone')
      ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM archive_search WHERE kind IN ('media', 'tombstone')`);
    await q.query('ALTER TABLE retention_policies DROP CONSTRAINT retention_policies_scope_check');
    await q.query(`
      ALTER TABLE retention_policies ADD CONSTRAINT retention_policies_scope_check
        CHECK (scope IN ('default', 'internal', 'external', 'single', 'group')) NOT VALID`);
    await q.query('ALTER TABLE alert_rules DROP COLUMN external_only, DROP COLUMN department_ids');
  }
}
