import { canonicalJson, type Canonical } from '../chain/hash-chain';
import { canonicalRecord, type ArchivedRecord } from './archive-record';

/** The record's fields as an object: what `canonicalRecord` must serialise byte for byte. */
const fields = (r: Omit<ArchivedRecord, 'hash'>): { [key: string]: Canonical } => ({
  v: 1,
  corpId: r.corpId,
  chainSeq: r.chainSeq,
  kind: r.kind,
  eventId: r.eventId,
  messageId: r.messageId,
  preMessageId: r.preMessageId,
  conversationId: r.conversationId,
  conversationKind: r.conversationKind,
  sender: r.sender,
  type: r.type,
  text: r.text,
  mentions: r.mentions,
  quoteSeq: r.quoteSeq,
  seq: r.seq,
  participants: r.participants,
  details: r.details,
  media: r.media,
  consent: r.consent,
  sentAt: r.sentAt.toISOString(),
  recordedAt: r.recordedAt.toISOString(),
  prevHash: r.prevHash.toString('hex'),
});

const base: Omit<ArchivedRecord, 'hash'> = {
  corpId: 'wwabc' as ArchivedRecord['corpId'],
  chainSeq: 42,
  kind: 'message',
  eventId: 'e-1',
  messageId: 'm-1',
  preMessageId: null,
  conversationId: '7b0a3a5e-0000-4000-8000-000000000001',
  conversationKind: 'group',
  sender: 'alice',
  type: 'text',
  text: '这款理财产品收益很高 "quoted" \\ back\nslash \u2028 😀',
  mentions: ['bob', 'carol'],
  quoteSeq: 0,
  seq: 7,
  participants: ['alice', 'bob', 'carol'],
  details: {
    clientMsgId: 'c1',
    nested: { z: [1, null, true], a: '理财' },
    externalParticipants: [],
  },
  media: [{ size: 12, mediaId: 'x', sha256: 'ab' }],
  consent: 'not_required',
  sentAt: new Date('2025-03-01T09:00:00.123Z'),
  recordedAt: new Date('2025-03-01T09:00:01Z'),
  prevHash: Buffer.alloc(32, 7),
};

describe('canonicalRecord', () => {
  it('is the canonical JSON of the record fields, byte for byte (hashes already in chains hold)', () => {
    const variants: Omit<ArchivedRecord, 'hash'>[] = [
      base,
      { ...base, kind: 'recall', messageId: null, preMessageId: 'm-0', text: '', mentions: [] },
      { ...base, kind: 'tombstone', details: { ranges: [{ from: 1, to: 9 }] }, media: [] },
      { ...base, participants: [], details: {}, seq: 0, chainSeq: 9_007_199_254_740_991 },
    ];
    for (const r of variants) expect(canonicalRecord(r)).toBe(canonicalJson(fields(r)));
  });
});
