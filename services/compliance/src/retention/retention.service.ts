import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { LOGGER, NotFoundException, type Logger } from '@qiwei/platform';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { AccessLog } from '../access-log/access-log';
import { ArchiveWriter } from '../archive/archive-writer';
import { parseSigningKeys, signWith, type SigningKey } from '../chain/chain-signing-keys';
import { lockChainTip } from '../chain/chain-tips';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';
import { Coverage } from '../coverage/coverage';
import { ARCHIVE_INDEX, type ArchiveIndex } from '../search/archive-index';
import { heldBy } from '../matters/matter-filter';
import { ArchiveStorage } from '../media/archive-storage';
import { runsOf, tombstoneSignedText, type PurgedRange } from './tombstone';

/** Scopes: every record, internal ones, chats with external contacts, and by conversation kind. */
export const RETENTION_SCOPES = [
  'default',
  'internal',
  'external',
  'single',
  'group',
  'department',
  'app',
  'announcement',
] as const;
/** The scopes that name a conversation kind (records of other kinds fall back to `internal`). */
const KIND_SCOPES = RETENTION_SCOPES.filter(
  (s) => !['default', 'internal', 'external'].includes(s),
);
export type RetentionScope = (typeof RETENTION_SCOPES)[number];

export interface RetentionPolicy {
  scope: RetentionScope;
  retainDays: number;
  updatedBy: string;
  updatedAt: Date;
}

export interface PurgeResult {
  corpId: string;
  /** Records removed from the chain (tombstones left in their place). */
  purged: number;
  /** Tombstone records appended (one per batch). */
  tombstones: number;
  /** Expired records kept because an active matter holds them. */
  held: number;
  /** Archived media objects removed from the archive's bucket. */
  mediaRemoved: number;
  /** Media objects that could not be removed yet (object lock, storage down): retried. */
  mediaPending: number;
}

const BATCH = 2_000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const DAY_MS = 86_400_000;

export class RetentionPolicyNotFoundException extends NotFoundException {
  constructor(scope: string) {
    super('RETENTION_POLICY_NOT_FOUND', `There is no retention policy for ${scope}.`);
  }
}

type Days = Partial<Record<RetentionScope, number>>;

/**
 * How long each record is kept, for SQL over `archive_records r`: `$2` is the corp's policies
 * as JSON (`{"default": 3650, "external": 1825, …}`). A record of a conversation with external
 * contacts (`consent` other than `not_required`) is kept `external` days, else `default`; any
 * other record its conversation kind's days (`single`, `group`, `department`, `app`,
 * `announcement`), else `internal`, else `default`. No applicable policy: kept for good (NULL).
 */
const RETAIN_DAYS = `(CASE WHEN r.consent <> 'not_required'
    THEN coalesce(($2::jsonb ->> 'external')::int, ($2::jsonb ->> 'default')::int)
    ELSE coalesce(CASE WHEN r.conversation_kind IN (${KIND_SCOPES.map((k) => `'${k}'`).join(', ')})
                       THEN ($2::jsonb ->> r.conversation_kind)::int END,
                  ($2::jsonb ->> 'internal')::int, ($2::jsonb ->> 'default')::int) END)`;

const EXPIRED = `r.kind <> 'tombstone' AND ${RETAIN_DAYS} IS NOT NULL
  AND r.sent_at < $3::timestamptz - make_interval(days => ${RETAIN_DAYS})`;

/**
 * Retention: per-corp policies and the purge. The purge removes, batch by batch, expired records
 * that no active legal matter holds, with their index entries, their alerts and (after the
 * batch commits) their copies in the archive's bucket; each batch appends a tombstone to the
 * chain naming the runs of positions it removed and the hashes on either side, signed with the
 * chain-head key, so verification still walks the whole chain. The append-only trigger lets the
 * purge's DELETE through only in its own transaction, for its corp, before its cutoff.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly key: SigningKey;
  private timer?: NodeJS.Timeout;
  private running?: Promise<PurgeResult[]>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly writer: ArchiveWriter,
    private readonly storage: ArchiveStorage,
    private readonly accessLog: AccessLog,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ARCHIVE_INDEX) private readonly index: ArchiveIndex,
    private readonly coverage: Coverage,
  ) {
    this.key = parseSigningKeys(config.COMPLIANCE_SIGNING_KEY)[0];
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.purgeAll().catch((err: unknown) =>
        this.logger.error({ err }, 'retention purge failed; retried next interval'),
      );
    }, this.config.RETENTION_PURGE_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  async policies(corpId: CorpId): Promise<RetentionPolicy[]> {
    const rows = await this.dataSource.query<
      { scope: RetentionScope; retain_days: number; updated_by: string; updated_at: Date }[]
    >(
      `SELECT scope, retain_days, updated_by, updated_at FROM retention_policies WHERE corp_id = $1
        ORDER BY array_position($2::text[], scope::text)`,
      [corpId, RETENTION_SCOPES],
    );
    return rows.map((r) => ({
      scope: r.scope,
      retainDays: r.retain_days,
      updatedBy: r.updated_by,
      updatedAt: r.updated_at,
    }));
  }

  async setPolicy(
    caller: Principal,
    scope: RetentionScope,
    retainDays: number,
  ): Promise<RetentionPolicy> {
    return this.tx.run(async (em) => {
      const [before] = await em.query<{ retain_days: number }[]>(
        'SELECT retain_days FROM retention_policies WHERE corp_id = $1 AND scope = $2 FOR UPDATE',
        [caller.corpId, scope],
      );
      const [row] = await em.query<{ updated_at: Date }[]>(
        `INSERT INTO retention_policies (corp_id, scope, retain_days, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (corp_id, scope) DO UPDATE SET retain_days = $3, updated_by = $4, updated_at = now()
         RETURNING updated_at`,
        [caller.corpId, scope, retainDays, caller.userId],
      );
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'retention.policy_set',
        query: { scope, retainDays, previous: before?.retain_days ?? null },
        resultCount: 1,
      });
      return { scope, retainDays, updatedBy: caller.userId, updatedAt: row.updated_at };
    });
  }

  async removePolicy(caller: Principal, scope: RetentionScope): Promise<void> {
    await this.tx.run(async (em) => {
      const [[removed]] = await em.query<[{ retain_days: number }[], number]>(
        'DELETE FROM retention_policies WHERE corp_id = $1 AND scope = $2 RETURNING retain_days',
        [caller.corpId, scope],
      );
      if (!removed) throw new RetentionPolicyNotFoundException(scope);
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'retention.policy_removed',
        query: { scope, previous: removed.retain_days },
        resultCount: 1,
      });
    });
  }

  /** Purges the caller's corp now (recorded in the access log). */
  async purgeNow(caller: Principal): Promise<PurgeResult> {
    const result = await this.purge(caller.corpId);
    await this.tx.run((em) =>
      this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'retention.purged',
        query: {
          purged: result.purged,
          held: result.held,
          tombstones: result.tombstones,
          mediaRemoved: result.mediaRemoved,
        },
        resultCount: result.purged,
      }),
    );
    return result;
  }

  /** Every corp with a policy (and every corp with media left to remove), one at a time. */
  purgeAll(): Promise<PurgeResult[]> {
    this.running ??= (async () => {
      const corps = await this.dataSource.query<{ corp_id: CorpId }[]>(
        `SELECT corp_id FROM retention_policies
         UNION SELECT corp_id FROM archive_media WHERE status = 'purging'`,
      );
      const results: PurgeResult[] = [];
      for (const { corp_id } of corps) results.push(await this.purge(corp_id));
      return results;
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  async purge(corpId: CorpId): Promise<PurgeResult> {
    const result: PurgeResult = {
      corpId,
      purged: 0,
      tombstones: 0,
      held: 0,
      mediaRemoved: 0,
      mediaPending: 0,
    };
    const days: Days = Object.fromEntries(
      (await this.policies(corpId)).map((p) => [p.scope, p.retainDays]),
    );
    if (Object.keys(days).length) {
      const now = new Date();
      for (;;) {
        const purged = await this.dataSource.transaction((em) =>
          this.purgeBatch(em, corpId, days, now),
        );
        result.purged += purged;
        if (!purged) break;
        result.tombstones += 1;
      }
      const [held] = await this.dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM archive_records r
          WHERE r.corp_id = $1 AND ${EXPIRED} AND ${heldBy('r')}`,
        [corpId, JSON.stringify(days), now],
      );
      result.held = Number(held.n);
    }
    const media = await this.removePurgedMedia(corpId);
    result.mediaRemoved = media.removed;
    result.mediaPending = media.pending;
    if (result.purged)
      this.logger.info(
        { corpId, purged: result.purged, held: result.held },
        'retention purge removed expired records',
      );
    return result;
  }

  private async purgeBatch(
    em: EntityManager,
    corpId: CorpId,
    days: Days,
    now: Date,
  ): Promise<number> {
    // The tip first: appenders wait, and the tombstone goes right after what was there.
    await lockChainTip(em, corpId, 'archive');
    const rows = await em.query<{ chain_seq: string; prev_hash: Buffer; hash: Buffer }[]>(
      `SELECT r.chain_seq, r.prev_hash, r.hash FROM archive_records r
        WHERE r.corp_id = $1 AND ${EXPIRED} AND NOT ${heldBy('r')}
        ORDER BY r.chain_seq LIMIT ${BATCH}`,
      [corpId, JSON.stringify(days), now],
    );
    if (!rows.length) return 0;
    const records = rows.map((r) => ({
      chainSeq: Number(r.chain_seq),
      prevHash: r.prev_hash,
      hash: r.hash,
    }));
    const seqs = records.map((r) => r.chainSeq);
    const shortest = Math.min(...Object.values(days));
    // What the append-only trigger lets through in this transaction, and nothing else.
    await em.query(
      `SELECT set_config('qiwei.purge_corp', $1, true), set_config('qiwei.purge_before', $2, true)`,
      [corpId, new Date(now.getTime() - shortest * DAY_MS).toISOString()],
    );
    const deleted = await em.query<{ chain_seq: string }[]>(
      `WITH d AS (DELETE FROM archive_records WHERE corp_id = $1 AND chain_seq = ANY($2::bigint[])
                  RETURNING chain_seq) SELECT chain_seq FROM d`,
      [corpId, seqs],
    );
    if (deleted.length !== seqs.length)
      throw new Error(`retention purge of ${corpId}: ${deleted.length} of ${seqs.length} deleted`);
    await em.query(
      `SELECT set_config('qiwei.purge_corp', '', true), set_config('qiwei.purge_before', '', true)`,
    );
    // Out of the index too (Elasticsearch: queued deletes), and out of coverage.
    await this.index.forget(em, corpId, seqs);
    await this.coverage.forget(em, corpId, seqs);
    await em.query('DELETE FROM alerts WHERE corp_id = $1 AND archive_seq = ANY($2::bigint[])', [
      corpId,
      seqs,
    ]);
    await em.query(
      `UPDATE archive_media SET status = 'purging', updated_at = now()
        WHERE corp_id = $1 AND record_seq = ANY($2::bigint[]) AND status <> 'purged'`,
      [corpId, seqs],
    );
    const ranges: PurgedRange[] = runsOf(records).map((run) => ({
      from: run[0].chainSeq,
      to: run[run.length - 1].chainSeq,
      prevHash: run[0].prevHash.toString('hex'),
      lastHash: run[run.length - 1].hash.toString('hex'),
    }));
    await this.writer.appendNow(em, corpId, [
      {
        corpId,
        kind: 'tombstone',
        eventId: `purge:${randomUUID()}`,
        messageId: null,
        preMessageId: null,
        conversationId: NIL_UUID,
        conversationKind: '',
        sender: 'system',
        type: 'retention.purge',
        text: '',
        mentions: [],
        quoteSeq: 0,
        seq: 0,
        participants: [],
        details: {
          records: seqs.length,
          ranges,
          policies: days,
          keyId: this.key.id,
          signature: signWith(this.key, tombstoneSignedText(corpId, ranges)).toString('base64'),
        },
        media: [],
        consent: 'not_required',
        sentAt: now,
      },
    ]);
    return seqs.length;
  }

  /** Removes the copies of purged records' media from the archive's bucket. */
  private async removePurgedMedia(corpId: CorpId): Promise<{ removed: number; pending: number }> {
    const jobs = await this.dataSource.query<
      { record_seq: string; media_id: string; archive_bucket: string; archive_key: string }[]
    >(
      `SELECT record_seq, media_id, archive_bucket, archive_key FROM archive_media
        WHERE corp_id = $1 AND status = 'purging' ORDER BY record_seq`,
      [corpId],
    );
    let removed = 0;
    for (const job of jobs) {
      try {
        await this.storage.objects.remove(job.archive_bucket, job.archive_key);
        await this.dataSource.query(
          `UPDATE archive_media SET status = 'purged', last_error = NULL, updated_at = now()
            WHERE corp_id = $1 AND record_seq = $2 AND media_id = $3`,
          [corpId, job.record_seq, job.media_id],
        );
        removed += 1;
      } catch (error) {
        await this.dataSource.query(
          `UPDATE archive_media SET last_error = $4, updated_at = now()
            WHERE corp_id = $1 AND record_seq = $2 AND media_id = $3`,
          [corpId, job.record_seq, job.media_id, `purge: ${(error as Error).message}`],
        );
        this.logger.warn(
          { err: error, corpId, mediaId: job.media_id },
          'an archived medium could not be removed yet; retried at the next purge',
        );
      }
    }
    return { removed, pending: jobs.length - removed };
  }
}
