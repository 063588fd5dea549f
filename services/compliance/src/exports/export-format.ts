import type { Canonical } from '../chain/hash-chain';
import { canonicalRecord, type ArchivedRecord } from '../archive/archive-record';
import { searchableText } from '../archive/searchable-text';

/**
 * One record as a JSONL line: exactly the fields its chain hash covers (the canonical form)
 * plus `hash`. Whoever holds the export can recompute every hash: SHA-256 over the previous
 * hash's bytes (`prevHash`, hex) and the canonical JSON of the line without `hash` (keys
 * sorted, no whitespace).
 */
export function jsonlLine(record: ArchivedRecord): string {
  const canonical = JSON.parse(canonicalRecord(record)) as { [key: string]: Canonical };
  return `${JSON.stringify({ ...canonical, hash: record.hash.toString('hex') })}\n`;
}

/**
 * The CSV's columns. `text` is the text as sent; `content` is everything of the record a person
 * reads, whatever its type (a card's title, articles, a link, a place, file names:
 * `searchableText`).
 */
export const CSV_HEADER = [
  'chain_seq',
  'sent_at',
  'kind',
  'type',
  'conversation_id',
  'conversation_kind',
  'sender',
  'participants',
  'mentions',
  'text',
  'content',
  'message_id',
  'pre_message_id',
  'media_files',
  'hash',
];

/**
 * A CSV cell (RFC 4180 quoting). A cell that a spreadsheet would run as a formula (= + - @,
 * tab, carriage return first) is prefixed with `'`: the CSV is for reading; the JSONL holds
 * the exact text the hashes cover.
 */
export function csvCell(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** UTF-8 BOM first, so spreadsheet programs read the Chinese as UTF-8. */
export const csvHead = () => `\uFEFF${CSV_HEADER.join(',')}\r\n`;

export function csvLine(r: ArchivedRecord): string {
  return `${[
    r.chainSeq,
    r.sentAt.toISOString(),
    r.kind,
    r.type,
    r.conversationId,
    r.conversationKind,
    r.sender,
    r.participants.join(' '),
    r.mentions.join(' '),
    r.text,
    searchableText(r),
    r.messageId,
    r.preMessageId,
    mediaOf(r).length,
    r.hash.toString('hex'),
  ]
    .map(csvCell)
    .join(',')}\r\n`;
}

/** A medium a record holds, as far as the export needs it. */
export interface ExportMedia {
  mediaId: string;
  filename: string;
  sha256: string | null;
  bucket: string | null;
  key: string | null;
}

const str = (v: Canonical | undefined): string | null => (typeof v === 'string' && v ? v : null);

/** The record's media entries (archived copies: `archiveBucket`/`archiveKey` with `sha256`). */
export function mediaOf(r: ArchivedRecord): ExportMedia[] {
  return r.media.flatMap((m, i) => {
    if (!m || typeof m !== 'object' || Array.isArray(m)) return [];
    return [
      {
        mediaId: str(m.mediaId) ?? String(i + 1),
        filename: str(m.filename) ?? str(m.name) ?? `media-${i + 1}`,
        sha256: str(m.sha256),
        bucket: str(m.archiveBucket) ?? str(m.bucket),
        key: str(m.archiveKey) ?? str(m.key),
      },
    ];
  });
}

/** One line of a chunk's manifest part: the record's place in the chain and its media. */
export interface ManifestEntry {
  chainSeq: number;
  hash: string;
  prevHash: string;
  sentAt: string;
  media: ExportMedia[];
}

export const manifestEntry = (r: ArchivedRecord): ManifestEntry => ({
  chainSeq: r.chainSeq,
  hash: r.hash.toString('hex'),
  prevHash: r.prevHash.toString('hex'),
  sentAt: r.sentAt.toISOString(),
  media: mediaOf(r),
});

/** A file name safe inside a zip on every system. */
export const safeName = (name: string) =>
  [...name]
    .map((c) => (c.charCodeAt(0) < 32 || '\\/:*?"<>|'.includes(c) ? '_' : c))
    .join('')
    .slice(0, 120) || 'file';
