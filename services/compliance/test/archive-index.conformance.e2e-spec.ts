import { asCorpId, createDataSource, runMigrations } from '@qiwei/persistence';
import { createTestDatabase, type TestDatabase } from '@qiwei/testing';
import { keywordQuery } from '@qiwei/text-search';
import type { DataSource } from 'typeorm';
import { COMPLIANCE_MIGRATIONS } from '../src/compliance.module';
import type { ArchiveQuery } from '../src/search/archive-index';
import { PostgresArchiveIndex } from '../src/search/postgres-archive-index';
import { searchableText, SEARCHABLE_TEXT_SQL } from '../src/archive/searchable-text';
import {
  CASES,
  CONTENT_CASES,
  CONTENT_CORPUS,
  CORPUS,
  queryOf,
  seedCorpus,
} from './support/archive-index-conformance';

describe('ArchiveIndex conformance: the PostgreSQL adapter', () => {
  let database: TestDatabase;
  let db: DataSource;
  let index: PostgresArchiveIndex;
  const corp = asCorpId('ww0c0f000000000001');
  const other = asCorpId('ww0c0f000000000002');
  const textOf = new Map<string, string>();

  beforeAll(async () => {
    database = await createTestDatabase('compliance_conformance');
    db = createDataSource({
      url: database.url,
      applicationName: 'conformance',
      entities: [],
      migrations: COMPLIANCE_MIGRATIONS,
    });
    await db.initialize();
    await runMigrations(db);
    index = new PostgresArchiveIndex(db);
    for (const r of await seedCorpus(db, index, corp)) textOf.set(`${corp}:${r.chainSeq}`, r.text);
    // Another corp with the same words: never found from the first.
    await seedCorpus(db, index, other, [
      { ...CORPUS[0], text: '另一家公司的理财产品 13800138000' },
    ]);
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  const texts = async (query: ArchiveQuery) => {
    const page = await index.search(query);
    return page.hits.map(
      (h) => textOf.get(`${query.corpId}:${h.chainSeq}`) ?? `other:${h.chainSeq}`,
    );
  };

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await texts(queryOf(corp, c.query))).toEqual(c.texts);
  });

  // The newest matches are looked for in a window of the newest records first, then in the GIN
  // index beyond it (see PostgresArchiveIndex.newest): tiny windows make every case take the
  // second path, or both — same records, same order, same scores, same pages.
  it.each([1, 2, 3])(
    'gives the same answers when only %i newest record(s) are tested first',
    async (w) => {
      const windowed = new PostgresArchiveIndex(db);
      windowed.newestWindow = w;
      for (const c of CASES) {
        for (const sort of ['time', 'relevance'] as const) {
          const q = queryOf(corp, { ...c.query, sort });
          expect({ case: c.name, sort, page: await windowed.search(q) }).toEqual({
            case: c.name,
            sort,
            page: await index.search(q),
          });
          let cursor: string | undefined;
          const paged: number[] = [];
          do {
            const page = await windowed.search({ ...q, limit: 2, cursor });
            paged.push(...page.hits.map((h) => h.chainSeq));
            cursor = page.nextCursor ?? undefined;
          } while (cursor);
          expect({ case: c.name, sort, paged }).toEqual({
            case: c.name,
            sort,
            paged: (await index.search(q)).hits.map((h) => h.chainSeq),
          });
        }
      }
    },
  );

  it('never crosses tenants', async () => {
    const mine = await index.search(queryOf(other, { keywords: { all: ['理财'] } }));
    expect(mine.hits.map((h) => h.chainSeq)).toEqual([1]);
    const phone = await index.search(queryOf(corp, { keywords: { all: ['13800138000'] } }));
    expect(phone.hits).toHaveLength(1);
  });

  it('pages by time with a cursor, every record once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await index.search(queryOf(corp, { limit: 3, cursor }));
      seen.push(...page.hits.map((h) => textOf.get(`${corp}:${h.chainSeq}`) as string));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(CORPUS.map((e) => e.text).reverse());
  });

  it('sorts by relevance with scores, and pages through the rest', async () => {
    const q = queryOf(corp, { keywords: { any: ['理财', '收益'] }, sort: 'relevance', limit: 2 });
    const first = await index.search(q);
    expect(first.hits[0].score).toBeGreaterThan(0);
    expect(first.hits[0].score).toBeGreaterThanOrEqual(first.hits[1].score as number);
    expect(['这款理财产品收益很高', '产品理财收益']).toContain(
      textOf.get(`${corp}:${first.hits[0].chainSeq}`),
    );
    const rest = await index.search({ ...q, limit: 10, cursor: first.nextCursor ?? undefined });
    const all = [...first.hits, ...rest.hits].map((h) => h.chainSeq);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(4);
    expect(rest.nextCursor).toBeNull();
  });

  it('ranks keywords that must all occur equally (no positions), newest position first, paging', async () => {
    const q = queryOf(corp, { keywords: { all: ['理财'] }, sort: 'relevance', limit: 3 });
    const first = await index.search(q);
    const rest = await index.search({ ...q, cursor: first.nextCursor ?? undefined });
    const hits = [...first.hits, ...rest.hits];
    expect(hits.map((h) => h.chainSeq)).toEqual([6, 4, 3, 1]);
    expect(new Set(hits.map((h) => h.score)).size).toBe(1);
    expect(hits[0].score).toBeGreaterThan(0);
    expect(rest.nextCursor).toBeNull();
    // A one-character (prefix) keyword ranks every match.
    const prefix = await index.search(
      queryOf(corp, { keywords: { all: ['理财', '收'] }, sort: 'relevance' }),
    );
    expect(prefix.hits.map((h) => h.chainSeq).sort()).toEqual([1, 6]);
  });

  it('ranks `any` keywords by score tiers: the same pages as ranking every match', async () => {
    // Records holding random subsets of the words, so every tier (how many of the query's terms
    // a record holds) is populated; each query is paged through and compared with ts_rank over
    // every match, ordered by score and then chain position.
    const tiers = asCorpId('ww0c0f000000000003');
    const words = ['理财', '收益', '保险', 'wealth', 'fund', 'ORD-2024', '报告'];
    let seed = 11;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    await seedCorpus(
      db,
      index,
      tiers,
      Array.from({ length: 150 }, (_, i) => ({
        ...CORPUS[0],
        text: `${words.filter(() => random() < 0.45).join(' ')} 今天 ${i}`,
        at: new Date(Date.UTC(2025, 0, 1, 0, i)),
      })),
    );
    const queries: ArchiveQuery['keywords'][] = [
      { all: [], any: ['理财', '收益'], phrases: [], exclude: [] },
      { all: [], any: ['理财', 'wealth', 'ORD-2024'], phrases: [], exclude: [] },
      { all: ['保险'], any: ['fund', '报告'], phrases: [], exclude: [] },
      { all: [], any: ['理财', '收益', '保险', 'wealth'], phrases: [], exclude: ['fund'] },
    ];
    for (const keywords of queries) {
      const tsquery = [
        ...keywords.all.map((k) => keywordQuery(k) as string),
        `(${keywords.any.map((k) => keywordQuery(k) as string).join(' | ')})`,
      ].join(' & ');
      const expected = await db.query<{ chain_seq: string; score: string }[]>(
        `SELECT chain_seq, round(ts_rank(terms, $2::tsquery)::numeric, 6) AS score
           FROM archive_search
          WHERE corp_id = $1 AND terms @@ $2::tsquery
            AND NOT EXISTS (SELECT 1 FROM unnest($3::text[]) AS e(q) WHERE terms @@ e.q::tsquery)
          ORDER BY score DESC, chain_seq DESC`,
        [tiers, tsquery, keywords.exclude.map(keywordQuery)],
      );
      // With a mandatory keyword ts_rank's AND ranking of position-less terms is one score.
      if (!keywords.all.length)
        expect(new Set(expected.map((r) => r.score)).size).toBeGreaterThan(1);
      const seen: { chainSeq: number; score: number | null }[] = [];
      let cursor: string | undefined;
      do {
        const page = await index.search(
          queryOf(tiers, { keywords, sort: 'relevance', limit: 7, cursor }),
        );
        seen.push(...page.hits.map((h) => ({ chainSeq: h.chainSeq, score: h.score })));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(
        expected.map((r) => ({ chainSeq: Number(r.chain_seq), score: Number(r.score) })),
      );
    }
  });

  it('refuses a cursor of the other sort order or a forged one', async () => {
    const page = await index.search(queryOf(corp, { limit: 1 }));
    await expect(
      index.search(
        queryOf(corp, {
          keywords: { all: ['理财'] },
          sort: 'relevance',
          cursor: page.nextCursor ?? undefined,
        }),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    await expect(index.search(queryOf(corp, { cursor: 'forged' }))).rejects.toMatchObject({
      code: 'INVALID_CURSOR',
    });
  });

  describe('every type’s searchable text', () => {
    const contentCorp = asCorpId('ww0c0f000000000004');
    let seeded: Awaited<ReturnType<typeof seedCorpus>>;
    beforeAll(async () => {
      seeded = await seedCorpus(db, index, contentCorp, CONTENT_CORPUS);
    });

    it.each(CONTENT_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const page = await index.search(queryOf(contentCorp, c.query));
      expect(page.hits.map((h) => h.chainSeq)).toEqual(c.found);
    });

    it('is the same in SQL (phrases are confirmed on it) as in TypeScript (terms are made of it)', async () => {
      const rows = await db.query<{ chain_seq: string; text: string }[]>(
        `SELECT r.chain_seq, ${SEARCHABLE_TEXT_SQL} AS text FROM archive_records r
          WHERE r.corp_id = $1 ORDER BY r.chain_seq`,
        [contentCorp],
      );
      expect(rows.map((r) => r.text)).toEqual(seeded.map((r) => searchableText(r)));
      expect(rows.filter((r) => r.text).length).toBe(9);
      // The first corpus too (plain text messages, one with a nameless medium).
      const plain = await db.query<{ text: string }[]>(
        `SELECT ${SEARCHABLE_TEXT_SQL} AS text FROM archive_records r WHERE r.corp_id = $1
          ORDER BY r.chain_seq`,
        [corp],
      );
      expect(plain.map((r) => r.text)).toEqual(CORPUS.map((e) => e.text));
    });
  });

  it('forgets purged records', async () => {
    await db.transaction((em) => index.forget(em, other, [1]));
    const found = await index.search(queryOf(other, { keywords: { all: ['理财'] } }));
    expect(found.hits).toEqual([]);
  });
});
