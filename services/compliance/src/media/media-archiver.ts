import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LOGGER, type Logger } from '@qiwei/platform';
import type { CorpId } from '@qiwei/persistence';
import { DataSource } from 'typeorm';
import { recordOf, type ArchiveRecordRow } from '../archive/archive-record';
import { ArchiveWriter } from '../archive/archive-writer';
import { lockChainTip } from '../chain/chain-tips';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';
import { ArchiveStorage } from './archive-storage';

export type MediaStatus = 'pending' | 'archived' | 'fault' | 'purging' | 'purged';
export type MediaFault = 'source_missing' | 'size_mismatch' | 'checksum_mismatch';

export interface MediaJobRow {
  corp_id: string;
  record_seq: string;
  media_id: string;
  message_id: string;
  source_bucket: string;
  source_key: string;
  expected_size: string;
  expected_sha256: string;
  archive_bucket: string;
  archive_key: string;
  status: MediaStatus;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  copied_size: string | null;
  copied_sha256: string | null;
  result_seq: string | null;
  created_at: Date;
  updated_at: Date;
}

type Outcome =
  | { ok: true; size: number; sha256: string }
  | { ok: false; fault: MediaFault; size: number | null; sha256: string | null };

const CLAIM_BATCH = 8;
const LEASE_SECONDS = 15 * 60;
const MAX_BACKOFF_MS = 3_600_000;

/**
 * Copies every medium of an archived message from messaging's bucket into the archive's own
 * (server-side), hashes the copy and compares it with the size and SHA-256 the event carried.
 * Its outcome is appended to the corp's chain as its own record pointing at the message
 * (`media.archived`, `verified: true`; or `media.fault`: `source_missing`, `size_mismatch`,
 * `checksum_mismatch`). A fault is retried `MEDIA_COPY_MAX_ATTEMPTS` times with backoff first (a
 * replica lagging, a copy torn); an unreachable object store is retried until it answers, and
 * stays visible as `last_error` on the pending copy. Jobs are leased (`FOR UPDATE SKIP LOCKED`),
 * so replicas share them and a crashed copier's jobs come back after the lease.
 */
@Injectable()
export class MediaArchiver implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: ArchiveWriter,
    private readonly storage: ArchiveStorage,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.runOnce().catch((err: unknown) =>
        this.logger.error({ err }, 'copying archive media failed; retried next interval'),
      );
    }, this.config.MEDIA_COPY_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Copies what is due (until nothing is); returns how many copies were attempted. */
  runOnce(): Promise<number> {
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return this.running;
  }

  private async drain(): Promise<number> {
    let done = 0;
    for (;;) {
      const jobs = await this.claim();
      if (!jobs.length) return done;
      await Promise.all(jobs.map((job) => this.process(job)));
      done += jobs.length;
    }
  }

  private async claim(): Promise<MediaJobRow[]> {
    return this.dataSource.query<MediaJobRow[]>(
      `WITH due AS (
         SELECT corp_id, record_seq, media_id FROM archive_media
          WHERE status = 'pending' AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE archive_media a
            SET attempts = a.attempts + 1, updated_at = now(),
                next_attempt_at = now() + make_interval(secs => $2)
           FROM due
          WHERE a.corp_id = due.corp_id AND a.record_seq = due.record_seq AND a.media_id = due.media_id
         RETURNING a.*)
       SELECT * FROM claimed`,
      [CLAIM_BATCH, LEASE_SECONDS],
    );
  }

  private async process(job: MediaJobRow): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.copy(job);
    } catch (error) {
      // The object store did not answer as it should: not a fault of the evidence. Retried.
      await this.retryLater(job, `object storage: ${(error as Error).message}`);
      this.logger.warn(
        { err: error, corpId: job.corp_id, mediaId: job.media_id },
        'archive media copy failed; retrying',
      );
      return;
    }
    if (!outcome.ok && job.attempts < this.config.MEDIA_COPY_MAX_ATTEMPTS) {
      await this.retryLater(job, outcome.fault);
      return;
    }
    await this.finish(job, outcome);
  }

  private async copy(job: MediaJobRow): Promise<Outcome> {
    const { objects } = this.storage;
    const source = await objects.stat(job.source_bucket, job.source_key);
    if (!source) return { ok: false, fault: 'source_missing', size: null, sha256: null };
    await objects.copy(job.source_bucket, job.source_key, job.archive_bucket, job.archive_key);
    const copied = await objects.stat(job.archive_bucket, job.archive_key);
    if (!copied) return { ok: false, fault: 'source_missing', size: null, sha256: null };
    const sha256 = await objects.sha256(job.archive_bucket, job.archive_key);
    if (copied.size !== Number(job.expected_size))
      return { ok: false, fault: 'size_mismatch', size: copied.size, sha256 };
    if (sha256 !== job.expected_sha256)
      return { ok: false, fault: 'checksum_mismatch', size: copied.size, sha256 };
    return { ok: true, size: copied.size, sha256 };
  }

  private async retryLater(job: MediaJobRow, error: string): Promise<void> {
    const delay = Math.min(
      this.config.MEDIA_COPY_RETRY_MS * 2 ** Math.max(0, job.attempts - 1),
      MAX_BACKOFF_MS,
    );
    await this.dataSource.query(
      `UPDATE archive_media SET last_error = $4, updated_at = now(),
              next_attempt_at = now() + make_interval(secs => $5)
        WHERE corp_id = $1 AND record_seq = $2 AND media_id = $3 AND status = 'pending'`,
      [job.corp_id, job.record_seq, job.media_id, error, delay / 1000],
    );
  }

  /** Appends the outcome to the chain, pointing at the message, and closes the job. */
  private async finish(job: MediaJobRow, outcome: Outcome): Promise<void> {
    const corpId = job.corp_id as CorpId;
    await this.dataSource.transaction(async (em) => {
      // The tip first, as every appender and the purge take it: no lock-order deadlock.
      await lockChainTip(em, corpId, 'archive');
      const [still] = await em.query<{ status: MediaStatus }[]>(
        `SELECT status FROM archive_media WHERE corp_id = $1 AND record_seq = $2 AND media_id = $3
           FOR UPDATE`,
        [job.corp_id, job.record_seq, job.media_id],
      );
      if (still?.status !== 'pending') return; // purged meanwhile
      const [row] = await em.query<ArchiveRecordRow[]>(
        'SELECT * FROM archive_records WHERE corp_id = $1 AND chain_seq = $2',
        [job.corp_id, job.record_seq],
      );
      if (!row) {
        await this.close(em, job, 'purged', outcome, null, null);
        return;
      }
      const message = recordOf(row);
      const [appended] = await this.writer.appendNow(em, corpId, [
        {
          corpId,
          kind: 'media',
          eventId: `media:${job.record_seq}:${job.media_id}`,
          messageId: message.messageId,
          preMessageId: null,
          conversationId: message.conversationId,
          conversationKind: message.conversationKind,
          sender: message.sender,
          type: outcome.ok ? 'media.archived' : 'media.fault',
          text: '',
          mentions: [],
          quoteSeq: 0,
          seq: message.seq,
          participants: message.participants,
          details: {
            mediaId: job.media_id,
            messageSeq: message.chainSeq,
            archiveBucket: job.archive_bucket,
            archiveKey: job.archive_key,
            expectedSize: Number(job.expected_size),
            expectedSha256: job.expected_sha256,
            size: outcome.size,
            sha256: outcome.sha256,
            verified: outcome.ok,
            fault: outcome.ok ? null : outcome.fault,
            attempts: job.attempts,
          },
          media: [],
          consent: message.consent,
          sentAt: message.sentAt,
        },
      ]);
      await this.close(
        em,
        job,
        outcome.ok ? 'archived' : 'fault',
        outcome,
        appended.chainSeq,
        outcome.ok ? null : outcome.fault,
      );
    });
    if (!outcome.ok)
      this.logger.error(
        {
          corpId: job.corp_id,
          mediaId: job.media_id,
          messageId: job.message_id,
          fault: outcome.fault,
          attempts: job.attempts,
        },
        'archive media fault recorded: the archive holds no verified copy of this medium',
      );
  }

  private async close(
    em: { query: DataSource['query'] },
    job: MediaJobRow,
    status: MediaStatus,
    outcome: Outcome,
    resultSeq: number | null,
    error: string | null,
  ): Promise<void> {
    await em.query(
      `UPDATE archive_media SET status = $4, copied_size = $5, copied_sha256 = $6, result_seq = $7,
              last_error = $8, updated_at = now()
        WHERE corp_id = $1 AND record_seq = $2 AND media_id = $3`,
      [
        job.corp_id,
        job.record_seq,
        job.media_id,
        status,
        outcome.size,
        outcome.sha256,
        resultSeq,
        error,
      ],
    );
  }
}
