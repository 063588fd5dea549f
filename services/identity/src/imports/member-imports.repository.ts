import { Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { MemberImport, type ImportMode, type ImportStatus } from './member-import.entity';
import type { SheetFormat } from './member-sheet';
import type { RowIssue } from './member-rows';
import { JobLeaseTable } from '../jobs/job-lease';

const LEASE = new JobLeaseTable('member_imports', 'id', 'processed_rows');

/** A job as its worker holds it: the claim token guards every write the worker makes. */
export interface ClaimedImport {
  corpId: CorpId;
  id: string;
  mode: ImportMode;
  file: Buffer;
  processedRows: number;
  attempts: number;
  claimToken: string;
  requestedBy: string | null;
  requestIp: string | null;
  requestId: string | null;
}

export interface ChunkCounts {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  rejected: number;
  departmentsCreated: number;
}

export interface NewImport {
  id: string;
  mode: ImportMode;
  format: SheetFormat;
  file: Buffer;
  totalRows: number;
  requestedBy: string | null;
  requestIp: string | null;
  requestId: string | null;
}

interface ClaimedRow {
  corp_id: CorpId;
  id: string;
  mode: ImportMode;
  file: Buffer;
  processed_rows: number;
  attempts: number;
  claim_token: string;
  requested_by: string | null;
  request_ip: string | null;
  request_id: string | null;
}

/** Member import jobs and their row results. Every method on one job is scoped to its corp. */
@Injectable()
export class MemberImportsRepository {
  async create(em: EntityManager, corpId: CorpId, job: NewImport): Promise<void> {
    await em.query(
      `INSERT INTO member_imports
         (corp_id, id, mode, format, file, total_rows, requested_by, request_ip, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        corpId,
        job.id,
        job.mode,
        job.format,
        job.file,
        job.totalRows,
        job.requestedBy,
        job.requestIp,
        job.requestId,
      ],
    );
  }

  find(em: EntityManager, corpId: CorpId, id: string): Promise<MemberImport | null> {
    return em.getRepository(MemberImport).findOneBy({ corpId, id });
  }

  /**
   * The oldest queued job, or a running one whose worker has been silent for `staleAfterMs`
   * (it crashed): several replicas claim concurrently without waiting on each other.
   */
  async claimNext(
    em: EntityManager,
    claimToken: string,
    staleAfterMs: number,
  ): Promise<ClaimedImport | null> {
    const row = await LEASE.claimNext<ClaimedRow>(
      em,
      claimToken,
      staleAfterMs,
      `j.corp_id, j.id, j.mode, j.file, j.processed_rows, j.attempts, j.claim_token,
       j.requested_by, j.request_ip, j.request_id`,
    );
    if (!row) return null;
    return {
      corpId: row.corp_id,
      id: row.id,
      mode: row.mode,
      file: row.file,
      processedRows: row.processed_rows,
      attempts: row.attempts,
      claimToken: row.claim_token,
      requestedBy: row.requested_by,
      requestIp: row.request_ip,
      requestId: row.request_id,
    };
  }

  /** Locks the job for a chunk; false when another worker has taken it over meanwhile. */
  holdForChunk(em: EntityManager, job: ClaimedImport, processedRows: number): Promise<boolean> {
    return LEASE.hold(em, job, job.id, processedRows);
  }

  async recordChunk(
    em: EntityManager,
    job: ClaimedImport,
    processedRows: number,
    counts: ChunkCounts,
  ): Promise<void> {
    await em.query(
      `UPDATE member_imports
          SET processed_rows = $3, heartbeat_at = now(),
              created_count = created_count + $4, updated_count = updated_count + $5,
              unchanged_count = unchanged_count + $6, skipped_count = skipped_count + $7,
              rejected_count = rejected_count + $8, departments_created = departments_created + $9
        WHERE corp_id = $1 AND id = $2`,
      [
        job.corpId,
        job.id,
        processedRows,
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.skipped,
        counts.rejected,
        counts.departmentsCreated,
      ],
    );
  }

  heartbeat(em: EntityManager, job: ClaimedImport): Promise<void> {
    return LEASE.heartbeat(em, job, job.id);
  }

  /** Ends the job (the file is dropped) and returns it as it ends; null if no longer ours. */
  async finish(
    em: EntityManager,
    job: ClaimedImport,
    status: Extract<ImportStatus, 'succeeded' | 'failed'>,
    failure: string | null,
  ): Promise<MemberImport | null> {
    const rows = await em.query<unknown[]>(
      `WITH finished AS (
         UPDATE member_imports
            SET status = $4, failure = $5, finished_at = now(), file = NULL, claim_token = NULL
          WHERE corp_id = $1 AND id = $2 AND claim_token = $3 AND status = 'running'
         RETURNING 1
       ) SELECT * FROM finished`,
      [job.corpId, job.id, job.claimToken, status, failure],
    );
    return rows.length ? this.find(em, job.corpId, job.id) : null;
  }

  /**
   * Hands a job back: the next worker resumes where this one stopped. A worker that stops
   * cleanly does not use up one of the job's attempts.
   */
  release(
    em: EntityManager,
    job: ClaimedImport,
    attempt: { failedAttempt: boolean },
  ): Promise<void> {
    return LEASE.release(em, job, job.id, attempt);
  }

  async insertIssues(
    em: EntityManager,
    corpId: CorpId,
    importId: string,
    issues: RowIssue[],
  ): Promise<void> {
    if (issues.length === 0) return;
    const nth = new Map<number, number>();
    const n = issues.map((i) => {
      const next = (nth.get(i.row) ?? 0) + 1;
      nth.set(i.row, next);
      return next;
    });
    await em.query(
      `INSERT INTO member_import_rejections (corp_id, import_id, row, n, outcome, field, code, message)
       SELECT $1, $2, i.row, i.n, i.outcome, i.field, i.code, i.message
         FROM unnest($3::int[], $4::smallint[], $5::text[], $6::text[], $7::text[], $8::text[])
              AS i(row, n, outcome, field, code, message)`,
      [
        corpId,
        importId,
        issues.map((i) => i.row),
        n,
        issues.map((i) => i.outcome),
        issues.map((i) => i.field),
        issues.map((i) => i.code),
        issues.map((i) => i.message),
      ],
    );
  }

  /** A job's rows that were not applied, by row; keyset-paginated on (row, n). */
  issues(
    em: EntityManager,
    corpId: CorpId,
    importId: string,
    after: { row: number; n: number } | undefined,
    limit: number,
  ): Promise<(RowIssue & { n: number })[]> {
    return em.query(
      `SELECT row, n, outcome, field, code, message FROM member_import_rejections
        WHERE corp_id = $1 AND import_id = $2 AND (row, n) > ($3, $4)
        ORDER BY row, n LIMIT $5`,
      [corpId, importId, after?.row ?? 0, after?.n ?? 0, limit],
    );
  }
}
