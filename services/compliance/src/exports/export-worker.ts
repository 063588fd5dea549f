import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LOGGER, type Logger } from '@qiwei/platform';
import { DataSource } from 'typeorm';
import { AccessLog } from '../access-log/access-log';
import type { Canonical } from '../chain/hash-chain';
import { recordOf, type ArchiveRecordRow } from '../archive/archive-record';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';
import { ARCHIVE_INDEX, type ArchiveIndex } from '../search/archive-index';
import { writeBundle, type SignedHead } from './export-bundle';
import { csvLine, jsonlLine, manifestEntry } from './export-format';
import {
  exportJobOf,
  exportKeys,
  storedFilter,
  type ExportJob,
  type ExportJobRow,
} from './export-job';
import { ExportStorage } from './export-storage';

/** A value as its JSON would read back (no undefined), fit for the access log's hash. */
export const asCanonical = (value: unknown): Canonical =>
  JSON.parse(JSON.stringify(value)) as Canonical;

export type StepOutcome = 'more' | 'completed' | 'failed' | 'lost';

/**
 * Produces exports. A worker claims a due job (queued, or running with a lapsed lease) with
 * FOR UPDATE SKIP LOCKED, taking a lease and counting an attempt; the attempt number fences
 * every later write, so a worker that lost its lease (paused, partitioned) can no longer
 * record progress. Each step reads one page of the current filter from the ArchiveIndex (by
 * time, with the officer's coverage, capped at the moment the export was asked for), keeps
 * only records no earlier step wrote (`export_records`), writes them as three part objects
 * (JSONL, CSV, manifest lines) and then saves the cursor: a crash repeats at most the step it
 * was in, overwriting the same part objects. The last step assembles the zip, stores it, and
 * records `archive.exported` in the access log with the record count.
 */
@Injectable()
export class ExportWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  private loops: Promise<void>[] = [];
  private wakes = new Set<() => void>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(ARCHIVE_INDEX) private readonly index: ArchiveIndex,
    private readonly storage: ExportStorage,
    private readonly accessLog: AccessLog,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    for (let i = 0; i < this.config.EXPORT_WORKERS; i++) this.loops.push(this.loop());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakes) wake();
    await Promise.all(this.loops);
  }

  /** Wakes idle workers (a job was just queued). */
  nudge(): void {
    for (const wake of this.wakes) wake();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let worked = false;
      try {
        worked = await this.runOnce();
      } catch (err) {
        this.logger.error({ err }, 'export worker failed; retrying');
      }
      if (!worked) await this.sleep(this.config.EXPORT_POLL_INTERVAL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakes.delete(wake);
        done();
      };
      const timer = setTimeout(wake, ms);
      this.wakes.add(wake);
    });
  }

  /** Claims one due job and works it to the end (or until the lease is lost); false if none. */
  async runOnce(): Promise<boolean> {
    const job = await this.claim();
    if (!job) return false;
    let outcome: StepOutcome = 'more';
    while (outcome === 'more' && !this.stopped) {
      try {
        outcome = await this.step(job);
      } catch (err) {
        // The lease lapses and a worker takes it up again from the saved cursor.
        this.logger.error({ err, exportId: job.id }, 'export step failed; it resumes later');
        await this.release(job, (err as Error).message);
        return true;
      }
    }
    return true;
  }

  /** The oldest due job, leased to this worker (one more attempt); null when none is due. */
  async claim(): Promise<ExportJob | null> {
    const [row] = await this.dataSource.query<ExportJobRow[]>(
      `WITH due AS (
         SELECT corp_id, id FROM export_jobs
          WHERE status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < now())
          ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE export_jobs j SET status = 'running', attempts = j.attempts + 1,
                lease_until = now() + make_interval(secs => $1), updated_at = now(),
                started_at = coalesce(j.started_at, now())
           FROM due WHERE j.corp_id = due.corp_id AND j.id = due.id
         RETURNING j.*)
       SELECT * FROM claimed`,
      [this.config.EXPORT_LEASE_SECONDS],
    );
    if (!row) return null;
    const job = exportJobOf(row);
    if (job.attempts > this.config.EXPORT_MAX_ATTEMPTS) {
      await this.fail(job, `gave up after ${job.attempts - 1} attempts: ${job.error ?? ''}`);
      return null;
    }
    return job;
  }

  /** One step of a claimed job: a page of records, or the bundle once every filter is done. */
  async step(job: ExportJob): Promise<StepOutcome> {
    if (job.filterIndex >= job.filters.length) return this.finish(job);
    const filter = job.filters[job.filterIndex];
    // Nothing sent after the export was asked for: a later step does not chase new records.
    const to = filter.to && filter.to < job.createdAt ? filter.to : job.createdAt;
    const page = await this.index.search({
      ...filter,
      to,
      corpId: job.corpId,
      coverage: job.coverage,
      sort: 'time',
      limit: this.config.EXPORT_CHUNK_SIZE,
      cursor: job.cursor ?? undefined,
    });
    const chunk = job.chunks + 1;
    const seqs = page.hits.map((h) => h.chainSeq);
    const fresh = await this.dataSource.transaction(async (em) => {
      const [ours] = await em.query<unknown[]>(
        `SELECT 1 FROM export_jobs WHERE corp_id = $1 AND id = $2 AND attempts = $3
            AND status = 'running' FOR UPDATE`,
        [job.corpId, job.id, job.attempts],
      );
      if (!ours) return null;
      // This step's rows from before a crash go; an earlier step's (an overlapping filter) stay.
      await em.query(
        'DELETE FROM export_records WHERE corp_id = $1 AND export_id = $2 AND chunk >= $3',
        [job.corpId, job.id, chunk],
      );
      const rows = await em.query<{ chain_seq: string }[]>(
        `INSERT INTO export_records (corp_id, export_id, chain_seq, chunk)
         SELECT $1, $2, s, $3 FROM unnest($4::bigint[]) AS s
         ON CONFLICT DO NOTHING RETURNING chain_seq`,
        [job.corpId, job.id, chunk, seqs],
      );
      return new Set(rows.map((r) => Number(r.chain_seq)));
    });
    if (!fresh) return 'lost';
    if (job.records + fresh.size > this.config.EXPORT_MAX_RECORDS) {
      await this.fail(
        job,
        `more than EXPORT_MAX_RECORDS (${this.config.EXPORT_MAX_RECORDS}) records: narrow the filter`,
      );
      return 'failed';
    }
    const records = fresh.size
      ? (
          await this.dataSource.query<ArchiveRecordRow[]>(
            'SELECT * FROM archive_records WHERE corp_id = $1 AND chain_seq = ANY($2::bigint[])',
            [job.corpId, [...fresh]],
          )
        ).map(recordOf)
      : [];
    const bySeq = new Map(records.map((r) => [r.chainSeq, r]));
    const ordered = seqs.flatMap((s) => (fresh.has(s) && bySeq.has(s) ? [bySeq.get(s)!] : []));
    const keys = exportKeys(job.corpId, job.id);
    const put = (what: 'jsonl' | 'csv' | 'manifest', body: string) =>
      this.storage.objects.put(
        this.storage.bucket,
        keys.part(chunk, what),
        Buffer.from(body, 'utf8'),
        undefined,
        what === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      );
    await put('jsonl', ordered.map(jsonlLine).join(''));
    await put('csv', ordered.map(csvLine).join(''));
    await put('manifest', ordered.map((r) => `${JSON.stringify(manifestEntry(r))}\n`).join(''));
    const next = page.nextCursor;
    const moved = await this.dataSource.query<unknown[]>(
      `WITH u AS (
         UPDATE export_jobs SET chunks = $4, records = records + $5, cursor = $6,
                filter_index = filter_index + $7, lease_until = now() + make_interval(secs => $8),
                updated_at = now()
          WHERE corp_id = $1 AND id = $2 AND attempts = $3 AND status = 'running'
          RETURNING 1)
       SELECT * FROM u`,
      [
        job.corpId,
        job.id,
        job.attempts,
        chunk,
        ordered.length,
        next,
        next ? 0 : 1,
        this.config.EXPORT_LEASE_SECONDS,
      ],
    );
    if (!moved.length) return 'lost';
    job.chunks = chunk;
    job.records += ordered.length;
    job.cursor = next;
    if (!next) job.filterIndex++;
    return 'more';
  }

  private async finish(job: ExportJob): Promise<StepOutcome> {
    const [range] = await this.dataSource.query<{ first: string | null; last: string | null }[]>(
      `SELECT min(chain_seq) AS first, max(chain_seq) AS last FROM export_records
        WHERE corp_id = $1 AND export_id = $2`,
      [job.corpId, job.id],
    );
    const [head] = await this.dataSource.query<
      { chain_seq: string; hash: Buffer; signed_at: Date; key_id: string; signature: Buffer }[]
    >(
      `SELECT chain_seq, hash, signed_at, key_id, signature FROM chain_heads
        WHERE corp_id = $1 AND chain = 'archive' ORDER BY chain_seq DESC LIMIT 1`,
      [job.corpId],
    );
    const signedHead: SignedHead | null = head
      ? {
          chainSeq: Number(head.chain_seq),
          hash: head.hash.toString('hex'),
          signedAt: head.signed_at.toISOString(),
          keyId: head.key_id,
          signature: head.signature.toString('base64'),
        }
      : null;
    const bundle = await writeBundle(this.storage, job, {
      signedHead,
      range:
        range?.first !== null && range?.first !== undefined
          ? { first: Number(range.first), last: Number(range.last) }
          : null,
    });
    const done = await this.dataSource.transaction(async (em) => {
      const rows = await em.query<unknown[]>(
        `WITH u AS (
           UPDATE export_jobs SET status = 'completed', object_key = $4, sha256 = $5, bytes = $6,
                  media_files = $7, completed_at = now(), updated_at = now(), lease_until = NULL,
                  error = NULL
            WHERE corp_id = $1 AND id = $2 AND attempts = $3 AND status = 'running'
            RETURNING 1)
         SELECT * FROM u`,
        [
          job.corpId,
          job.id,
          job.attempts,
          bundle.key,
          bundle.sha256,
          bundle.bytes,
          bundle.mediaFiles,
        ],
      );
      if (!rows.length) return false;
      await this.accessLog.append(em, {
        corpId: job.corpId,
        actor: job.requestedBy,
        action: 'archive.exported',
        query: {
          exportId: job.id,
          source: job.source,
          filters: asCanonical(job.filters.map(storedFilter)),
          coverage: job.coverage,
          formats: job.formats,
          includeMedia: job.includeMedia,
          sha256: bundle.sha256,
          mediaFiles: bundle.mediaFiles,
        },
        resultCount: job.records,
      });
      return true;
    });
    if (!done) return 'lost';
    await this.removeParts(job);
    return 'completed';
  }

  private async removeParts(job: ExportJob): Promise<void> {
    const keys = exportKeys(job.corpId, job.id);
    try {
      for (let chunk = 1; chunk <= job.chunks; chunk++)
        for (const what of ['jsonl', 'csv', 'manifest'] as const)
          await this.storage.objects.remove(this.storage.bucket, keys.part(chunk, what));
    } catch (err) {
      this.logger.warn({ err, exportId: job.id }, 'could not remove an export’s parts');
    }
  }

  private async release(job: ExportJob, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE export_jobs SET error = $4, updated_at = now(),
              lease_until = now() + make_interval(secs => $5)
        WHERE corp_id = $1 AND id = $2 AND attempts = $3 AND status = 'running'`,
      [job.corpId, job.id, job.attempts, error.slice(0, 1000), Math.min(2 ** job.attempts, 300)],
    );
  }

  private async fail(job: ExportJob, error: string): Promise<void> {
    await this.dataSource.transaction(async (em) => {
      await em.query(
        `UPDATE export_jobs SET status = 'failed', error = $3, lease_until = NULL,
                completed_at = now(), updated_at = now()
          WHERE corp_id = $1 AND id = $2`,
        [job.corpId, job.id, error.slice(0, 1000)],
      );
      await this.accessLog.append(em, {
        corpId: job.corpId,
        actor: job.requestedBy,
        action: 'archive.exported',
        query: { exportId: job.id, failed: error.slice(0, 1000) },
        resultCount: 0,
      });
    });
    this.logger.error({ exportId: job.id, error }, 'export failed');
  }
}
