import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Officers' department coverage and the search filters it shares: identity's department tree
 * (`directory_departments`), officers' scopes, the departments (with ancestors) each record's
 * sender was in when it was archived, and the search index columns that filter on them. Also
 * the queue that feeds an external index (Elasticsearch) after the archive's transaction.
 */
export class SearchCoverage1766200000000 implements MigrationInterface {
  name = 'SearchCoverage1766200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory_departments (
        corp_id varchar(18) NOT NULL,
        id int NOT NULL,
        parent_id int,
        path int[] NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, id)
      )`);
    await q.query(
      'CREATE INDEX directory_departments_path_idx ON directory_departments USING gin (path)',
    );
    await q.query(
      `ALTER TABLE directory_members ADD COLUMN scope_department_ids int[] NOT NULL DEFAULT '{}'`,
    );
    // Derived at archive time (not evidence, so outside the hash): who may see the record.
    await q.query(`
      CREATE TABLE archive_sender_departments (
        corp_id varchar(18) NOT NULL,
        chain_seq bigint NOT NULL,
        department_ids int[] NOT NULL,
        PRIMARY KEY (corp_id, chain_seq)
      )`);
    await q.query(
      `ALTER TABLE archive_search ADD COLUMN sender_departments int[] NOT NULL DEFAULT '{}',
         ADD COLUMN has_attachment boolean NOT NULL DEFAULT false`,
    );
    await q.query(
      'CREATE INDEX archive_search_departments_idx ON archive_search USING gin (sender_departments)',
    );
    // Records archived before coverage existed: their senders' departments as known now.
    await q.query(`
      INSERT INTO archive_sender_departments (corp_id, chain_seq, department_ids)
      SELECT r.corp_id, r.chain_seq, coalesce(m.department_ids, '{}')
        FROM archive_records r
        LEFT JOIN directory_members m ON m.corp_id = r.corp_id AND m.userid = r.sender`);
    await q.query(`
      UPDATE archive_search s SET sender_departments = d.department_ids,
             has_attachment = jsonb_array_length(r.media) > 0
        FROM archive_sender_departments d, archive_records r
       WHERE d.corp_id = s.corp_id AND d.chain_seq = s.chain_seq
         AND r.corp_id = s.corp_id AND r.chain_seq = s.chain_seq`);
    // Records waiting for an external index; a rejected one stays with its error (never dropped).
    await q.query(`
      CREATE TABLE archive_index_queue (
        corp_id varchar(18) NOT NULL,
        chain_seq bigint NOT NULL,
        op varchar(8) NOT NULL DEFAULT 'index' CHECK (op IN ('index', 'delete')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        failed_at timestamptz,
        enqueued_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, chain_seq)
      )`);
    await q.query(
      'CREATE INDEX archive_index_queue_due_idx ON archive_index_queue (next_attempt_at) WHERE failed_at IS NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE archive_index_queue');
    await q.query('DROP INDEX archive_search_departments_idx');
    await q.query(
      'ALTER TABLE archive_search DROP COLUMN sender_departments, DROP COLUMN has_attachment',
    );
    await q.query('DROP TABLE archive_sender_departments');
    await q.query('ALTER TABLE directory_members DROP COLUMN scope_department_ids');
    await q.query('DROP TABLE directory_departments');
  }
}
