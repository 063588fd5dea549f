import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { TransactionRunner } from '@qiwei/persistence';
import { DataSource } from 'typeorm';
import { AccessLog } from '../access-log/access-log';
import type { Canonical } from '../chain/hash-chain';
import { parseSigningKeys, type SigningKey } from '../chain/chain-signing-keys';
import { verifyChain, type ChainReport } from '../chain/chain-verifier';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';
import { Coverage } from '../coverage/coverage';
import {
  ARCHIVE_INDEX,
  type ArchiveFilter,
  type ArchiveIndex,
  type ArchiveQuery,
} from '../search/archive-index';
import { highlight } from '../search/highlighter';
import { ArchiveStorage } from '../media/archive-storage';
import { recordOf, type ArchivedRecord, type ArchiveRecordRow } from './archive-record';
import { searchableText } from './searchable-text';
import {
  ArchivedConversationNotFoundException,
  RelevanceNeedsKeywordsException,
  TimeRangeInvalidException,
} from './archive.exceptions';

export interface FoundRecord {
  record: ArchivedRecord;
  score: number | null;
  highlight: string | null;
}

export interface ConversationContext {
  conversation: { id: string; kind: string; name: string; participants: string[] };
  records: ArchivedRecord[];
}

/**
 * What compliance officers do with the archive: search it, read a conversation around a
 * moment, verify the chains. Every one of these is appended to the access log in the same
 * transaction that answers it: nothing is shown that was not recorded.
 */
@Injectable()
export class ArchiveService {
  private readonly keys: SigningKey[];

  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    @Inject(ARCHIVE_INDEX) private readonly index: ArchiveIndex,
    private readonly accessLog: AccessLog,
    private readonly coverage: Coverage,
    @Inject(COMPLIANCE_CONFIG) config: ComplianceConfig,
    private readonly storage: ArchiveStorage,
  ) {
    this.keys = parseSigningKeys(config.COMPLIANCE_SIGNING_KEY);
  }

  async search(
    caller: Principal,
    query: Omit<ArchiveQuery, 'corpId' | 'coverage'>,
    asked: { [key: string]: Canonical },
  ): Promise<{ items: FoundRecord[]; nextCursor: string | null }> {
    const { all, any, phrases } = query.keywords;
    if (query.sort === 'relevance' && !all.length && !any.length && !phrases.length)
      throw new RelevanceNeedsKeywordsException();
    checkFilter(query);
    const coverage = await this.coverage.of(caller.corpId, caller.userId);
    const page = await this.index.search({ ...query, corpId: caller.corpId, coverage });
    const seqs = page.hits.map((h) => h.chainSeq);
    return this.tx.run(async (em) => {
      const rows = await em.query<ArchiveRecordRow[]>(
        'SELECT * FROM archive_records WHERE corp_id = $1 AND chain_seq = ANY($2::bigint[])',
        [caller.corpId, seqs],
      );
      const bySeq = new Map(rows.map((r) => [Number(r.chain_seq), recordOf(r)]));
      const words = [...all, ...any, ...phrases];
      const items = page.hits.flatMap((hit) => {
        const record = bySeq.get(hit.chainSeq);
        return record
          ? [
              {
                record,
                score: hit.score,
                highlight: hit.highlight ?? highlight(searchableText(record), words),
              },
            ]
          : [];
      });
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'archive.search',
        query: { ...asked, coverage },
        resultCount: items.length,
      });
      return { items, nextCursor: page.nextCursor };
    });
  }

  /** The conversation's records in order, half before `around` and half from it on. */
  async conversation(
    caller: Principal,
    conversationId: string,
    around: Date | undefined,
    limit: number,
  ): Promise<ConversationContext> {
    const coverage = await this.coverage.of(caller.corpId, caller.userId);
    const covered = Coverage.condition(coverage, '$5');
    return this.tx.run(async (em) => {
      const at = around ?? new Date('9999-12-31T00:00:00Z');
      const after = around ? Math.ceil(limit / 2) : 0;
      const before = limit - after;
      const older = await em.query<ArchiveRecordRow[]>(
        `SELECT * FROM archive_records r
          WHERE corp_id = $1 AND conversation_id = $2 AND sent_at < $3 AND ${covered}
          ORDER BY sent_at DESC, chain_seq DESC LIMIT $4`,
        [caller.corpId, conversationId, at, before, coverage],
      );
      const newer = after
        ? await em.query<ArchiveRecordRow[]>(
            `SELECT * FROM archive_records r
              WHERE corp_id = $1 AND conversation_id = $2 AND sent_at >= $3 AND ${covered}
              ORDER BY sent_at, chain_seq LIMIT $4`,
            [caller.corpId, conversationId, at, after, coverage],
          )
        : [];
      const [known] = await em.query<{ kind: string; name: string; participants: string[] }[]>(
        'SELECT kind, name, participants FROM archived_conversations WHERE corp_id = $1 AND id = $2',
        [caller.corpId, conversationId],
      );
      const records = [...older.reverse(), ...newer].map(recordOf);
      // A scoped officer learns nothing of a conversation none of their people wrote in.
      if ((!known || coverage) && !records.length) {
        const [any] = await em.query<unknown[]>(
          `SELECT 1 FROM archive_records r WHERE corp_id = $1 AND conversation_id = $2 AND ${Coverage.condition(coverage, '$3')} LIMIT 1`,
          [caller.corpId, conversationId, coverage],
        );
        if (!any) throw new ArchivedConversationNotFoundException(conversationId);
      }
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'archive.conversation_viewed',
        query: { conversationId, around: around?.toISOString() ?? null, limit, coverage },
        resultCount: records.length,
      });
      const last = records[records.length - 1];
      return {
        conversation: {
          id: conversationId,
          kind: known?.kind ?? last?.conversationKind ?? '',
          name: known?.name ?? '',
          participants: known?.participants ?? last?.participants ?? [],
        },
        records,
      };
    });
  }

  async verify(
    caller: Principal,
  ): Promise<{ ok: boolean; archive: ChainReport; accessLog: ChainReport }> {
    const store = { objects: this.storage.objects, bucket: this.storage.bucket };
    const archive = await verifyChain(this.dataSource, this.keys, caller.corpId, 'archive', store);
    const accessLog = await verifyChain(this.dataSource, this.keys, caller.corpId, 'access', store);
    await this.tx.run((em) =>
      this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'archive.verified',
        query: {
          ok: archive.ok && accessLog.ok,
          firstBroken: archive.firstBroken?.chainSeq ?? null,
        },
        resultCount: archive.records,
      }),
    );
    return { ok: archive.ok && accessLog.ok, archive, accessLog };
  }
}

/** Refuses a filter that can never match (searches and exports alike). */
export function checkFilter(filter: ArchiveFilter): void {
  if (filter.from && filter.to && filter.from >= filter.to) throw new TimeRangeInvalidException();
}
