import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TransactionRunner } from '@qiwei/persistence';
import { DomainException, LOGGER, type Logger } from '@qiwei/platform';
import { DataSource } from 'typeorm';
import { JobPollLoop } from '../jobs/job-poll-loop';
import { recordAudits } from '../audit/audit-log';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { ApplyImportChunkUseCase, importActor } from './apply-import-chunk.usecase';
import { memberImportSummary } from './dto/member-import.dto';
import { BulkMembersRepository } from './bulk-members.repository';
import { fileDuplicates, prepareRows } from './member-rows';
import { readMemberSheet, type SheetRow } from './member-sheet';
import { MemberImportsRepository, type ClaimedImport } from './member-imports.repository';

/** Rows per transaction: large enough for set-based writes, short enough a lock hold. */
export const IMPORT_CHUNK_ROWS = 5_000;
const POLL_INTERVAL_MS = 1_000;
/** A running job whose worker has not written for this long is taken over (its worker died). */
const STALE_AFTER_MS = 60_000;
/** Claims of one job before it is given up as failed (e.g. it crashes its worker each time). */
const MAX_ATTEMPTS = 3;
/** Rows written by one job past which it refreshes the planner's statistics. */
const ANALYZE_AFTER_ROWS = 1_000;
/** Sheets uploaded here and not yet claimed: the worker that claims one skips reading it again. */
const KEEP_UPLOADED = 2;

/**
 * Runs queued member imports, one at a time per process, in chunks (see ApplyImportChunkUseCase).
 * Jobs live in PostgreSQL: replicas claim them with SKIP LOCKED, a stopping process hands its job
 * back, and a job whose worker died is resumed from its last committed chunk by another.
 */
@Injectable()
export class MemberImportWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly poll = new JobPollLoop(
    POLL_INTERVAL_MS,
    () => this.runNext(),
    (error) => this.logger.error({ err: error }, 'member import worker: claiming a job failed'),
  );
  private readonly uploaded = new Map<string, SheetRow[]>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly imports: MemberImportsRepository,
    private readonly applyChunk: ApplyImportChunkUseCase,
    private readonly bulk: BulkMembersRepository,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.poll.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.poll.stop();
  }

  /** A job was queued here, its sheet already read: look now rather than at the next poll. */
  notify(importId: string, rows: SheetRow[]): void {
    this.uploaded.set(importId, rows);
    for (const id of this.uploaded.keys()) {
      if (this.uploaded.size <= KEEP_UPLOADED) break;
      this.uploaded.delete(id);
    }
    this.poll.nudge();
  }

  private async runNext(): Promise<boolean> {
    const job = await this.imports.claimNext(this.dataSource.manager, randomUUID(), STALE_AFTER_MS);
    if (!job) return false;
    const log = this.logger.child({ corpId: job.corpId, importId: job.id });
    try {
      if (job.attempts > MAX_ATTEMPTS) {
        await this.finish(job, 'failed', `Gave up after ${MAX_ATTEMPTS} attempts.`);
        return true;
      }
      await this.process(job);
    } catch (error) {
      if (error instanceof DomainException) {
        // The file no longer passes (e.g. the limits were lowered since it was queued).
        await this.finish(job, 'failed', error.message);
      } else {
        log.error({ err: error }, 'member import: a chunk failed; the job is queued again');
        await this.imports.release(this.dataSource.manager, job, { failedAttempt: true });
        await this.poll.pause(); // back off before it is claimed again
      }
    }
    return true;
  }

  private async process(job: ClaimedImport): Promise<void> {
    const sheet =
      this.uploaded.get(job.id) ??
      (await readMemberSheet(job.file, this.config.IMPORT_MAX_ROWS)).rows;
    this.uploaded.delete(job.id);
    const duplicates = fileDuplicates(sheet);
    await this.imports.heartbeat(this.dataSource.manager, job);
    let written = 0;
    for (let from = job.processedRows; from < sheet.length; from += IMPORT_CHUNK_ROWS) {
      if (this.poll.stopped) {
        await this.imports.release(this.dataSource.manager, job, { failedAttempt: false });
        return;
      }
      const rows = prepareRows(
        sheet.slice(from, from + IMPORT_CHUNK_ROWS),
        duplicates,
        this.config.DEPARTMENT_MAX_DEPTH,
      );
      const counts = await this.applyChunk.execute(job, rows, from);
      if (!counts) return; // another worker holds the job now
      written += counts.created + counts.updated;
    }
    // Autovacuum would catch up within a minute; until then the planner misjudges the grown
    // tables (a department listing right after a large import would crawl).
    if (written >= ANALYZE_AFTER_ROWS) await this.bulk.refreshStatistics(this.dataSource.manager);
    await this.finish(job, 'succeeded', null);
  }

  private async finish(
    job: ClaimedImport,
    status: 'succeeded' | 'failed',
    failure: string | null,
  ): Promise<void> {
    await this.transactions.run(async (em) => {
      const finished = await this.imports.finish(em, job, status, failure);
      if (!finished) return;
      await recordAudits(
        em,
        job.corpId,
        [
          {
            action: 'member_import.finished',
            targetType: 'member_import',
            targetId: job.id,
            after: memberImportSummary(finished),
          },
        ],
        importActor(job),
      );
    });
  }
}
