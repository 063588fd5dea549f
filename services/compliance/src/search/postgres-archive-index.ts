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

/** See PostgresArchiveIndex.newest: ~10 ms to test at 1 M records. */
const NEWEST_WINDOW = 10_000;
/** The largest second window (newest) walks before the GIN index is asked. */
const MAX_SECOND_WINDOW = 30_000;

/** Most distinct terms a relevance query is ranked by tiers for (each is tested per record). */
const MAX_TIERED_TERMS = 8;

/**
 * One condition of what the keywords ask, and whether it reads the stored text (the record
 * `r`, joined from archive_records) rather than the search row's terms alone.
 */
interface KeywordCondition {
  sql: string;
  onText: boolean;
}

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
  /** How many of the newest filtered records are tested before the GIN index is asked. */
  newestWindow = NEWEST_WINDOW;

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
        records.map((r) => termsOf(searchableText(r)).join(' ')),
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
    const rechecks: KeywordCondition[] = [];
    const onTerms = (sql: string): KeywordCondition => ({ sql, onText: false });
    // The one condition that reads the stored text (`r`, joined from archive_records).
    const contains = (keyword: string): KeywordCondition => ({
      sql: `position(lower(${p(keyword.trim())}) in lower(${SEARCHABLE_TEXT_SQL})) > 0`,
      onText: true,
    });
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
        const alternatives = any.map((k, i) =>
          needsRecheck(k) || !queries[i]
            ? contains(k)
            : onTerms(`s.terms @@ ${p(queries[i])}::tsquery`),
        );
        rechecks.push({
          sql: `(${alternatives.map((c) => c.sql).join(' OR ')})`,
          onText: alternatives.some((c) => c.onText),
        });
      }
    }
    for (const keyword of exclude) {
      const q = keywordQuery(keyword);
      if (q && !hasCjk(keyword)) rechecks.push(onTerms(`NOT (s.terms @@ ${p(q)}::tsquery)`));
      else rechecks.push({ sql: `NOT (${contains(keyword).sql})`, onText: true });
    }
    const tsquery = positive.length ? p(positive.join(' & ')) : null;
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
    // What the keywords ask (`keyword`), apart from the other filters (`where`): the newest
    // matches are looked for among the newest records the filters select first (see newest).
    const keyword = [...(tsquery ? [onTerms(`s.terms @@ ${tsquery}::tsquery`)] : []), ...rechecks];
    const keywordSql = keyword.map((c) => c.sql);
    const narrow = query.senders.length > 0 || !!query.participant || !!query.conversationId;
    const from = rechecks.some((c) => c.onText)
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
        const page = await this.newest('chain', { from, where, keyword, params, narrow }, limit);
        const scores = await this.dataSource.query<{ chain_seq: string; score: string }[]>(
          `SELECT x.chain_seq, round(ts_rank(x.terms, $2::tsquery)::numeric, 6) AS score
             FROM archive_search x WHERE x.corp_id = $1 AND x.chain_seq = ANY($3::bigint[])`,
          [query.corpId, positive.join(' & '), page.map((r) => r.chain_seq)],
        );
        const scoreOf = new Map(scores.map((r) => [r.chain_seq, r.score]));
        return this.rankedPage(
          page.map((r) => ({ chain_seq: r.chain_seq, score: scoreOf.get(r.chain_seq) ?? '0' })),
          limit,
        );
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
        [...where, ...keywordSql],
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
             FROM ${from} WHERE ${[...where, ...keywordSql].join(' AND ')}
         ) ranked ${after}
         ORDER BY score DESC, chain_seq DESC LIMIT ${limit + 1}`,
        params,
      );
      return this.rankedPage(rows, limit);
    }
    const cursor = decodeCursor(query.cursor, isTimeCursor);
    if (cursor)
      where.push(`(s.sent_at, s.chain_seq) < (${p(cursor.t)}::timestamptz, ${p(cursor.s)})`);
    const rows = await this.newest('time', { from, where, keyword, params, narrow }, limit);
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

  /**
   * The newest `limit + 1` records (by time, or by chain position) that pass the filters
   * (`where`) and the keywords (`keyword`). Left to itself the planner picks between walking an
   * order's index until enough records match (fast for frequent words, a whole-table walk for
   * rare ones) and collecting every match from the GIN index then sorting them (fast for rare
   * words, slow for frequent ones) on its estimate of how many records match — and that
   * estimate is often far off for CJK words, whose bigrams always occur together (EXPLAIN at
   * 1 M records: a rare word walked 993,588 rows in 655 ms; a frequent four-character word,
   * estimated at one match, collected thousands in 167 ms). So both are bounded: first the
   * newest NEWEST_WINDOW records that pass the filters are tested against the keywords; only if
   * the page is not full by then (the keywords are rare there) are the GIN index's matches
   * older than that window collected and sorted. Same records, same order.
   */
  private async newest(
    order: 'time' | 'chain',
    q: {
      from: string;
      where: string[];
      keyword: KeywordCondition[];
      params: unknown[];
      /** A filter that selects few records (senders, a participant, a conversation). */
      narrow: boolean;
    },
    limit: number,
  ): Promise<{ chain_seq: string; sent_at: Date }[]> {
    const desc = order === 'time' ? 's.sent_at DESC, s.chain_seq DESC' : 's.chain_seq DESC';
    const onTerms = q.keyword.filter((c) => !c.onText).map((c) => c.sql);
    const onText = q.keyword.filter((c) => c.onText).map((c) => c.sql);
    // Only the stored text decides (no terms to test), or a narrow filter that its own index
    // answers better: one statement, as the planner sees fit.
    if (!onTerms.length || q.narrow)
      return this.dataSource.query(
        `SELECT s.chain_seq, s.sent_at FROM ${q.from} WHERE ${[...q.where, ...q.keyword.map((c) => c.sql)].join(' AND ')}
          ORDER BY ${desc} LIMIT ${limit + 1}`,
        q.params,
      );
    const text = (t: string) =>
      onText.length
        ? `CROSS JOIN LATERAL (SELECT x.* FROM archive_records x
             WHERE x.corp_id = $1 AND x.chain_seq = ${t}.chain_seq) r`
        : '';
    // Windows of records that pass the filters, newest first, each continuing where the last
    // stopped: the first of newestWindow records; if it held a few matches but not enough, one
    // more, sized by how often they occurred (walking in order costs ~1 µs a record, fetching a
    // match found by the GIN index ~20 µs); then, if still short (or none occurred), whatever
    // the GIN index holds beyond them.
    const hits: { chain_seq: string; sent_at: Date }[] = [];
    let boundary: { chain_seq: string; sent_at: Date } | undefined;
    let seen = 0;
    let size = this.newestWindow;
    for (let pass = 0; pass < 2; pass++) {
      const params = [...q.params];
      const olderThan = boundary ? [this.olderThan(order, boundary, params)] : [];
      // Each record with whether its terms match; those that do are checked against the stored
      // text when needed (one row each); the window's last record is returned too, as the
      // boundary of what was looked at.
      const windowed = await this.dataSource.query<
        { chain_seq: string; sent_at: Date; hit: boolean; n: string }[]
      >(
        `SELECT s.chain_seq, s.sent_at, s.n, (s.hit ${onText.map((c) => `AND ${c}`).join(' ')}) AS hit
           FROM (SELECT chain_seq, sent_at, terms, hit, n FROM (
                   SELECT s.chain_seq, s.sent_at, s.terms, (${onTerms.join(' AND ')}) AS hit,
                          row_number() OVER () AS n
                     FROM (SELECT s.chain_seq, s.sent_at, s.terms FROM archive_search s
                            WHERE ${[...q.where, ...olderThan].join(' AND ')}
                            ORDER BY ${desc} LIMIT ${size}) s
                 ) x WHERE hit OR n = ${size}) s
           ${text('s')}
          WHERE (s.hit ${onText.map((c) => `AND ${c}`).join(' ')}) OR s.n = ${size}
          LIMIT ${limit + 2 - hits.length}`,
        params,
      );
      hits.push(...windowed.filter((r) => r.hit));
      boundary = windowed.find((r) => Number(r.n) === size);
      if (hits.length > limit || !boundary) return hits.slice(0, limit + 1);
      seen += size;
      if (!hits.length) break;
      size = Math.min(
        MAX_SECOND_WINDOW,
        Math.max(seen, Math.ceil(((limit + 1 - hits.length) / hits.length) * seen * 3)),
      );
    }
    // Rare: the matches beyond the windows, from the GIN index (materialised, so no order's
    // index is walked for them), then sorted.
    const params = [...q.params];
    const older = this.olderThan(order, boundary as { chain_seq: string; sent_at: Date }, params);
    const rest = await this.dataSource.query<{ chain_seq: string; sent_at: Date }[]>(
      `WITH m AS MATERIALIZED (
         SELECT s.chain_seq, s.sent_at, s.terms FROM archive_search s
          WHERE ${[...q.where, ...onTerms, older].join(' AND ')}
       )
       SELECT s.chain_seq, s.sent_at FROM m s ${text('s')}
        ${onText.length ? `WHERE ${onText.join(' AND ')}` : ''}
        ORDER BY ${desc} LIMIT ${limit + 1 - hits.length}`,
      params,
    );
    return [...hits, ...rest];
  }

  /** Records after `boundary` in the order (older), its values added to `params`. */
  private olderThan(
    order: 'time' | 'chain',
    boundary: { chain_seq: string; sent_at: Date },
    params: unknown[],
  ): string {
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    return order === 'time'
      ? `(s.sent_at, s.chain_seq) < (${p(boundary.sent_at)}::timestamptz, ${p(boundary.chain_seq)}::bigint)`
      : `s.chain_seq < ${p(boundary.chain_seq)}::bigint`;
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
