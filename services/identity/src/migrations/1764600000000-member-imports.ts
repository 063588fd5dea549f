import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Member import jobs (the uploaded file kept with the job until it finishes, so a restart loses
 * nothing) and the rows each one did not apply.
 */
export class MemberImports1764600000000 implements MigrationInterface {
  name = 'MemberImports1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE member_imports (
        corp_id varchar(18) NOT NULL REFERENCES corps (corp_id),
        id uuid NOT NULL,
        mode varchar(16) NOT NULL CHECK (mode IN ('add', 'overwrite')),
        format varchar(8) NOT NULL CHECK (format IN ('csv', 'xlsx')),
        status varchar(16) NOT NULL DEFAULT 'queued'
          CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
        file bytea,
        total_rows int NOT NULL,
        processed_rows int NOT NULL DEFAULT 0,
        created_count int NOT NULL DEFAULT 0,
        updated_count int NOT NULL DEFAULT 0,
        unchanged_count int NOT NULL DEFAULT 0,
        skipped_count int NOT NULL DEFAULT 0,
        rejected_count int NOT NULL DEFAULT 0,
        departments_created int NOT NULL DEFAULT 0,
        failure text,
        attempts int NOT NULL DEFAULT 0,
        claim_token uuid,
        heartbeat_at timestamptz,
        requested_by varchar(64),
        request_ip varchar(64),
        request_id varchar(128),
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        PRIMARY KEY (corp_id, id)
      )`);
    // What workers look for: queued jobs and running ones whose worker went silent.
    await q.query(`
      CREATE INDEX member_imports_pending_idx ON member_imports (created_at)
        WHERE status IN ('queued', 'running')`);
    await q.query(`
      CREATE TABLE member_import_rejections (
        corp_id varchar(18) NOT NULL,
        import_id uuid NOT NULL,
        row int NOT NULL,
        n smallint NOT NULL,
        outcome varchar(8) NOT NULL CHECK (outcome IN ('rejected', 'skipped')),
        field varchar(16) NOT NULL,
        code varchar(64) NOT NULL,
        message text NOT NULL,
        PRIMARY KEY (corp_id, import_id, row, n),
        FOREIGN KEY (corp_id, import_id) REFERENCES member_imports (corp_id, id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE member_import_rejections');
    await q.query('DROP TABLE member_imports');
  }
}
