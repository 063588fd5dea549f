import { randomUUID } from 'node:crypto';
import { JobPollLoop } from '../jobs/job-poll-loop';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TransactionRunner } from '@qiwei/persistence';
import { DomainException, LOGGER, toProblem, type Logger } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { AccessService } from '../access/access.service';
import { recordAudits } from '../audit/audit-log';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { lockCorpForWrite } from '../corps/corp-lock';
import { BulkMembersRepository } from '../imports/bulk-members.repository';
import { readSheetRecords } from '../imports/member-sheet';
import { toWecomError } from '../wecom/wecom-errors';
import { ApplyUserChunkUseCase } from './apply-user-chunk.usecase';
import { BatchCallbackSender } from './batch-callback.sender';
import { ROW_OK, type RowOutcome } from './batch-errors';
import { BatchJobsRepository, type ClaimedBatchJob } from './batch-jobs.repository';
import { BatchMedia } from './batch-media';
import { batchActor, batchPrincipal } from './batch-principal';
import {
  batchSheet,
  fileUserids,
  PARTY_COLUMNS,
  preparePartyRows,
  prepareUserRows,
  USER_COLUMNS,
} from './batch-sheets';
import { BatchJobGaveUpException } from './batch.exceptions';
import { batchJobSummary } from './dto/wecom-batch.dto';
import { RemoveUnlistedMembersUseCase } from './remove-unlisted-members.usecase';
import { ReplaceDepartmentsUseCase } from './replace-departments.usecase';

/** Rows per transaction, as the member import: set-based writes, a short lock hold. */
export const BATCH_CHUNK_ROWS = 5_000;
const POLL_INTERVAL_MS = 1_000;
/** A running job whose worker has not written for this long is taken over (its worker died). */
const STALE_AFTER_MS = 60_000;
/** Claims of one job before it is given up (e.g. it crashes its worker each time). */
const MAX_ATTEMPTS = 3;
const ANALYZE_AFTER_ROWS = 1_000;

/** A job's outcome as WeCom reports it (getresult's errcode, the callback's ErrCode). */
export const outcomeOf = (error: unknown): RowOutcome => toWecomError(toProblem(error));

/**
 * Runs queued WeCom batch jobs, one at a time per process, as the member imports run: jobs live
 * in PostgreSQL, replicas claim them with SKIP LOCKED, a stopping process hands its job back, and
 * a job whose worker died is resumed by another from its last committed chunk. The CSV is read
 * again from the temporary media on each claim (its SHA-256 must not have changed).
 */
@Injectable()
export class BatchJobWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly poll = new JobPollLoop(
    POLL_INTERVAL_MS,
    () => this.runNext(),
    (error) => this.logger.error({ err: error }, 'batch job worker: claiming a job failed'),
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly jobs: BatchJobsRepository,
    private readonly media: BatchMedia,
    private readonly applyUsers: ApplyUserChunkUseCase,
    private readonly removeUnlisted: RemoveUnlistedMembersUseCase,
    private readonly replaceDepartments: ReplaceDepartmentsUseCase,
    private readonly accessService: AccessService,
    private readonly bulk: BulkMembersRepository,
    private readonly callbacks: BatchCallbackSender,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.poll.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.poll.stop();
  }

  /** A job was queued here: look now rather than at the next poll. */
  notify(): void {
    this.poll.nudge();
  }

  private async runNext(): Promise<boolean> {
    const job = await this.jobs.claimNext(this.dataSource.manager, randomUUID(), STALE_AFTER_MS);
    if (!job) return false;
    const log = this.logger.child({ corpId: job.corpId, jobid: job.jobid });
    try {
      if (job.attempts > MAX_ATTEMPTS) {
        await this.finish(job, outcomeOf(new BatchJobGaveUpException(MAX_ATTEMPTS)));
        return true;
      }
      await this.process(job);
    } catch (error) {
      if (error instanceof DomainException) {
        // The job cannot run as submitted (its file, its media, the protection): it fails.
        await this.finish(job, outcomeOf(error));
      } else {
        log.error({ err: error }, 'batch job: a step failed; the job is queued again');
        await this.jobs.release(this.dataSource.manager, job, { failedAttempt: true });
        await this.poll.pause(); // back off before it is claimed again
      }
    }
    return true;
  }

  private async process(job: ClaimedBatchJob): Promise<void> {
    const file = await this.media.read(job.corpId, job.mediaId, job.mediaSha256);
    const { records } = await readSheetRecords(file, this.config.IMPORT_MAX_ROWS);
    await this.jobs.heartbeat(this.dataSource.manager, job);
    if (job.type === 'replace_party') {
      const sheet = batchSheet(records, PARTY_COLUMNS);
      const rows = preparePartyRows(sheet);
      if (job.processed === 0) {
        await this.jobs.start(this.dataSource.manager, job, rows.length, {
          ignoredColumns: sheet.ignored,
        });
        if (!(await this.replaceDepartments.execute(job, rows))) return;
      }
      await this.finish(job, ROW_OK, rows.length);
      return;
    }

    const mode = job.type === 'replace_user' ? 'replace' : 'sync';
    const sheet = batchSheet(records, USER_COLUMNS);
    const rows = prepareUserRows(sheet, mode, this.config.DEPARTMENT_MAX_DEPTH);
    const listed = fileUserids(sheet);
    if (job.processed === 0) {
      await this.jobs.start(this.dataSource.manager, job, rows.length, {
        ignoredColumns: sheet.ignored,
      });
      if (mode === 'replace') {
        // WeCom's protection, before the first row changes anything.
        const access = await this.accessService.resolve(batchPrincipal(job));
        this.removeUnlisted.assertWithinProtection(
          await this.removeUnlisted.plan(this.dataSource.manager, access, listed),
        );
      }
    }
    let written = 0;
    for (let from = job.processed; from < rows.length; from += BATCH_CHUNK_ROWS) {
      if (this.poll.stopped) {
        await this.jobs.release(this.dataSource.manager, job, { failedAttempt: false });
        return;
      }
      const counts = await this.applyUsers.execute(
        job,
        rows.slice(from, from + BATCH_CHUNK_ROWS),
        from,
      );
      if (!counts) return; // another worker holds the job now
      written += counts.created + counts.updated;
    }
    if (written >= ANALYZE_AFTER_ROWS) await this.bulk.refreshStatistics(this.dataSource.manager);
    if (mode === 'sync') {
      await this.finish(job, ROW_OK, rows.length);
      return;
    }
    const lastRow = rows.reduce((max, r) => Math.max(max, r.row), 0);
    await this.transactions.run(async (em) => {
      await lockCorpForWrite(em, job.corpId);
      if (!(await this.jobs.hold(em, job, rows.length))) return;
      const access = await this.accessService.resolve(batchPrincipal(job), em);
      const plan = await this.removeUnlisted.plan(em, access, listed);
      this.removeUnlisted.assertWithinProtection(plan);
      const entries = await this.removeUnlisted.execute(em, job, plan, lastRow + 1);
      await this.jobs.insertResults(em, job.corpId, job.jobid, entries);
      await this.jobs.recordProgress(em, job, rows.length, {
        deleted: plan.deleting.length,
        kept: plan.kept.length,
      });
      await this.finishIn(em, job, ROW_OK);
    });
    this.callbacks.notify();
  }

  private async finish(
    job: ClaimedBatchJob,
    outcome: RowOutcome,
    processed?: number,
  ): Promise<void> {
    await this.transactions.run(async (em) => {
      if (processed !== undefined && !(await this.jobs.hold(em, job, processed))) return;
      await this.finishIn(em, job, outcome);
    });
    this.callbacks.notify();
  }

  private async finishIn(
    em: EntityManager,
    job: ClaimedBatchJob,
    outcome: RowOutcome,
  ): Promise<void> {
    const finished = await this.jobs.finish(em, job, outcome);
    if (!finished) return;
    await recordAudits(
      em,
      job.corpId,
      [
        {
          action: 'wecom_batch.finished',
          targetType: 'wecom_batch_job',
          targetId: job.jobid,
          after: batchJobSummary(finished),
        },
      ],
      batchActor(job),
    );
  }
}
