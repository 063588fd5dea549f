import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import type { ArchivedRecord, RecordKind } from '../archive/archive-record';

/** What to find: everything but the tenant, the officer's coverage and the page. */
export interface ArchiveFilter {
  keywords: {
    /** Every one must occur. */
    all: string[];
    /** At least one must occur. */
    any: string[];
    /** Each must occur exactly as written (case-insensitive). */
    phrases: string[];
    /** None may occur. */
    exclude: string[];
  };
  senders: string[];
  /** A userid in the conversation at the time. */
  participant?: string;
  conversationId?: string;
  /** Roots of department subtrees: the sender was in one of them when the record was archived. */
  senderDepartments?: number[];
  /** Empty: every kind (the API names `message`, `recall`, `conversation` when none is asked). */
  kinds: RecordKind[];
  types: string[];
  /** Only records with (true) or without (false) archived media. */
  hasAttachment?: boolean;
  from?: Date;
  to?: Date;
}

export interface ArchiveQuery extends ArchiveFilter {
  corpId: CorpId;
  /**
   * The searching officer's coverage: null for the whole corp, else department ids: only
   * records whose sender was in one of these subtrees when archived (see coverage/).
   */
  coverage: number[] | null;
  sort: 'time' | 'relevance';
  limit: number;
  cursor?: string;
}

export interface ArchiveHit {
  chainSeq: number;
  /** Relevance, when sorted by it. */
  score: number | null;
  /** A snippet from the engine (HTML-escaped, hits in <em>), when it makes them. */
  highlight?: string | null;
}

export interface ArchiveHitPage {
  hits: ArchiveHit[];
  nextCursor: string | null;
}

/** A record as indexed: with the departments (and their ancestors) its sender was in. */
export interface IndexedRecord extends ArchivedRecord {
  senderDepartments: number[];
}

/** How far an external index is behind the archive (an embedded index is never behind). */
export interface IndexBacklog {
  pending: number;
  failed: number;
  oldestPendingAt: Date | null;
  failures: { chainSeq: number; attempts: number; error: string; failedAt: Date }[];
}

/**
 * Where archived records are made searchable. The PostgreSQL adapter (the embedded default)
 * indexes in the archive's own transaction; the Elasticsearch adapter queues the records in
 * that transaction and indexes them after commit. Search answers chain positions; the archive
 * reads the records. Every adapter applies the corp, the coverage and every filter.
 */
export interface ArchiveIndex {
  index(em: EntityManager, records: IndexedRecord[]): Promise<void>;
  /** Removes records from the index (the retention purge), in the purge's transaction. */
  forget(em: EntityManager, corpId: CorpId, chainSeqs: number[]): Promise<void>;
  search(query: ArchiveQuery): Promise<ArchiveHitPage>;
  backlog(corpId: CorpId): Promise<IndexBacklog>;
  /** Queues the corp's failed records again; how many. */
  retryFailed(corpId: CorpId): Promise<number>;
}

export const ARCHIVE_INDEX = Symbol('ARCHIVE_INDEX');
