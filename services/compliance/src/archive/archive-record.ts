import type { CorpId } from '@qiwei/persistence';
import { canonicalJson, type Canonical } from '../chain/hash-chain';

/**
 * Every kind of record in the chain, each searchable: `message` (members' messages, app
 * messages, announcements), `recall` (a recall or withdrawal pointing at the original),
 * `conversation` (who was in a conversation, its settings), `media` (a medium's copy verified in
 * the archive's bucket, or a fault: `media.archived` / `media.fault`, pointing at its message)
 * and `tombstone` (what a retention purge removed, `retention.purge`).
 */
export const ALL_RECORD_KINDS = [
  'message',
  'recall',
  'conversation',
  'media',
  'tombstone',
] as const;
export type RecordKind = (typeof ALL_RECORD_KINDS)[number];
/**
 * What a search that names no kind finds: what people said and did. Media outcomes and
 * tombstones are found when a search names their kind.
 */
export const RECORD_KINDS = ['message', 'recall', 'conversation'] as const;

/**
 * The conversation kinds of records: messaging's conversations (`single`, `group`, `external`:
 * an external group, `department`: a department group), `app` (app messages, 应用消息: one
 * conversation per app) and `announcement` (公告: one per announcement).
 */
export const CONVERSATION_KINDS = [
  'single',
  'group',
  'external',
  'department',
  'app',
  'announcement',
] as const;

/** Consent of a record: no external contact took part, all consented, or content withheld. */
export type RecordConsent = 'not_required' | 'agreed' | 'withheld';

/**
 * A record of a chat with external contacts (customers): an external group, or any conversation
 * external contacts were in when it was archived (its consent was then required).
 */
export const isExternalChat = (r: { conversationKind: string; consent: string }): boolean =>
  r.conversationKind === 'external' || r.consent !== 'not_required';

/** A medium as a message record keeps it: what the event said, and where the archive copies it. */
export interface RecordMedia {
  [key: string]: Canonical;
  mediaId: string;
  kind: string;
  filename: string;
  contentType: string;
  /** Bytes and hex SHA-256 as messaging verified them; the copy must match both. */
  size: number;
  sha256: string;
  sourceBucket: string;
  sourceKey: string;
  archiveBucket: string;
  archiveKey: string;
}

/** What the archive keeps of one event, before it takes its place in the chain. */
export interface NewArchiveRecord {
  corpId: CorpId;
  kind: RecordKind;
  /** The CloudEvent id it came from. */
  eventId: string;
  /** Messaging's message id; for a recall the original's (WeCom's `pre_msgid`) is `preMessageId`. */
  messageId: string | null;
  preMessageId: string | null;
  conversationId: string;
  conversationKind: string;
  /** Who said it; for a recall the original sender (`details.recalledBy` did the recall). */
  sender: string;
  /**
   * The message type as sent (`text`, `markdown`, `image`, `voice`, `video`, `file`, `news`,
   * `textcard`, `location`, `link`, `contact_card`, `announcement`), `recall`,
   * `conversation.<happened>`, `media.archived` / `media.fault` or `retention.purge`.
   */
  type: string;
  text: string;
  mentions: string[];
  quoteSeq: number;
  seq: number;
  /** Everyone in the conversation at that moment. */
  participants: string[];
  /**
   * What else the event said: for a message its content beyond text and media (`title`,
   * `textcard`, `articles`, `link`, `location`, `contactCard`, `caption`, `safe`), its client
   * message id, external participants and their consent; for a conversation change its
   * settings; and so on by kind. `searchableText` reads the human-readable parts.
   */
  details: Record<string, Canonical>;
  /** The message's media (`RecordMedia`): copied into the archive's bucket after it is recorded. */
  media: Canonical[];
  /** External-contact consent at the time (`RecordConsent`). */
  consent: string;
  sentAt: Date;
}

export interface ArchivedRecord extends NewArchiveRecord {
  chainSeq: number;
  recordedAt: Date;
  prevHash: Buffer;
  hash: Buffer;
}

/**
 * The bytes the chain hashes: every field of the record but its own hash, as the canonical
 * JSON (`canonicalJson`) of an object of those fields. Written out here with the keys already in
 * canonical order, as ingest hashes every record: byte for byte the same text (tested), a
 * fraction of the work of sorting an object's keys per record.
 */
export function canonicalRecord(r: Omit<ArchivedRecord, 'hash'>): string {
  const c = canonicalJson;
  return (
    `{"chainSeq":${c(r.chainSeq)},"consent":${c(r.consent)},"conversationId":${c(r.conversationId)}` +
    `,"conversationKind":${c(r.conversationKind)},"corpId":${c(r.corpId)},"details":${c(r.details)}` +
    `,"eventId":${c(r.eventId)},"kind":${c(r.kind)},"media":${c(r.media)},"mentions":${c(r.mentions)}` +
    `,"messageId":${c(r.messageId)},"participants":${c(r.participants)}` +
    `,"preMessageId":${c(r.preMessageId)},"prevHash":${c(r.prevHash.toString('hex'))}` +
    `,"quoteSeq":${c(r.quoteSeq)},"recordedAt":${c(r.recordedAt.toISOString())}` +
    `,"sender":${c(r.sender)},"sentAt":${c(r.sentAt.toISOString())},"seq":${c(r.seq)}` +
    `,"text":${c(r.text)},"type":${c(r.type)},"v":1}`
  );
}

export interface ArchiveRecordRow {
  corp_id: string;
  chain_seq: string;
  kind: RecordKind;
  event_id: string;
  message_id: string | null;
  pre_message_id: string | null;
  conversation_id: string;
  conversation_kind: string;
  sender: string;
  type: string;
  text: string;
  mentions: string[];
  quote_seq: string;
  seq: string;
  participants: string[];
  details: Record<string, Canonical>;
  media: Canonical[];
  consent: string;
  sent_at: Date;
  recorded_at: Date;
  prev_hash: Buffer;
  hash: Buffer;
}

export const recordOf = (row: ArchiveRecordRow): ArchivedRecord => ({
  corpId: row.corp_id as CorpId,
  chainSeq: Number(row.chain_seq),
  kind: row.kind,
  eventId: row.event_id,
  messageId: row.message_id,
  preMessageId: row.pre_message_id,
  conversationId: row.conversation_id,
  conversationKind: row.conversation_kind,
  sender: row.sender,
  type: row.type,
  text: row.text,
  mentions: row.mentions,
  quoteSeq: Number(row.quote_seq),
  seq: Number(row.seq),
  participants: row.participants,
  details: row.details,
  media: row.media,
  consent: row.consent,
  sentAt: row.sent_at,
  recordedAt: row.recorded_at,
  prevHash: row.prev_hash,
  hash: row.hash,
});
