import { ALL_RECORD_KINDS, type RecordKind } from '../archive/archive-record';
import type { ArchiveFilter } from '../search/archive-index';

/**
 * The kinds of record a matter holds: all but tombstones (a purge's record, never purged
 * itself, is evidence of the archive, not of the matter).
 */
export const HELD_KINDS: RecordKind[] = ALL_RECORD_KINDS.filter((k) => k !== 'tombstone');

/** What a legal matter holds. Every dimension it names must match; an empty one matches all. */
export interface MatterScope {
  /** Members whose conversations are held: a record is theirs when they took part in it. */
  custodians: string[];
  conversationIds: string[];
  /** Sent at or after. */
  from: Date | null;
  /** Sent before. */
  to: Date | null;
}

/**
 * SQL: whether an active legal matter of the record's corp holds the record `r` — the same
 * rule as `matterSearchFilters` (a custodian among the participants at the time, the
 * conversation among the matter's, `from` ≤ sent < `to`).
 */
export const heldBy = (r: string, matterId?: string): string => `EXISTS (
  SELECT 1 FROM legal_matters m
   WHERE m.corp_id = ${r}.corp_id AND ${matterId ? `m.id = ${matterId}` : `m.status = 'active'`}
     AND (cardinality(m.custodians) = 0 OR ${r}.participants && m.custodians)
     AND (cardinality(m.conversation_ids) = 0 OR ${r}.conversation_id = ANY(m.conversation_ids))
     AND (m.held_from IS NULL OR ${r}.sent_at >= m.held_from)
     AND (m.held_to IS NULL OR ${r}.sent_at < m.held_to))`;

/** A search's filter without tenant, coverage and page (the officer's coverage is applied apart). */
export type ArchiveSearchFilter = ArchiveFilter;

/**
 * The archive search filters whose results, together, are exactly what the matter holds
 * (messages, recalls, conversation changes and media outcomes: `HELD_KINDS`): one filter per
 * custodian and conversation named (a search takes one participant and one conversation), each
 * with the matter's time range. Export of a matter runs these and merges the hits by chain
 * position (`POST /v1/archive/matters/{id}/exports`).
 */
export function matterSearchFilters(scope: MatterScope): ArchiveSearchFilter[] {
  const custodians: (string | undefined)[] = scope.custodians.length
    ? scope.custodians
    : [undefined];
  const conversations: (string | undefined)[] = scope.conversationIds.length
    ? scope.conversationIds
    : [undefined];
  return custodians.flatMap((participant) =>
    conversations.map((conversationId): ArchiveSearchFilter => ({
      keywords: { all: [], any: [], phrases: [], exclude: [] },
      senders: [],
      ...(participant ? { participant } : {}),
      ...(conversationId ? { conversationId } : {}),
      kinds: [...HELD_KINDS],
      types: [],
      ...(scope.from ? { from: scope.from } : {}),
      ...(scope.to ? { to: scope.to } : {}),
    })),
  );
}
