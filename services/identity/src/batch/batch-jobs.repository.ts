import { Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { JobLeaseTable } from '../jobs/job-lease';
import type { RowOutcome } from './batch-errors';

const LEASE = new JobLeaseTable('wecom_batch_jobs', 'jobid', 'processed');

export const BATCH_JOB_TYPES = ['sync_user', 'replace_user', 'replace_party'] as const;
export type BatchJobType = (typeof BATCH_JOB_TYPES)[number];
export type BatchJobStatus = 'queued' | 'running' | 'finished';
export type CallbackState = 'none' | 'pending' | 'delivered' | 'failed';

/** A batch job as getresult and the audit log show it. */
export interface BatchJob {
  corpId: CorpId;
  jobid: string;
  type: BatchJobType;
  status: BatchJobStatus;
  agentid: number;
  mediaId: string;
  toInvite: boolean;
  total: number;
  processed: number;
  errcode: number;
  errmsg: string;
  summary: Record<string, unknown>;
  attempts: number;
  callbackUrl: string | null;
  callbackState: CallbackState;
  callbackAttempts: number;
  callbackError: string | null;
  callbackDeliveredAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** A job as its worker holds it: the claim token guards every write the worker makes. */
export interface ClaimedBatchJob {
  corpId: CorpId;
  jobid: string;
  type: BatchJobType;
  agentid: number;
  mediaId: string;
  mediaSha256: string;
  total: number;
  processed: number;
  attempts: number;
  claimToken: string;
  requestIp: string | null;
  requestId: string | null;
}

export interface NewBatchJob {
  jobid: string;
  type: BatchJobType;
  agentid: number;
  mediaId: string;
  mediaSha256: string;
  mediaBytes: number;
  toInvite: boolean;
  callbackUrl: string | null;
  /** Sealed `{token, encodingaeskey}`. */
  callbackSecret: string | null;
  requestIp: string | null;
  requestId: string | null;
}

/** One entry of a job's `result`. */
export interface BatchResultEntry extends RowOutcome {
  n: number;
  userid?: string;
  partyid?: number | null;
  action?: number;
}

/** A callback due for delivery, leased to one sender. */
export interface DueCallback {
  corpId: CorpId;
  jobid: string;
  type: BatchJobType;
  agentid: number;
  errcode: number;
  errmsg: string;
  callbackUrl: string;
  callbackSecret: string;
  callbackAttempts: number;
}

const JOB_COLUMNS = `corp_id AS "corpId", jobid, type, status, agentid, media_id AS "mediaId",
  to_invite AS "toInvite", total, processed, errcode, errmsg, summary, attempts,
  callback_url AS "callbackUrl", callback_state AS "callbackState",
  callback_attempts AS "callbackAttempts", callback_error AS "callbackError",
  callback_delivered_at AS "callbackDeliveredAt", created_at AS "createdAt",
  started_at AS "startedAt", finished_at AS "finishedAt"`;

/** WeCom batch jobs and their results. Every method on one job is scoped to its corp. */
@Injectable()
export class BatchJobsRepository {
  async create(em: EntityManager, corpId: CorpId, job: NewBatchJob): Promise<void> {
    await em.query(
      `INSERT INTO wecom_batch_jobs
         (corp_id, jobid, type, agentid, media_id, media_sha256, media_bytes, to_invite,
          callback_url, callback_secret, request_ip, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        corpId,
        job.jobid,
        job.type,
        job.agentid,
        job.mediaId,
        job.mediaSha256,
        job.mediaBytes,
        job.toInvite,
        job.callbackUrl,
        job.callbackSecret,
        job.requestIp,
        job.requestId,
      ],
    );
  }

  async find(em: EntityManager, corpId: CorpId, jobid: string): Promise<BatchJob | null> {
    const rows = await em.query<BatchJob[]>(
      `SELECT ${JOB_COLUMNS} FROM wecom_batch_jobs WHERE corp_id = $1 AND jobid = $2`,
      [corpId, jobid],
    );
    return rows[0] ?? null;
  }

  /** The oldest queued job, or a running one whose worker went silent; SKIP LOCKED. */
  claimNext(
    em: EntityManager,
    claimToken: string,
    staleAfterMs: number,
  ): Promise<ClaimedBatchJob | null> {
    return LEASE.claimNext<ClaimedBatchJob>(
      em,
      claimToken,
      staleAfterMs,
      `j.corp_id AS "corpId", j.jobid, j.type, j.agentid, j.media_id AS "mediaId",
       j.media_sha256 AS "mediaSha256", j.total, j.processed, j.attempts,
       j.claim_token AS "claimToken", j.request_ip AS "requestIp", j.request_id AS "requestId"`,
    );
  }

  /** Locks the job for a chunk; false when another worker has taken it over meanwhile. */
  hold(em: EntityManager, job: ClaimedBatchJob, processed: number): Promise<boolean> {
    return LEASE.hold(em, job, job.jobid, processed);
  }

  async start(
    em: EntityManager,
    job: ClaimedBatchJob,
    total: number,
    summary: Record<string, unknown>,
  ): Promise<void> {
    await em.query(
      `UPDATE wecom_batch_jobs SET total = $4, summary = summary || $5::jsonb, heartbeat_at = now()
        WHERE corp_id = $1 AND jobid = $2 AND claim_token = $3`,
      [job.corpId, job.jobid, job.claimToken, total, JSON.stringify(summary)],
    );
  }

  async recordProgress(
    em: EntityManager,
    job: ClaimedBatchJob,
    processed: number,
    counts: Record<string, number>,
  ): Promise<void> {
    // Counts add up across chunks: {"created": 3} + {"created": 2} = {"created": 5}.
    await em.query(
      `UPDATE wecom_batch_jobs j
          SET processed = $3, heartbeat_at = now(),
              summary = j.summary || coalesce((
                SELECT jsonb_object_agg(k, coalesce((j.summary->>k)::int, 0) + v::int)
                  FROM jsonb_each_text($4::jsonb) AS c(k, v)), '{}'::jsonb)
        WHERE corp_id = $1 AND jobid = $2`,
      [job.corpId, job.jobid, processed, JSON.stringify(counts)],
    );
  }

  heartbeat(em: EntityManager, job: ClaimedBatchJob): Promise<void> {
    return LEASE.heartbeat(em, job, job.jobid);
  }

  /**
   * Ends the job with its outcome; its callback (if any) becomes due. Returns the job as it
   * ends, or null when it is no longer this worker's.
   */
  async finish(
    em: EntityManager,
    job: ClaimedBatchJob,
    outcome: RowOutcome,
  ): Promise<BatchJob | null> {
    const rows = await em.query<unknown[]>(
      `WITH finished AS (
         UPDATE wecom_batch_jobs
            SET status = 'finished', errcode = $4, errmsg = $5, finished_at = now(),
                claim_token = NULL, processed = total,
                callback_state = CASE WHEN callback_url IS NULL THEN 'none' ELSE 'pending' END,
                callback_next_at = CASE WHEN callback_url IS NULL THEN NULL ELSE now() END
          WHERE corp_id = $1 AND jobid = $2 AND claim_token = $3 AND status = 'running'
         RETURNING 1
       ) SELECT * FROM finished`,
      [job.corpId, job.jobid, job.claimToken, outcome.errcode, outcome.errmsg],
    );
    return rows.length ? this.find(em, job.corpId, job.jobid) : null;
  }

  /** Hands a job back (the process is stopping, or a chunk failed and it is retried later). */
  release(
    em: EntityManager,
    job: ClaimedBatchJob,
    attempt: { failedAttempt: boolean },
  ): Promise<void> {
    return LEASE.release(em, job, job.jobid, attempt);
  }

  async insertResults(
    em: EntityManager,
    corpId: CorpId,
    jobid: string,
    entries: BatchResultEntry[],
  ): Promise<void> {
    if (entries.length === 0) return;
    await em.query(
      `INSERT INTO wecom_batch_results (corp_id, jobid, n, userid, partyid, action, errcode, errmsg)
       SELECT $1, $2, r.n, r.userid, r.partyid, r.action, r.errcode, r.errmsg
         FROM unnest($3::int[], $4::text[], $5::int[], $6::smallint[], $7::int[], $8::text[])
              AS r(n, userid, partyid, action, errcode, errmsg)`,
      [
        corpId,
        jobid,
        entries.map((e) => e.n),
        entries.map((e) => (e.userid === undefined ? null : e.userid.slice(0, 64))),
        entries.map((e) => e.partyid ?? null),
        entries.map((e) => e.action ?? null),
        entries.map((e) => e.errcode),
        entries.map((e) => e.errmsg),
      ],
    );
  }

  results(em: EntityManager, corpId: CorpId, jobid: string): Promise<BatchResultEntry[]> {
    return em.query(
      `SELECT n, userid, partyid, action, errcode, errmsg FROM wecom_batch_results
        WHERE corp_id = $1 AND jobid = $2 ORDER BY n`,
      [corpId, jobid],
    );
  }

  /** Leases the next due callback to this sender for `leaseMs` (SKIP LOCKED across replicas). */
  async leaseDueCallback(em: EntityManager, leaseMs: number): Promise<DueCallback | null> {
    const rows = await em.query<DueCallback[]>(
      `WITH next AS (
         SELECT corp_id, jobid FROM wecom_batch_jobs
          WHERE callback_state = 'pending' AND callback_next_at <= now()
          ORDER BY callback_next_at
          LIMIT 1
          FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE wecom_batch_jobs j
            SET callback_next_at = now() + $1 * interval '1 millisecond',
                callback_attempts = j.callback_attempts + 1
           FROM next
          WHERE j.corp_id = next.corp_id AND j.jobid = next.jobid
         RETURNING j.corp_id AS "corpId", j.jobid, j.type, j.agentid, j.errcode, j.errmsg,
                   j.callback_url AS "callbackUrl", j.callback_secret AS "callbackSecret",
                   j.callback_attempts AS "callbackAttempts"
       ) SELECT * FROM leased`,
      [leaseMs],
    );
    return rows[0] ?? null;
  }

  /** The callback was delivered, or gave up: its secret is dropped either way. */
  async endCallback(
    em: EntityManager,
    callback: DueCallback,
    state: 'delivered' | 'failed',
    error: string | null,
  ): Promise<void> {
    await em.query(
      `UPDATE wecom_batch_jobs
          SET callback_state = $3::varchar, callback_error = $4, callback_secret = NULL,
              callback_next_at = NULL,
              callback_delivered_at = CASE WHEN $3::varchar = 'delivered' THEN now() END
        WHERE corp_id = $1 AND jobid = $2 AND callback_state = 'pending'`,
      [callback.corpId, callback.jobid, state, error],
    );
  }

  /** A failed attempt with attempts left: tried again after `delayMs`. */
  async retryCallback(
    em: EntityManager,
    callback: DueCallback,
    error: string,
    delayMs: number,
  ): Promise<void> {
    await em.query(
      `UPDATE wecom_batch_jobs
          SET callback_error = $3, callback_next_at = now() + $4 * interval '1 millisecond'
        WHERE corp_id = $1 AND jobid = $2 AND callback_state = 'pending'`,
      [callback.corpId, callback.jobid, error, delayMs],
    );
  }
}
