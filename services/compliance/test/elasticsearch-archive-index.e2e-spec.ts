import { Client, errors } from '@elastic/elasticsearch';
import Mock from '@elastic/elasticsearch-mock';
import { asCorpId, createDataSource, runMigrations } from '@qiwei/persistence';
import { createTestDatabase, type TestDatabase } from '@qiwei/testing';
import type { DataSource } from 'typeorm';
import { COMPLIANCE_MIGRATIONS } from '../src/compliance.module';
import type { ComplianceConfig } from '../src/config';
import { ElasticsearchArchiveIndex } from '../src/search/elasticsearch/elasticsearch-archive-index';
import { ElasticsearchIndexer } from '../src/search/elasticsearch/elasticsearch-indexer';
import { searchableText } from '../src/archive/searchable-text';
import {
  CASES,
  CONTENT_CORPUS,
  CORPUS,
  SINGLE,
  day,
  queryOf,
  seedCorpus,
} from './support/archive-index-conformance';

type Body = Record<string, unknown>;
type Params = { method: string; path: string; body: unknown; querystring: Record<string, string> };

const corp = asCorpId('ww0e5e00000000a001');
const config = {
  ELASTICSEARCH_INDEX_PREFIX: 'qiwei-',
  ELASTICSEARCH_SHARDS: 3,
  ELASTICSEARCH_REPLICAS: 1,
  ELASTICSEARCH_BULK_SIZE: 100,
  ELASTICSEARCH_INDEX_INTERVAL_MS: 50,
  ELASTICSEARCH_MAX_ATTEMPTS: 3,
} as ComplianceConfig;
const silent = { error: () => undefined, warn: () => undefined, info: () => undefined };

// The request each conformance query shape must become (time order: keywords filter, unscored).
const corpTerm = { term: { corp_id: corp } };
const phrase = (query: string) => ({ match_phrase: { text: { query } } });
const unigram = (query: string) => ({ match: { 'text.unigram': { query } } });
const words = (query: string) => ({ match: { 'text.unigram': { query, operator: 'and' } } });
const wildcard = (value: string) => ({
  wildcard: { 'text.exact': { value, case_insensitive: true } },
});
const EXPECTED: Record<string, { filter: Body[]; must_not?: Body[] }> = {
  'a Chinese word inside unspaced text': { filter: [corpTerm, phrase('理财')] },
  'a long Chinese keyword only where contiguous': { filter: [corpTerm, phrase('理财产品')] },
  'any of a long Chinese keyword (confirmed on the text) and a phone number': {
    filter: [
      corpTerm,
      { bool: { should: [phrase('理财产品'), words('13800138000')], minimum_should_match: 1 } },
    ],
  },
  'one Chinese character': { filter: [corpTerm, unigram('赔')] },
  'Chinese and English together': { filter: [corpTerm, phrase('理财'), words('wealth')] },
  'a phone number': { filter: [corpTerm, words('13800138000')] },
  'an id of letters and digits': { filter: [corpTerm, words('iphone15')] },
  'the letters of a mixed id': { filter: [corpTerm, words('iphone')] },
  'an order id as a phrase': { filter: [corpTerm, wildcard('*ORD-2024-0001*')] },
  'a number prefix is not a word': { filter: [corpTerm, words('1380013')] },
  'any of several keywords': {
    filter: [
      corpTerm,
      { bool: { should: [phrase('理赔'), words('guaranteed')], minimum_should_match: 1 } },
    ],
  },
  'excluding a Chinese word': { filter: [corpTerm, phrase('理财')], must_not: [phrase('方案')] },
  'excluding an English word': { filter: [corpTerm, phrase('理财')], must_not: [words('vip')] },
  'a phrase in order': { filter: [corpTerm, wildcard('*no risk*')] },
  'a phrase out of order': { filter: [corpTerm, wildcard('*risk no*')] },
  'by sender': { filter: [corpTerm, phrase('理财'), { terms: { sender: ['carol'] } }] },
  'by participant': { filter: [corpTerm, { term: { participants: 'carol' } }] },
  'by conversation': { filter: [corpTerm, { term: { conversation_id: SINGLE } }] },
  'by type': { filter: [corpTerm, { terms: { type: ['markdown'] } }] },
  'by time range and kind': {
    filter: [
      corpTerm,
      { terms: { kind: ['message'] } },
      {
        range: {
          sent_at: {
            gte: day(2).toISOString(),
            lt: day(4).toISOString(),
            format: 'strict_date_optional_time',
          },
        },
      },
    ],
  },
  'by the sender’s department subtree': {
    filter: [corpTerm, { terms: { sender_departments: [2] } }],
  },
  'by a deeper department': { filter: [corpTerm, { terms: { sender_departments: [4] } }] },
  'with attachments': { filter: [corpTerm, { term: { has_attachment: true } }] },
  'without attachments': { filter: [corpTerm, { term: { has_attachment: false } }] },
  'an officer covering 客服部': { filter: [corpTerm, { terms: { sender_departments: [3] } }] },
  'an officer covering 私人银行, with keywords': {
    filter: [corpTerm, phrase('理财'), { terms: { sender_departments: [4] } }],
  },
  'an officer covering nothing': { filter: [corpTerm, { terms: { sender_departments: [] } }] },
};

/** The corpus position (chain seq) of each text. */
const seqOf = (text: string) => CORPUS.findIndex((e) => e.text === text) + 1;

describe('ArchiveIndex: the Elasticsearch adapter (request shapes against @elastic/elasticsearch-mock)', () => {
  let mock: Mock;
  let client: Client;
  let database: TestDatabase;
  let db: DataSource;
  let index: ElasticsearchArchiveIndex;
  let searches: Params[];

  beforeAll(async () => {
    database = await createTestDatabase('compliance_es');
    db = createDataSource({
      url: database.url,
      applicationName: 'es-adapter',
      entities: [],
      migrations: COMPLIANCE_MIGRATIONS,
    });
    await db.initialize();
    await runMigrations(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });
  beforeEach(() => {
    mock = new Mock();
    client = new Client({ node: 'http://localhost:9200', Connection: mock.getConnection() });
    index = new ElasticsearchArchiveIndex(client, db, config);
    searches = [];
  });

  /** Answers searches with these hits (chain seqs, in order), recording each request. */
  const answer = (hits: { seq: number; sort: number[]; score?: number; highlight?: string }[]) =>
    mock.add({ method: 'POST', path: '/qiwei-archive/_search' }, (params) => {
      searches.push(params as unknown as Params);
      return {
        took: 1,
        timed_out: false,
        _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
        hits: {
          max_score: null,
          hits: hits.map((h) => ({
            _index: 'qiwei-archive-v1',
            _id: `${corp}:${h.seq}`,
            _routing: corp,
            _score: h.score ?? null,
            _source: { chain_seq: h.seq },
            sort: h.sort,
            ...(h.highlight ? { highlight: { 'text.unigram': [h.highlight] } } : {}),
          })),
        },
      };
    });

  it('puts an index template with CJK analysis from built-in parts, and an index behind an alias', async () => {
    const put: Params[] = [];
    mock.add({ method: 'PUT', path: '/_index_template/qiwei-archive' }, (p) => {
      put.push(p as unknown as Params);
      return { acknowledged: true };
    });
    mock.add(
      { method: 'HEAD', path: '/_alias/qiwei-archive' },
      () =>
        new errors.ResponseError({
          body: {},
          statusCode: 404,
          headers: {},
          warnings: [],
          meta: {} as never,
        }),
    );
    mock.add({ method: 'PUT', path: '/qiwei-archive-v1' }, (p) => {
      put.push(p as unknown as Params);
      return { acknowledged: true, index: 'qiwei-archive-v1' };
    });
    await index.ensureIndex();
    const template = put[0].body as {
      index_patterns: string[];
      template: {
        settings: { number_of_shards: number; analysis: { analyzer: Body; filter: Body } };
        mappings: { dynamic: string; _routing: Body; properties: Record<string, Body> };
      };
    };
    expect(template.index_patterns).toEqual(['qiwei-archive-*']);
    expect(template.template.settings.number_of_shards).toBe(3);
    expect(template.template.settings.analysis.analyzer).toMatchObject({
      qiwei_cjk: { tokenizer: 'standard', filter: ['cjk_width', 'lowercase', 'qiwei_cjk_bigram'] },
      qiwei_unigram_search: { tokenizer: 'standard', filter: ['cjk_width', 'lowercase'] },
    });
    expect(template.template.settings.analysis.filter).toMatchObject({
      qiwei_cjk_bigram: { type: 'cjk_bigram', output_unigrams: false },
      qiwei_word_parts: { type: 'word_delimiter_graph', preserve_original: true },
    });
    expect(template.template.mappings).toMatchObject({
      dynamic: 'strict',
      _routing: { required: true },
      properties: {
        corp_id: { type: 'keyword' },
        sender_departments: { type: 'integer' },
        text: {
          type: 'text',
          analyzer: 'qiwei_cjk',
          fields: {
            unigram: { analyzer: 'qiwei_unigram', search_analyzer: 'qiwei_unigram_search' },
            exact: { type: 'wildcard' },
          },
        },
      },
    });
    expect(put[1].body).toEqual({ aliases: { 'qiwei-archive': { is_write_index: true } } });
  });

  it('does not create the index again when the alias exists', async () => {
    mock.add({ method: 'PUT', path: '/_index_template/qiwei-archive' }, () => ({
      acknowledged: true,
    }));
    mock.add({ method: 'HEAD', path: '/_alias/qiwei-archive' }, () => ({}));
    let created = false;
    mock.add({ method: 'PUT', path: '/qiwei-archive-v1' }, () => {
      created = true;
      return { acknowledged: true };
    });
    await index.ensureIndex();
    expect(created).toBe(false);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('conformance shape: %s', async (name, c) => {
    const expected = EXPECTED[name];
    if (!expected) throw new Error(`no Elasticsearch request written down for "${name}"`);
    const seqs = c.texts.map(seqOf);
    answer(seqs.map((seq) => ({ seq, sort: [CORPUS[seq - 1].at.getTime(), seq] })));
    const page = await index.search(queryOf(corp, c.query));
    expect(page.hits.map((h) => h.chainSeq)).toEqual(seqs);
    expect(page.nextCursor).toBeNull();
    const [request] = searches;
    // The corp routes the request to its shard and filters every document.
    expect(request.querystring).toMatchObject({ routing: corp });
    const body = request.body as { query: { bool: Body }; sort: Body[]; size: number };
    expect(body.query.bool).toEqual(expected);
    expect(body.sort).toEqual([{ sent_at: { order: 'desc' } }, { chain_seq: { order: 'desc' } }]);
    expect(body.size).toBe(21);
  });

  it('ranks by relevance with scored keywords, merges highlights, pages with search_after', async () => {
    answer([
      {
        seq: 1,
        sort: [2.5, 1],
        score: 2.5,
        highlight: '这款<em>理</em><em>财</em>产品<em>收益</em>很高',
      },
      { seq: 6, sort: [2.1, 6], score: 2.1 },
      { seq: 4, sort: [1.2, 4], score: 1.2 },
    ]);
    const q = queryOf(corp, { keywords: { any: ['理财', '收益'] }, sort: 'relevance', limit: 2 });
    const page = await index.search(q);
    expect(page.hits).toEqual([
      { chainSeq: 1, score: 2.5, highlight: '这款<em>理财</em>产品<em>收益</em>很高' },
      { chainSeq: 6, score: 2.1, highlight: null },
    ]);
    const body = searches[0].body as Body;
    expect(body).toMatchObject({
      size: 3,
      track_total_hits: false,
      sort: [{ _score: { order: 'desc' } }, { chain_seq: { order: 'desc' } }],
      query: {
        bool: {
          filter: [corpTerm],
          must: [{ bool: { should: [phrase('理财'), phrase('收益')], minimum_should_match: 1 } }],
        },
      },
      highlight: {
        encoder: 'html',
        pre_tags: ['<em>'],
        post_tags: ['</em>'],
        fields: {
          'text.unigram': {
            highlight_query: {
              bool: {
                should: [
                  { match_phrase: { 'text.unigram': { query: '理财' } } },
                  { match_phrase: { 'text.unigram': { query: '收益' } } },
                ],
              },
            },
          },
        },
      },
    });
    expect(body).not.toHaveProperty('search_after');
    await index.search({ ...q, cursor: page.nextCursor ?? undefined });
    expect((searches[1].body as Body).search_after).toEqual([2.1, 6]);
    // A relevance cursor is not a time cursor, and a forged one is refused.
    await expect(
      index.search(queryOf(corp, { cursor: page.nextCursor ?? undefined })),
    ).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    await expect(index.search(queryOf(corp, { cursor: 'forged' }))).rejects.toMatchObject({
      code: 'INVALID_CURSOR',
    });
  });

  it('answers 503 SEARCH_UNAVAILABLE when the cluster does not answer', async () => {
    mock.add(
      { method: 'POST', path: '/qiwei-archive/_search' },
      () =>
        new errors.ResponseError({
          body: { error: 'unavailable' },
          statusCode: 503,
          headers: {},
          warnings: [],
          meta: {} as never,
        }),
    );
    await expect(index.search(queryOf(corp, {}))).rejects.toMatchObject({
      code: 'SEARCH_UNAVAILABLE',
      status: 503,
    });
  });

  describe('bulk indexing from the queue', () => {
    const bulkCorp = asCorpId('ww0e5e00000000b002');
    let indexer: ElasticsearchIndexer;
    let bulks: Body[][];

    const queue = () =>
      db.query<
        { chain_seq: string; attempts: number; failed: boolean; last_error: string | null }[]
      >(
        `SELECT chain_seq, attempts, failed_at IS NOT NULL AS failed, last_error
           FROM archive_index_queue WHERE corp_id = $1 ORDER BY chain_seq`,
        [bulkCorp],
      );
    /** Answers bulk requests item by item: status per chain seq (201 when not given). */
    const bulkAnswers = (status: (seq: number) => number) =>
      mock.add({ method: 'POST', path: '/_bulk' }, (params) => {
        const lines = (params as unknown as Params).body as Body[];
        bulks.push(lines);
        const actions = lines.filter((_, i) => i % 2 === 0) as { index: { _id: string } }[];
        const items = actions.map(({ index: a }) => {
          const code = status(Number(a._id.split(':')[1]));
          return {
            index: {
              _index: 'qiwei-archive-v1',
              _id: a._id,
              status: code,
              ...(code >= 300
                ? {
                    error: {
                      type:
                        code === 429
                          ? 'es_rejected_execution_exception'
                          : 'mapper_parsing_exception',
                      reason: code === 429 ? 'queue full' : 'failed to parse field [text]',
                    },
                  }
                : { result: 'created' }),
            },
          };
        });
        return { took: 1, errors: items.some((i) => i.index.status >= 300), items };
      });

    beforeEach(() => {
      indexer = new ElasticsearchIndexer(db, client, index, config, silent as never);
      bulks = [];
    });

    it('queues records in the archive transaction, sends them in bulk, retries the throttled and parks the rejected', async () => {
      await seedCorpus(db, index, bulkCorp);
      expect((await queue()).map((r) => Number(r.chain_seq))).toEqual([1, 2, 3, 4, 5, 6, 7]);
      bulkAnswers((seq) => (seq === 2 ? 429 : seq === 3 ? 400 : 201));
      const result = await indexer.drain();
      expect(result).toEqual({ claimed: 7, indexed: 5, retrying: 1, failed: 1 });
      // The request: one action and one document per record, routed by corp.
      const lines = bulks[0];
      expect(lines).toHaveLength(14);
      expect(lines[0]).toEqual({
        index: { _index: 'qiwei-archive', _id: `${bulkCorp}:1`, routing: bulkCorp },
      });
      expect(lines[13]).toEqual({
        corp_id: bulkCorp,
        chain_seq: 7,
        kind: 'message',
        type: 'text',
        conversation_id: CORPUS[6].conversationId,
        conversation_kind: 'group',
        sender: 'bob',
        participants: ['alice', 'bob'],
        sender_departments: [1, 3],
        has_attachment: true,
        sent_at: CORPUS[6].at.toISOString(),
        text: CORPUS[6].text,
      });
      expect(await queue()).toEqual([
        {
          chain_seq: '2',
          attempts: 1,
          failed: false,
          last_error: '429 es_rejected_execution_exception: queue full',
        },
        {
          chain_seq: '3',
          attempts: 1,
          failed: true,
          last_error: '400 mapper_parsing_exception: failed to parse field [text]',
        },
      ]);
      // The throttled one waits for its backoff; nothing is due now.
      expect(await indexer.drain()).toEqual({ claimed: 0, indexed: 0, retrying: 0, failed: 0 });
      const backlog = await index.backlog(bulkCorp);
      expect(backlog).toMatchObject({
        pending: 1,
        failed: 1,
        failures: [
          { chainSeq: 3, attempts: 1, error: expect.stringContaining('mapper_parsing_exception') },
        ],
      });
      expect(backlog.oldestPendingAt).toBeInstanceOf(Date);

      // After the cause is fixed: retry the parked one; the throttled one comes due.
      expect(await index.retryFailed(bulkCorp)).toBe(1);
      await db.query(`UPDATE archive_index_queue SET next_attempt_at = now() WHERE corp_id = $1`, [
        bulkCorp,
      ]);
      mock.clearAll();
      bulkAnswers(() => 201);
      expect(await indexer.drain()).toEqual({ claimed: 2, indexed: 2, retrying: 0, failed: 0 });
      expect(await queue()).toEqual([]);
      expect(await index.backlog(bulkCorp)).toMatchObject({ pending: 0, failed: 0, failures: [] });
    });

    it('indexes every kind, each document’s text what a person reads of it (cards, articles, links, places, file names)', async () => {
      const seeded = await seedCorpus(db, index, asCorpId('ww0e5e00000000e005'), CONTENT_CORPUS);
      bulkAnswers(() => 201);
      expect(await indexer.drain()).toMatchObject({ indexed: CONTENT_CORPUS.length, failed: 0 });
      const docs = bulks[0].filter((_, i) => i % 2 === 1) as { kind: string; text: string }[];
      expect(docs.map((d) => d.kind)).toEqual(seeded.map((r) => r.kind));
      expect(docs.map((d) => d.text)).toEqual(seeded.map((r) => searchableText(r)));
      expect(docs[0].text).toBe('领奖通知 2025年3月1日 请于周五前领取 https://prize.example/claim');
      expect(docs[5].text).toBe('2024年Q3财报.pdf');
      expect(docs.filter((d) => d.kind === 'media' || d.kind === 'tombstone')).toEqual([
        expect.objectContaining({ kind: 'media', text: '' }),
        expect.objectContaining({ kind: 'tombstone', text: '' }),
      ]);
    });

    it('counts a failed bulk request as an attempt for every record, and parks them after the last', async () => {
      const seeded = await seedCorpus(
        db,
        index,
        asCorpId('ww0e5e00000000c003'),
        CORPUS.slice(0, 2),
      );
      const corpId = seeded[0].corpId;
      mock.add(
        { method: 'POST', path: '/_bulk' },
        () =>
          new errors.ResponseError({
            body: { error: 'down' },
            statusCode: 503,
            headers: {},
            warnings: [],
            meta: {} as never,
          }),
      );
      for (let attempt = 1; attempt <= 3; attempt++) {
        await db.query(
          'UPDATE archive_index_queue SET next_attempt_at = now() WHERE corp_id = $1',
          [corpId],
        );
        const result = await indexer.drain();
        expect(result.claimed).toBe(2);
        expect([result.retrying, result.failed]).toEqual(attempt < 3 ? [2, 0] : [0, 2]);
      }
      const rows = await db.query<{ attempts: number; failed: boolean; last_error: string }[]>(
        'SELECT attempts, failed_at IS NOT NULL AS failed, last_error FROM archive_index_queue WHERE corp_id = $1',
        [corpId],
      );
      expect(rows).toEqual([
        { attempts: 3, failed: true, last_error: expect.stringContaining('bulk request failed') },
        { attempts: 3, failed: true, last_error: expect.stringContaining('bulk request failed') },
      ]);
    });

    it('deletes purged records’ documents, a document already gone counting as deleted', async () => {
      const seeded = await seedCorpus(
        db,
        index,
        asCorpId('ww0e5e00000000d004'),
        CORPUS.slice(0, 3),
      );
      const corpId = seeded[0].corpId;
      bulkAnswers(() => 201);
      expect((await indexer.drain()).indexed).toBe(3);
      await db.transaction((em) => index.forget(em, corpId, [1, 2]));
      mock.clearAll();
      mock.add({ method: 'POST', path: '/_bulk' }, (params) => {
        const lines = (params as unknown as Params).body as { delete: { _id: string } }[];
        bulks.push(lines);
        return {
          took: 1,
          errors: false,
          items: lines.map((l, i) => ({
            delete: {
              _id: l.delete._id,
              status: i === 0 ? 200 : 404,
              result: i === 0 ? 'deleted' : 'not_found',
            },
          })),
        };
      });
      expect(await indexer.drain()).toEqual({ claimed: 2, indexed: 2, retrying: 0, failed: 0 });
      expect(bulks[bulks.length - 1]).toEqual([
        { delete: { _index: 'qiwei-archive', _id: `${corpId}:1`, routing: corpId } },
        { delete: { _index: 'qiwei-archive', _id: `${corpId}:2`, routing: corpId } },
      ]);
      expect(await index.backlog(corpId)).toMatchObject({ pending: 0, failed: 0 });
    });
  });
});
