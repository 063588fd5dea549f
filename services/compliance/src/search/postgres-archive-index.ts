import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';
import type { CorpId } from '@qiwei/persistence';
import type {
  ArchiveHitPage,
  ArchiveIndex,
  ArchiveQuery,
  IndexBacklog,
  IndexedRecord,
} from './archive-index';
import { hasCjk, keywordQuery, termsOf } from '@qiwei/text-search';
import { searchableText, SEARCHABLE_TEXT_SQL } from '../archive/searchable-text';

type TimeCursor = { t: string; s: number };
type RankCursor = { r: string; s: number };
const isTimeCursor = (v: unknown): v is TimeCursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as TimeCursor).t === 'string' &&
  !Number.isNaN(Date.parse((v as TimeCursor).t)) &&
  Number.isSafeInteger((v as TimeCursor).s);
const isRankCursor = (v: unknown): v is RankCursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as RankCursor).r === 'string' &&
  /^\d{1,6}(\.\d{1,6})?$/.test((v as RankCursor).r) &&
  Number.isSafeInteger((v as RankCursor).s);

/** Keywords whose terms can all be present without the keyword itself (CJK of 3+ characters). */
const needsRecheck = (keyword: string) => hasCjk(keyword) && [...keyword.trim()].length > 2;

/**
 * The embedded ArchiveIndex: a `tsvector` of CJK bigrams, Latin words and digit runs of each
 * record's searchable text (see tokenizer.ts, searchable-text.ts) in `archive_search` with a GIN
 * index, filtered and sorted in SQL. Terms carry no positions, so phrases and long CJK keywords
 * are confirmed against the searchable text of the stored record.
 */
@Injectable()
export class PostgresArchiveIndex implements ArchiveIndex {
  constructor(private readonly dataSource: DataSource) {}

  async index(em: EntityManager, records: IndexedRecord[]): Promise<void> {
    if (!records.length) return;
    const rows = records.map((r) => ({
      corp_id: r.corpId,
      chain_seq: r.chainSeq,
      kind: r.kind,
      type: r.type,
      conversation_id: r.conversationId,
      conversation_kind: r.conversationKind,
      sender: r.sender,
      participants: r.participants,
      sender_departments: r.senderDepartments,
      has_attachment: r.media.length > 0,
      sent_at: r.sentAt.toISOString(),
      terms: termsOf(searchableText(r)),
    }));
    await em.query(
      `INSERT INTO archive_search (corp_id, chain_seq, kind, type, conversation_id, conversation_kind,
         sender, participants, sender_departments, has_attachment, sent_at, terms)
       SELECT corp_id, chain_seq, kind, type, conversation_id, conversation_kind, sender,
              participants, sender_departments, has_attachment, sent_at, array_to_tsvector(terms)
         FROM jsonb_to_recordset($1::jsonb) AS x(corp_id text, chain_seq bigint, kind text, type text,
           conversation_id uuid, conversation_kind text, sender text, participants text[],
           sender_departments int[], has_attachment boolean, sent_at timestamptz, terms text[])`,
      [JSON.stringify(rows)],
    );
  }

  async forget(em: EntityManager, corpId: CorpId, chainSeqs: number[]): Promise<void> {
    if (!chainSeqs.length) return;
    await em.query(
      'DELETE FROM archive_search WHERE corp_id = $1 AND chain_seq = ANY($2::bigint[])',
      [corpId, chainSeqs],
    );
  }

  async search(query: ArchiveQuery): Promise<ArchiveHitPage> {
    const params: unknown[] = [query.corpId];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = ['s.corp_id = $1'];
    const positive: string[] = [];
    const rechecks: string[] = [];
    const contains = (keyword: string) =>
      `position(lower(${p(keyword.trim())}) in lower(${SEARCHABLE_TEXT_SQL})) > 0`;
    const { all, any, phrases, exclude } = query.keywords;
    for (const keyword of [...all, ...phrases]) {
      const q = keywordQuery(keyword);
      if (q) positive.push(q);
      if (phrases.includes(keyword) || needsRecheck(keyword) || !q)
        rechecks.push(contains(keyword));
    }
    if (any.length) {
      const queries = any.map(keywordQuery);
      if (queries.every((q) => q !== null)) positive.push(`(${queries.join(' | ')})`);
      if (any.some(needsRecheck) || queries.some((q) => q === null)) {
        rechecks.push(
          `(${any
            .map((k, i) =>
              needsRecheck(k) || !queries[i] ? contains(k) : `s.terms @@ ${p(queries[i])}::tsquery`,
            )
            .join(' OR ')})`,
        );
      }
    }
    for (const keyword of exclude) {
      const q = keywordQuery(keyword);
      if (q && !hasCjk(keyword)) where.push(`NOT (s.terms @@ ${p(q)}::tsquery)`);
      else rechecks.push(`NOT (${contains(keyword)})`);
    }
    const tsquery = positive.length ? p(positive.join(' & ')) : null;
    if (tsquery) where.push(`s.terms @@ ${tsquery}::tsquery`);
    if (query.senders.length) where.push(`s.sender = ANY(${p(query.senders)}::text[])`);
    if (query.participant) where.push(`s.participants @> ARRAY[${p(query.participant)}]::text[]`);
    if (query.conversationId) where.push(`s.conversation_id = ${p(query.conversationId)}::uuid`);
    if (query.senderDepartments?.length)
      where.push(`s.sender_departments && ${p(query.senderDepartments)}::int[]`);
    if (query.coverage) where.push(`s.sender_departments && ${p(query.coverage)}::int[]`);
    if (query.hasAttachment !== undefined)
      where.push(`s.has_attachment = ${p(query.hasAttachment)}`);
    if (query.kinds.length) where.push(`s.kind = ANY(${p(query.kinds)}::text[])`);
    if (query.types.length) where.push(`s.type = ANY(${p(query.types)}::text[])`);
    if (query.from) where.push(`s.sent_at >= ${p(query.from)}`);
    if (query.to) where.push(`s.sent_at < ${p(query.to)}`);
    where.push(...rechecks);
    const from = rechecks.length
      ? 'archive_search s JOIN archive_records r ON r.corp_id = s.corp_id AND r.chain_seq = s.chain_seq'
      : 'archive_search s';
    const limit = query.limit;

    if (query.sort === 'relevance' && tsquery) {
      const cursor = decodeCursor(query.cursor, isRankCursor);
      // Terms carry no positions, so a query of terms that must all be present (no `any`, no
      // one-character prefix) ranks every match the same: the order is then chain position,
      // which an index walks and stops after a page, instead of ranking every match (EXPLAIN
      // on 300k rows: the most frequent word 899 ms → 0.04 ms). Scores are computed for the
      // page alone and are the same numbers.
      const sameRankForAll = !any.length && !positive.join(' ').includes(':*');
      if (sameRankForAll) {
        if (cursor) where.push(`s.chain_seq < ${p(cursor.s)}`);
        const rows = await this.dataSource.query<{ chain_seq: string; score: string }[]>(
          `SELECT page.chain_seq, round(ts_rank(x.terms, ${tsquery}::tsquery)::numeric, 6) AS score
             FROM (SELECT s.chain_seq FROM ${from} WHERE ${where.join(' AND ')}
                    ORDER BY s.chain_seq DESC LIMIT ${limit + 1}) page
             JOIN archive_search x ON x.corp_id = $1 AND x.chain_seq = page.chain_seq
            ORDER BY page.chain_seq DESC`,
          params,
        );
        return this.rankedPage(rows, limit);
      }
      const after = cursor
        ? `WHERE (score, chain_seq) < (${p(cursor.r)}::numeric, ${p(cursor.s)})`
        : '';
      const rows = await this.dataSource.query<{ chain_seq: string; score: string }[]>(
        `SELECT chain_seq, score FROM (
           SELECT s.chain_seq, round(ts_rank(s.terms, ${tsquery}::tsquery)::numeric, 6) AS score
             FROM ${from} WHERE ${where.join(' AND ')}
         ) ranked ${after}
         ORDER BY score DESC, chain_seq DESC LIMIT ${limit + 1}`,
        params,
      );
      return this.rankedPage(rows, limit);
    }
    const cursor = decodeCursor(query.cursor, isTimeCursor);
    if (cursor)
      where.push(`(s.sent_at, s.chain_seq) < (${p(cursor.t)}::timestamptz, ${p(cursor.s)})`);
    const rows = await this.dataSource.query<{ chain_seq: string; sent_at: Date }[]>(
      `SELECT s.chain_seq, s.sent_at FROM ${from} WHERE ${where.join(' AND ')}
        ORDER BY s.sent_at DESC, s.chain_seq DESC LIMIT ${limit + 1}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      hits: page.map((r) => ({ chainSeq: Number(r.chain_seq), score: null })),
      nextCursor:
        rows.length > limit
          ? encodeCursor({ t: last.sent_at.toISOString(), s: Number(last.chain_seq) })
          : null,
    };
  }

  private rankedPage(rows: { chain_seq: string; score: string }[], limit: number): ArchiveHitPage {
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      hits: page.map((r) => ({ chainSeq: Number(r.chain_seq), score: Number(r.score) })),
      nextCursor:
        rows.length > limit ? encodeCursor({ r: last.score, s: Number(last.chain_seq) }) : null,
    };
  }

  /** Indexed in the archive's transaction: never behind. */
  backlog(_corpId: CorpId): Promise<IndexBacklog> {
    return Promise.resolve({ pending: 0, failed: 0, oldestPendingAt: null, failures: [] });
  }

  retryFailed(_corpId: CorpId): Promise<number> {
    return Promise.resolve(0);
  }
}
