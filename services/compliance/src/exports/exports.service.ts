import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { TransactionRunner } from '@qiwei/persistence';
import { decodeCursor, encodeCursor } from '@qiwei/platform';
import { DataSource } from 'typeorm';
import { AccessLog } from '../access-log/access-log';
import { checkFilter } from '../archive/archive.service';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';
import { Coverage } from '../coverage/coverage';
import { MattersService } from '../matters/matters.service';
import type { ArchiveFilter } from '../search/archive-index';
import { ExportNotFoundException, ExportNotReadyException } from './export.exceptions';
import {
  exportJobOf,
  storedFilter,
  type ExportFormat,
  type ExportJob,
  type ExportJobRow,
  type ExportSource,
} from './export-job';
import { ExportStorage } from './export-storage';
import { asCanonical, ExportWorker } from './export-worker';

type Cursor = { t: string; i: string };
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Cursor).t === 'string' &&
  !Number.isNaN(Date.parse((v as Cursor).t)) &&
  typeof (v as Cursor).i === 'string' &&
  /^[0-9a-f-]{36}$/.test((v as Cursor).i);

/**
 * Officers' exports: asked for (queued, with the officer's coverage at that moment and an
 * access-log entry), followed, and downloaded through a short-lived presigned URL (recorded
 * too). An officer sees only their own exports. The source is a list of search filters: one
 * for a search, and for a legal matter the filters that together select what it holds
 * (`matterSearchFilters`), with `{ kind: 'matter', matterId }` as the source.
 */
@Injectable()
export class ExportsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly coverage: Coverage,
    private readonly accessLog: AccessLog,
    private readonly storage: ExportStorage,
    private readonly worker: ExportWorker,
    private readonly matters: MattersService,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
  ) {}

  /**
   * Exports what a legal matter of the caller's corp holds (active or released: what is still
   * archived), within the caller's coverage. MATTER_NOT_FOUND for another corp's or none.
   */
  async requestMatter(
    caller: Principal,
    matterId: string,
    options: { formats: ExportFormat[]; includeMedia: boolean },
  ): Promise<ExportJob> {
    const filters = await this.matters.searchFilters(caller.corpId, matterId);
    return this.request(caller, { kind: 'matter', matterId }, filters, options);
  }

  async request(
    caller: Principal,
    source: ExportSource,
    filters: ArchiveFilter[],
    options: { formats: ExportFormat[]; includeMedia: boolean },
  ): Promise<ExportJob> {
    filters.forEach(checkFilter);
    const coverage = await this.coverage.of(caller.corpId, caller.userId);
    const id = randomUUID();
    const job = await this.tx.run(async (em) => {
      const [row] = await em.query<ExportJobRow[]>(
        `INSERT INTO export_jobs (corp_id, id, requested_by, source, filters, coverage, formats,
           include_media, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', now(), now()) RETURNING *`,
        [
          caller.corpId,
          id,
          caller.userId,
          JSON.stringify(source),
          JSON.stringify(filters.map(storedFilter)),
          coverage,
          [...new Set(options.formats)],
          options.includeMedia,
        ],
      );
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'archive.export_requested',
        query: asCanonical({
          exportId: id,
          source,
          filters: filters.map(storedFilter),
          coverage,
          formats: options.formats,
          includeMedia: options.includeMedia,
        }) as { [key: string]: never },
        resultCount: 0,
      });
      return exportJobOf(row);
    });
    this.worker.nudge();
    return job;
  }

  async get(caller: Principal, id: string): Promise<ExportJob> {
    const [row] = await this.dataSource.query<ExportJobRow[]>(
      'SELECT * FROM export_jobs WHERE corp_id = $1 AND id = $2 AND requested_by = $3',
      [caller.corpId, id, caller.userId],
    );
    if (!row) throw new ExportNotFoundException(id);
    return exportJobOf(row);
  }

  /** The caller's exports, newest first. */
  async list(
    caller: Principal,
    limit: number,
    cursor?: string,
  ): Promise<{ items: ExportJob[]; nextCursor: string | null }> {
    const after = decodeCursor(cursor, isCursor);
    const rows = await this.dataSource.query<ExportJobRow[]>(
      `SELECT * FROM export_jobs WHERE corp_id = $1 AND requested_by = $2
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $5`,
      [caller.corpId, caller.userId, after?.t ?? null, after?.i ?? null, limit + 1],
    );
    const items = rows.slice(0, limit).map(exportJobOf);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor:
        rows.length > limit ? encodeCursor({ t: last.createdAt.toISOString(), i: last.id }) : null,
    };
  }

  /** A presigned URL for the finished bundle; the download is recorded in the access log. */
  async download(
    caller: Principal,
    id: string,
  ): Promise<{ url: string; expiresAt: Date; filename: string; sha256: string; bytes: number }> {
    const job = await this.get(caller, id);
    if (job.status !== 'completed' || !job.objectKey || !job.sha256)
      throw new ExportNotReadyException(job.status);
    const filename = `archive-export-${job.id}.zip`;
    const expiry = this.config.EXPORT_URL_EXPIRY_SECONDS;
    const url = await this.storage.objects.presignedGet(
      this.storage.bucket,
      job.objectKey,
      expiry,
      filename,
    );
    await this.tx.run((em) =>
      this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'archive.export_downloaded',
        query: { exportId: job.id, sha256: job.sha256 },
        resultCount: job.records,
      }),
    );
    return {
      url,
      expiresAt: new Date(Date.now() + expiry * 1000),
      filename,
      sha256: job.sha256,
      bytes: job.bytes ?? 0,
    };
  }
}
