import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exports of archive search results (and later legal matters): the job with its filters,
 * the officer's coverage, where it has got to (filter index and index cursor, so a crash
 * resumes there), and the chain positions already written (each record once, even where the
 * filters of a matter overlap).
 */
export class Exports1766200000001 implements MigrationInterface {
  name = 'Exports1766200000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE export_jobs (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        requested_by varchar(64) NOT NULL,
        source jsonb NOT NULL,
        filters jsonb NOT NULL,
        coverage int[],
        formats text[] NOT NULL,
        include_media boolean NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
        filter_index int NOT NULL DEFAULT 0,
        cursor text,
        chunks int NOT NULL DEFAULT 0,
        records int NOT NULL DEFAULT 0,
        attempts int NOT NULL DEFAULT 0,
        lease_until timestamptz,
        error text,
        object_key text,
        sha256 varchar(64),
        bytes bigint,
        media_files int,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        completed_at timestamptz,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, id)
      )`);
    await q.query(
      `CREATE INDEX export_jobs_due_idx ON export_jobs (created_at) WHERE status IN ('queued', 'running')`,
    );
    await q.query(
      'CREATE INDEX export_jobs_requester_idx ON export_jobs (corp_id, requested_by, created_at DESC, id DESC)',
    );
    await q.query(`
      CREATE TABLE export_records (
        corp_id varchar(18) NOT NULL,
        export_id uuid NOT NULL,
        chain_seq bigint NOT NULL,
        chunk int NOT NULL,
        PRIMARY KEY (corp_id, export_id, chain_seq),
        FOREIGN KEY (corp_id, export_id) REFERENCES export_jobs (corp_id, id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE export_records');
    await q.query('DROP TABLE export_jobs');
  }
}
