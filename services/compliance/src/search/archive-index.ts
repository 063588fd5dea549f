import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import type { ArchivedRecord, RecordKind } from '../archive/archive-record';

export interface ArchiveQuery {
  corpId: CorpId;
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
  participant?: string;
  conversationId?: string;
  kinds: RecordKind[];
  types: string[];
  from?: Date;
  to?: Date;
  sort: 'time' | 'relevance';
  limit: number;
  cursor?: string;
}

export interface ArchiveHit {
  chainSeq: number;
  /** Relevance, when sorted by it. */
  score: number | null;
}

export interface ArchiveHitPage {
  hits: ArchiveHit[];
  nextCursor: string | null;
}

/**
 * Where archived records are made searchable. The PostgreSQL adapter (the embedded default)
 * indexes in the archive's own transaction; an external engine (Elasticsearch) would index
 * after commit from the records. Search answers chain positions; the archive reads the records.
 */
export interface ArchiveIndex {
  index(em: EntityManager, records: ArchivedRecord[]): Promise<void>;
  search(query: ArchiveQuery): Promise<ArchiveHitPage>;
}

export const ARCHIVE_INDEX = Symbol('ARCHIVE_INDEX');
