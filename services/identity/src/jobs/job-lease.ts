import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';

/** What identifies a claimed job: its corp, its id and the token of the worker holding it. */
export interface LeasedJob {
  corpId: CorpId;
  claimToken: string;
}

/**
 * The lease of a job table (member imports, WeCom batch jobs): the columns `status` ('queued' |
 * 'running' | …), `claim_token`, `heartbeat_at`, `attempts`, `started_at` and `created_at`, a
 * job id column and a progress column. Workers of several replicas claim with SKIP LOCKED; a
 * running job whose worker fell silent is taken over; every write a worker makes is guarded by
 * its claim token, so a worker that lost its job changes nothing.
 */
export class JobLeaseTable {
  constructor(
    private readonly table: string,
    private readonly idColumn: string,
    private readonly progressColumn: string,
  ) {}

  /**
   * Claims the oldest queued job, or a running one whose worker has been silent for
   * `staleAfterMs` (it crashed), and returns the `returning` columns (qualified with `j.`).
   */
  async claimNext<Row>(
    em: EntityManager,
    claimToken: string,
    staleAfterMs: number,
    returning: string,
  ): Promise<Row | null> {
    const { table, idColumn: id } = this;
    const rows = await em.query<Row[]>(
      `WITH next AS (
         SELECT corp_id, ${id} FROM ${table}
          WHERE status = 'queued'
             OR (status = 'running' AND heartbeat_at < now() - $2 * interval '1 millisecond')
          ORDER BY created_at
          LIMIT 1
          FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE ${table} j
            SET status = 'running', claim_token = $1, heartbeat_at = now(),
                attempts = j.attempts + 1, started_at = coalesce(j.started_at, now())
           FROM next
          WHERE j.corp_id = next.corp_id AND j.${id} = next.${id}
         RETURNING ${returning}
       ) SELECT * FROM claimed`,
      [claimToken, staleAfterMs],
    );
    return rows[0] ?? null;
  }

  /**
   * Locks the job for one chunk of work that starts at `progress`; false when another worker has
   * taken it over meanwhile (or already applied that chunk).
   */
  async hold(em: EntityManager, job: LeasedJob, jobId: string, progress: number): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      `SELECT 1 FROM ${this.table}
        WHERE corp_id = $1 AND ${this.idColumn} = $2 AND claim_token = $3 AND status = 'running'
          AND ${this.progressColumn} = $4
        FOR UPDATE`,
      [job.corpId, jobId, job.claimToken, progress],
    );
    return rows.length > 0;
  }

  async heartbeat(em: EntityManager, job: LeasedJob, jobId: string): Promise<void> {
    await em.query(
      `UPDATE ${this.table} SET heartbeat_at = now()
        WHERE corp_id = $1 AND ${this.idColumn} = $2 AND claim_token = $3`,
      [job.corpId, jobId, job.claimToken],
    );
  }

  /**
   * Hands a job back: the next worker resumes where this one stopped. A worker that stops
   * cleanly does not use up one of the job's attempts.
   */
  async release(
    em: EntityManager,
    job: LeasedJob,
    jobId: string,
    { failedAttempt }: { failedAttempt: boolean },
  ): Promise<void> {
    await em.query(
      `UPDATE ${this.table}
          SET status = 'queued', claim_token = NULL,
              attempts = attempts - CASE WHEN $4 THEN 0 ELSE 1 END
        WHERE corp_id = $1 AND ${this.idColumn} = $2 AND claim_token = $3 AND status = 'running'`,
      [job.corpId, jobId, job.claimToken, failedAttempt],
    );
  }
}
