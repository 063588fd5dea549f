import type { estypes } from '@elastic/elasticsearch';
import { decodeCursor, encodeCursor } from '@qiwei/platform';
import type { ArchiveQuery } from '../archive-index';
import { normalise } from '@qiwei/text-search';

type Query = estypes.QueryDslQueryContainer;

// A CJK run, or a run of other letters and digits (as the PostgreSQL tokenizer splits them).
const RUN =
  /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+)|((?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])[\p{L}\p{N}])+)/gu;

/**
 * One keyword as a query: each CJK run of two or more characters a phrase of its bigrams on
 * `text` (contiguous, so 理财产品 does not match 产品理财收益), a single CJK character a term on
 * `text.unigram`, the Latin words and digit runs all required on `text.unigram` (whole words:
 * `pay` does not find `payment`). Null when the keyword has nothing searchable.
 */
export function keywordClause(keyword: string): Query | null {
  const clauses: Query[] = [];
  const words: string[] = [];
  for (const [, cjk, word] of normalise(keyword).matchAll(RUN)) {
    if (cjk) {
      clauses.push(
        [...cjk].length === 1
          ? { match: { 'text.unigram': { query: cjk } } }
          : { match_phrase: { text: { query: cjk } } },
      );
    } else if (word) words.push(word);
  }
  if (words.length)
    clauses.push({ match: { 'text.unigram': { query: words.join(' '), operator: 'and' } } });
  if (!clauses.length) return null;
  return clauses.length === 1 ? clauses[0] : { bool: { must: clauses } };
}

const escapeWildcard = (s: string) => s.replace(/[\\*?]/g, (c) => `\\${c}`);

/** A phrase: the text as written contains it, ignoring case (like the PostgreSQL adapter). */
export const phraseClause = (phrase: string): Query => ({
  wildcard: {
    'text.exact': { value: `*${escapeWildcard(phrase.trim())}*`, case_insensitive: true },
  },
});

/** What to highlight: every positive keyword, on the field that keeps single characters. */
function highlightClause(keyword: string): Query[] {
  const out: Query[] = [];
  for (const [, cjk, word] of normalise(keyword).matchAll(RUN)) {
    if (cjk) out.push({ match_phrase: { 'text.unigram': { query: cjk } } });
    else if (word) out.push({ match: { 'text.unigram': { query: word } } });
  }
  return out;
}

type SortCursor = { m: 't' | 'r'; a: [number, number] };
const isSortCursor = (v: unknown): v is SortCursor =>
  typeof v === 'object' &&
  v !== null &&
  ((v as SortCursor).m === 't' || (v as SortCursor).m === 'r') &&
  Array.isArray((v as SortCursor).a) &&
  (v as SortCursor).a.length === 2 &&
  (v as SortCursor).a.every((n) => typeof n === 'number' && Number.isFinite(n));

export const encodeSortCursor = (mode: 't' | 'r', values: estypes.SortResults): string =>
  encodeCursor({ m: mode, a: values.map(Number) });

/**
 * The search request for a query: the corp as routing and as a filter (no query crosses
 * tenants), the officer's coverage and every filter in filter context, keywords scored only
 * when sorting by relevance, `search_after` on (sent_at | _score, chain_seq) for the cursor.
 * Throws INVALID_CURSOR (through decodeCursor) for a cursor of another sort or a forged one.
 */
export function buildSearchRequest(index: string, q: ArchiveQuery): estypes.SearchRequest {
  const byRelevance = q.sort === 'relevance';
  const filter: Query[] = [{ term: { corp_id: q.corpId } }];
  const must: Query[] = [];
  const mustNot: Query[] = [];
  const positive = (clause: Query | null) => {
    if (clause) (byRelevance ? must : filter).push(clause);
  };
  const { all, any, phrases, exclude } = q.keywords;
  for (const keyword of all) positive(keywordClause(keyword) ?? phraseClause(keyword));
  for (const phrase of phrases) positive(phraseClause(phrase));
  if (any.length) {
    positive({
      bool: {
        should: any.map((k) => keywordClause(k) ?? phraseClause(k)),
        minimum_should_match: 1,
      },
    });
  }
  for (const keyword of exclude) mustNot.push(keywordClause(keyword) ?? phraseClause(keyword));
  if (q.senders.length) filter.push({ terms: { sender: q.senders } });
  if (q.participant) filter.push({ term: { participants: q.participant } });
  if (q.conversationId) filter.push({ term: { conversation_id: q.conversationId } });
  if (q.senderDepartments?.length)
    filter.push({ terms: { sender_departments: q.senderDepartments } });
  if (q.coverage) filter.push({ terms: { sender_departments: q.coverage } });
  if (q.hasAttachment !== undefined) filter.push({ term: { has_attachment: q.hasAttachment } });
  if (q.kinds.length) filter.push({ terms: { kind: q.kinds } });
  if (q.types.length) filter.push({ terms: { type: q.types } });
  if (q.from || q.to) {
    filter.push({
      range: {
        sent_at: {
          ...(q.from ? { gte: q.from.toISOString() } : {}),
          ...(q.to ? { lt: q.to.toISOString() } : {}),
          format: 'strict_date_optional_time',
        },
      },
    });
  }
  const mode = byRelevance ? 'r' : 't';
  const cursor = decodeCursor(q.cursor, (v): v is SortCursor => isSortCursor(v) && v.m === mode);
  const words = [...all, ...any, ...phrases];
  return {
    index,
    routing: q.corpId,
    size: q.limit + 1,
    track_total_hits: false,
    track_scores: byRelevance,
    _source: ['chain_seq'],
    query: {
      bool: {
        filter,
        ...(must.length ? { must } : {}),
        ...(mustNot.length ? { must_not: mustNot } : {}),
      },
    },
    sort: byRelevance
      ? [{ _score: { order: 'desc' } }, { chain_seq: { order: 'desc' } }]
      : [{ sent_at: { order: 'desc' } }, { chain_seq: { order: 'desc' } }],
    ...(cursor ? { search_after: cursor.a } : {}),
    ...(words.length
      ? {
          highlight: {
            encoder: 'html',
            pre_tags: ['<em>'],
            post_tags: ['</em>'],
            require_field_match: false,
            fields: {
              'text.unigram': {
                type: 'unified',
                number_of_fragments: 1,
                fragment_size: 160,
                no_match_size: 0,
                highlight_query: { bool: { should: words.flatMap(highlightClause) } },
              },
            },
          },
        }
      : {}),
  };
}

/** Hits side by side (`<em>理</em><em>财</em>`, or overlapping bigrams) read as one. */
export const mergeHighlights = (fragment: string): string => fragment.replace(/<\/em><em>/g, '');
