import { Inject, Injectable } from '@nestjs/common';
import { Client, errors } from '@elastic/elasticsearch';
import type { CorpId } from '@qiwei/persistence';
import { DomainException } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../../config';
import type {
  ArchiveHitPage,
  ArchiveIndex,
  ArchiveQuery,
  IndexBacklog,
  IndexedRecord,
} from '../archive-index';
import { buildSearchRequest, encodeSortCursor, mergeHighlights } from './archive-query';
import { archiveIndexNames, archiveIndexTemplate } from './archive-template';

export const ELASTICSEARCH_CLIENT = Symbol('ELASTICSEARCH_CLIENT');

export class SearchUnavailableException extends DomainException {
  constructor() {
    super('SEARCH_UNAVAILABLE', 503, 'The archive’s search engine is not answering; try again.');
  }
}

/** A client for the configured cluster (nodes, auth, CA pinning, timeouts). */
export function elasticsearchClient(config: ComplianceConfig): Client {
  const nodes = (config.ELASTICSEARCH_URL ?? '').split(',').filter(Boolean);
  return new Client({
    nodes,
    ...(config.ELASTICSEARCH_API_KEY
      ? { auth: { apiKey: config.ELASTICSEARCH_API_KEY } }
      : config.ELASTICSEARCH_USERNAME && config.ELASTICSEARCH_PASSWORD
        ? {
            auth: {
              username: config.ELASTICSEARCH_USERNAME,
              password: config.ELASTICSEARCH_PASSWORD,
            },
          }
        : {}),
    ...(config.ELASTICSEARCH_CA_FINGERPRINT
      ? { caFingerprint: config.ELASTICSEARCH_CA_FINGERPRINT }
      : {}),
    requestTimeout: config.ELASTICSEARCH_REQUEST_TIMEOUT_MS,
    maxRetries: 2,
    name: 'qiwei-compliance',
  });
}

const round = (score: number) => Math.round(score * 1e6) / 1e6;

/**
 * The production ArchiveIndex on Elasticsearch. Indexing: the records' chain positions are
 * queued in the archive's own transaction (`archive_index_queue`), and the
 * ElasticsearchIndexer sends them with the bulk API after commit, item by item: nothing the
 * archive committed can be missing from the index without showing in the backlog. Search: one
 * request per page (see archive-query.ts); hits are chain positions, read from PostgreSQL.
 */
@Injectable()
export class ElasticsearchArchiveIndex implements ArchiveIndex {
  readonly names: ReturnType<typeof archiveIndexNames>;

  constructor(
    @Inject(ELASTICSEARCH_CLIENT) private readonly client: Client,
    private readonly dataSource: DataSource,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
  ) {
    this.names = archiveIndexNames(config.ELASTICSEARCH_INDEX_PREFIX);
  }

  /** Puts the index template (every start: it may have changed) and creates the index once. */
  async ensureIndex(): Promise<void> {
    await this.client.indices.putIndexTemplate(
      archiveIndexTemplate(
        this.config.ELASTICSEARCH_INDEX_PREFIX,
        this.config.ELASTICSEARCH_SHARDS,
        this.config.ELASTICSEARCH_REPLICAS,
      ),
    );
    if (await this.client.indices.existsAlias({ name: this.names.alias })) return;
    try {
      await this.client.indices.create({
        index: this.names.index,
        aliases: { [this.names.alias]: { is_write_index: true } },
      });
    } catch (error) {
      // Another replica created it first.
      const body = error instanceof errors.ResponseError ? (error.body as unknown) : null;
      const type = (body as { error?: { type?: string } } | null)?.error?.type;
      if (type !== 'resource_already_exists_exception') throw error;
    }
  }

  async index(em: EntityManager, records: IndexedRecord[]): Promise<void> {
    if (!records.length) return;
    // The indexer reads the records (and their sender departments) when it sends them.
    await em.query(
      `INSERT INTO archive_index_queue (corp_id, chain_seq)
       SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING`,
      [records.map((r) => r.corpId), records.map((r) => r.chainSeq)],
    );
  }

  /** Queues the documents' deletion (replacing a pending index of the same record). */
  async forget(em: EntityManager, corpId: CorpId, chainSeqs: number[]): Promise<void> {
    if (!chainSeqs.length) return;
    await em.query(
      `INSERT INTO archive_index_queue (corp_id, chain_seq, op)
       SELECT $1, unnest($2::bigint[]), 'delete'
       ON CONFLICT (corp_id, chain_seq) DO UPDATE SET op = 'delete', attempts = 0,
         next_attempt_at = now(), last_error = NULL, failed_at = NULL`,
      [corpId, chainSeqs],
    );
  }

  async search(query: ArchiveQuery): Promise<ArchiveHitPage> {
    const request = buildSearchRequest(this.names.alias, query);
    let response;
    try {
      response = await this.client.search<{ chain_seq: number }>(request);
    } catch (error) {
      if (error instanceof errors.ResponseError && error.statusCode === 400) throw error;
      throw new SearchUnavailableException();
    }
    const hits = response.hits.hits;
    const page = hits.slice(0, query.limit);
    const last = page[page.length - 1];
    const byRelevance = query.sort === 'relevance';
    return {
      hits: page.map((hit) => {
        const fragment = hit.highlight?.['text.unigram']?.[0];
        return {
          chainSeq: Number(hit._source?.chain_seq ?? hit._id?.split(':')[1]),
          score: byRelevance && typeof hit._score === 'number' ? round(hit._score) : null,
          highlight: fragment ? mergeHighlights(fragment) : null,
        };
      }),
      nextCursor:
        hits.length > query.limit && last?.sort
          ? encodeSortCursor(byRelevance ? 'r' : 't', last.sort)
          : null,
    };
  }

  async backlog(corpId: CorpId): Promise<IndexBacklog> {
    const [counts] = await this.dataSource.query<
      { pending: string; failed: string; oldest: Date | null }[]
    >(
      `SELECT count(*) FILTER (WHERE failed_at IS NULL) AS pending,
              count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
              min(enqueued_at) FILTER (WHERE failed_at IS NULL) AS oldest
         FROM archive_index_queue WHERE corp_id = $1`,
      [corpId],
    );
    const failures = await this.dataSource.query<
      { chain_seq: string; attempts: number; last_error: string | null; failed_at: Date }[]
    >(
      `SELECT chain_seq, attempts, last_error, failed_at FROM archive_index_queue
        WHERE corp_id = $1 AND failed_at IS NOT NULL ORDER BY chain_seq LIMIT 100`,
      [corpId],
    );
    return {
      pending: Number(counts.pending),
      failed: Number(counts.failed),
      oldestPendingAt: counts.oldest,
      failures: failures.map((f) => ({
        chainSeq: Number(f.chain_seq),
        attempts: f.attempts,
        error: f.last_error ?? '',
        failedAt: f.failed_at,
      })),
    };
  }

  async retryFailed(corpId: CorpId): Promise<number> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH u AS (
         UPDATE archive_index_queue SET failed_at = NULL, attempts = 0, next_attempt_at = now()
          WHERE corp_id = $1 AND failed_at IS NOT NULL RETURNING 1)
       SELECT * FROM u`,
      [corpId],
    );
    return rows.length;
  }
}
