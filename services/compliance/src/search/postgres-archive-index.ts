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
import { pgIntArray, pgTextArray } from '../archive/pg-array';

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

/** Most distinct terms a relevance query is ranked by tiers for (each is tested per record). */
const MAX_TIERED_TERMS = 8;

/** Keywords whose terms can all be present without the keyword itself (CJK of 3+ characters). */
const needsRecheck = (keyword: string) => hasCjk(keyword) && [...keyword.trim()].length > 2;

/**
 * The embedded ArchiveIndex: a `tsvector` of CJK bigrams, Latin words and digit runs per record
 * (see tokenizer.ts) in `archive_search` with a GIN index, filtered and sorted in SQL. Terms
 * carry no positions, so phrases and long CJK keywords are confirmed against the stored text.
 */
@Injectable()
export class PostgresArchiveIndex implements ArchiveIndex {
  constructor(private readonly dataSource: DataSource) {}

  async index(em: EntityManager, records: IndexedRecord[]): Promise<void> {
    if (!records.length) return;
    // Column arrays, one multi-row INSERT: no JSON to build here or to parse in PostgreSQL.
    // Terms hold letters and digits only (see termsOf), so a space separates them.
    await em.query(
      `INSERT INTO archive_search (corp_id, chain_seq, kind, type, conversation_id, conversation_kind,
         sender, participants, sender_departments, has_attachment, sent_at, terms)
       SELECT corp_id, chain_seq, kind, type, conversation_id, conversation_kind, sender,
              participants::text[], sender_departments::int[], has_attachment, sent_at,
              array_to_tsvector(string_to_array(terms, ' '))
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::uuid[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::boolean[], $11::timestamptz[],
                     $12::text[])
           AS x(corp_id, chain_seq, kind, type, conversation_id, conversation_kind, sender,
                participants, sender_departments, has_attachment, sent_at, terms)`,
      [
        records.map((r) => r.corpId),
        records.map((r) => r.chainSeq),
        records.map((r) => r.kind),
        records.map((r) => r.type),
        records.map((r) => r.conversationId),
        records.map((r) => r.conversationKind),
        records.map((r) => r.sender),
        records.map((r) => pgTextArray(r.participants)),
        records.map((r) => pgIntArray(r.senderDepartments)),
        records.map((r) => r.media.length > 0),
        records.map((r) => r.sentAt.toISOString()),
        records.map((r) => termsOf(r.text).join(' ')),
      ],
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
      `position(lower(${p(keyword.trim())}) in lower(r.text)) > 0`;
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
      // With `any` keywords scores differ, but only by how many of the query's distinct terms a
      // record holds (no positions: ts_rank adds the same for every term present), so matches
      // fall into a few tiers of equal score. Each tier is walked newest first as above, best
      // tier first, until the page is full: the same records, order and scores as ranking every
      // match, without ranking every match (two frequent words at 1 M records: see README).
      const tiered = await this.searchByTiers(
        query,
        positive.join(' & '),
        params,
        where,
        from,
        cursor,
      );
      if (tiered) return tiered;
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

  /**
   * Relevance by score tiers (see `search`); null when the query does not allow it: a prefix
   * term (one CJK character: how many bigrams it matches is open), more than
   * MAX_TIERED_TERMS distinct terms, or a cursor from another ranking.
   */
  private async searchByTiers(
    query: ArchiveQuery,
    tsquery: string,
    params: unknown[],
    where: string[],
    from: string,
    cursor: RankCursor | undefined,
  ): Promise<ArchiveHitPage | null> {
    const { all, any, phrases } = query.keywords;
    const lexemes = (q: string | null) => [...(q ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
    const mandatoryQueries = [...all, ...phrases].map(keywordQuery);
    const anyQueries = any.map(keywordQuery);
    const text = [...mandatoryQueries, ...anyQueries].join(' ');
    if (text.includes(':*') || anyQueries.some((q) => q === null)) return null;
    const mandatory = new Set(mandatoryQueries.flatMap(lexemes));
    const terms = [...new Set([...mandatory, ...anyQueries.flatMap(lexemes)])];
    if (!terms.length || terms.length > MAX_TIERED_TERMS) return null;
    // A match holds every mandatory term and every term of at least one `any` keyword.
    const fewest = Math.min(...anyQueries.map((q) => new Set([...mandatory, ...lexemes(q)]).size));
    // The score of a record holding m of the terms: ts_rank of a record holding just those.
    const scored = await this.dataSource.query<{ m: number; score: string }[]>(
      `SELECT m, round(ts_rank(array_to_tsvector(($2::text[])[1:m]), $1::tsquery)::numeric, 6) AS score
         FROM generate_series($3::int, $4::int) AS m`,
      [tsquery, terms, fewest, terms.length],
    );
    const tiers: { score: string; counts: number[] }[] = [];
    for (const { m, score } of scored.sort(
      (a, b) => Number(b.score) - Number(a.score) || b.m - a.m,
    )) {
      const same = tiers.find((t) => Number(t.score) === Number(score));
      if (same) same.counts.push(m);
      else tiers.push({ score, counts: [m] });
    }
    let first = 0;
    if (cursor) {
      first = tiers.findIndex((t) => Number(t.score) === Number(cursor.r));
      if (first < 0) return null;
    }
    const limit = query.limit;
    const rows: { chain_seq: string; score: string }[] = [];
    for (let i = first; i < tiers.length && rows.length <= limit; i++) {
      const tierParams = [...params];
      const q = (value: unknown) => {
        tierParams.push(value);
        return `$${tierParams.length}`;
      };
      const tier = tiers[i];
      const conditions = [...where];
      if (tier.counts.length === 1 && tier.counts[0] === terms.length)
        // Every term: a plain tsquery the GIN index answers.
        conditions.push(`s.terms @@ ${q(terms.map((t) => `'${t}'`).join(' & '))}::tsquery`);
      else
        conditions.push(
          `(${terms.map((t) => `(s.terms @@ ${q(`'${t}'`)}::tsquery)::int`).join(' + ')}) = ANY(${q(tier.counts)}::int[])`,
        );
      if (i === first && cursor) conditions.push(`s.chain_seq < ${q(cursor.s)}`);
      const found = await this.dataSource.query<{ chain_seq: string }[]>(
        `SELECT s.chain_seq FROM ${from} WHERE ${conditions.join(' AND ')}
          ORDER BY s.chain_seq DESC LIMIT ${limit + 1 - rows.length}`,
        tierParams,
      );
      for (const row of found) rows.push({ chain_seq: row.chain_seq, score: tier.score });
    }
    return this.rankedPage(rows, limit);
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
