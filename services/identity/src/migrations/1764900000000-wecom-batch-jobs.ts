import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * WeCom's asynchronous batch jobs (batch/syncuser, replaceuser, replaceparty): the job, claimed
 * by one worker at a time like the member imports, its callback's delivery state, and one result
 * per row of its CSV (and per member or department an overwrite removed or kept).
 */
export class WecomBatchJobs1764900000000 implements MigrationInterface {
  name = 'WecomBatchJobs1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE wecom_batch_jobs (
        corp_id varchar(18) NOT NULL REFERENCES corps (corp_id),
        jobid varchar(64) NOT NULL,
        type varchar(16) NOT NULL CHECK (type IN ('sync_user', 'replace_user', 'replace_party')),
        status varchar(16) NOT NULL DEFAULT 'queued'
          CHECK (status IN ('queued', 'running', 'finished')),
        agentid int NOT NULL,
        media_id varchar(128) NOT NULL,
        media_sha256 varchar(64) NOT NULL,
        media_bytes int NOT NULL,
        to_invite boolean NOT NULL,
        total int NOT NULL DEFAULT 0,
        processed int NOT NULL DEFAULT 0,
        errcode int NOT NULL DEFAULT 0,
        errmsg text NOT NULL DEFAULT 'ok',
        summary jsonb NOT NULL DEFAULT '{}',
        attempts int NOT NULL DEFAULT 0,
        claim_token uuid,
        heartbeat_at timestamptz,
        callback_url text,
        callback_secret text,
        callback_state varchar(16) NOT NULL DEFAULT 'none'
          CHECK (callback_state IN ('none', 'pending', 'delivered', 'failed')),
        callback_attempts int NOT NULL DEFAULT 0,
        callback_next_at timestamptz,
        callback_error text,
        callback_delivered_at timestamptz,
        request_ip varchar(64),
        request_id varchar(128),
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        PRIMARY KEY (corp_id, jobid)
      )`);
    // What workers look for: queued jobs, running ones whose worker went silent, due callbacks.
    await q.query(`
      CREATE INDEX wecom_batch_jobs_pending_idx ON wecom_batch_jobs (created_at)
        WHERE status IN ('queued', 'running')`);
    await q.query(`
      CREATE INDEX wecom_batch_jobs_callback_idx ON wecom_batch_jobs (callback_next_at)
        WHERE callback_state = 'pending'`);
    await q.query(`
      CREATE TABLE wecom_batch_results (
        corp_id varchar(18) NOT NULL,
        jobid varchar(64) NOT NULL,
        n int NOT NULL,
        userid varchar(64),
        partyid int,
        action smallint,
        errcode int NOT NULL,
        errmsg text NOT NULL,
        PRIMARY KEY (corp_id, jobid, n),
        FOREIGN KEY (corp_id, jobid) REFERENCES wecom_batch_jobs (corp_id, jobid) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE wecom_batch_results');
    await q.query('DROP TABLE wecom_batch_jobs');
  }
}
