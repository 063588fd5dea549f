import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor } from '@qiwei/platform';
import type { CorpId } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { canonicalJson, linkHash, type Canonical } from '../chain/hash-chain';
import { lockChainTip, moveChainTip } from '../chain/chain-tips';

export type AccessAction =
  | 'archive.search'
  | 'archive.conversation_viewed'
  | 'archive.verified'
  | 'alert_rule.created'
  | 'alert_rule.updated'
  | 'alert.assigned'
  | 'alert.closed'
  | 'consent.changed'
  | 'retention.policy_set'
  | 'retention.policy_removed'
  | 'retention.purged'
  | 'matter.created'
  | 'matter.released'
  | 'archive.media_listed'
  | 'archive.index_retried'
  | 'archive.export_requested'
  | 'archive.exported'
  | 'archive.export_downloaded';

export interface AccessEntry {
  corpId: CorpId;
  chainSeq: number;
  actor: string;
  action: AccessAction;
  query: { [key: string]: Canonical };
  resultCount: number;
  at: Date;
  prevHash: Buffer;
  hash: Buffer;
}

export interface AccessEntryRow {
  corp_id: string;
  chain_seq: string;
  actor: string;
  action: AccessAction;
  query: { [key: string]: Canonical };
  result_count: number;
  at: Date;
  prev_hash: Buffer;
  hash: Buffer;
}

export const accessEntryOf = (r: AccessEntryRow): AccessEntry => ({
  corpId: r.corp_id as CorpId,
  chainSeq: Number(r.chain_seq),
  actor: r.actor,
  action: r.action,
  query: r.query,
  resultCount: r.result_count,
  at: r.at,
  prevHash: r.prev_hash,
  hash: r.hash,
});

export const canonicalAccessEntry = (e: Omit<AccessEntry, 'hash'>): string =>
  canonicalJson({
    v: 1,
    corpId: e.corpId,
    chainSeq: e.chainSeq,
    actor: e.actor,
    action: e.action,
    query: e.query,
    resultCount: e.resultCount,
    at: e.at.toISOString(),
    prevHash: e.prevHash.toString('hex'),
  });

type Cursor = { s: number };
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as Cursor).s);

/**
 * Who looked at the archive and how: every search, conversation view, verification and alert
 * decision, appended to a per-corp hash chain of its own (append-only in PostgreSQL), in the
 * transaction of the action it records.
 */
@Injectable()
export class AccessLog {
  constructor(private readonly dataSource: DataSource) {}

  async append(
    em: EntityManager,
    entry: Pick<AccessEntry, 'corpId' | 'actor' | 'action' | 'query' | 'resultCount'>,
  ): Promise<void> {
    const tip = await lockChainTip(em, entry.corpId, 'access');
    const linked = {
      ...entry,
      chainSeq: tip.chainSeq + 1,
      at: new Date(),
      prevHash: tip.hash,
    };
    const hash = linkHash(tip.hash, canonicalAccessEntry(linked));
    await em.query(
      `INSERT INTO access_log (corp_id, chain_seq, actor, action, query, result_count, at, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        linked.corpId,
        linked.chainSeq,
        linked.actor,
        linked.action,
        JSON.stringify(linked.query),
        linked.resultCount,
        linked.at,
        linked.prevHash,
        hash,
      ],
    );
    await moveChainTip(em, entry.corpId, 'access', { chainSeq: linked.chainSeq, hash });
  }

  /** Newest first. */
  async list(
    corpId: CorpId,
    filter: { actor?: string; action?: string; limit: number; cursor?: string },
  ): Promise<{ items: AccessEntry[]; nextCursor: string | null }> {
    const cursor = decodeCursor(filter.cursor, isCursor);
    const rows = await this.dataSource.query<AccessEntryRow[]>(
      `SELECT * FROM access_log
        WHERE corp_id = $1 AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action = $3)
          AND ($4::bigint IS NULL OR chain_seq < $4)
        ORDER BY chain_seq DESC LIMIT $5`,
      [corpId, filter.actor ?? null, filter.action ?? null, cursor?.s ?? null, filter.limit + 1],
    );
    const items = rows.slice(0, filter.limit).map(accessEntryOf);
    return {
      items,
      nextCursor:
        rows.length > filter.limit ? encodeCursor({ s: items[items.length - 1].chainSeq }) : null,
    };
  }
}
