import type { CorpId } from '@qiwei/persistence';
import type { DataSource } from 'typeorm';
import { canonicalAccessEntry, accessEntryOf, type AccessEntryRow } from '../access-log/access-log';
import { canonicalRecord, recordOf, type ArchiveRecordRow } from '../archive/archive-record';
import { signedHeadText, verifyWith, type SigningKey } from './chain-signing-keys';
import type { ChainName } from './chain-tips';
import { GENESIS_HASH, linkHash } from './hash-chain';

export interface BrokenLink {
  chainSeq: number;
  reason: string;
}

export interface ChainReport {
  chain: ChainName;
  ok: boolean;
  records: number;
  headHash: string | null;
  signedHeadsChecked: number;
  lastSignedSeq: number | null;
  firstBroken: BrokenLink | null;
}

const BATCH = 2_000;

const SOURCES: Record<
  ChainName,
  {
    table: string;
    canonical: (row: never) => { text: string; prev: Buffer; hash: Buffer; seq: number };
  }
> = {
  archive: {
    table: 'archive_records',
    canonical: (row: ArchiveRecordRow) => {
      const r = recordOf(row);
      return { text: canonicalRecord(r), prev: r.prevHash, hash: r.hash, seq: r.chainSeq };
    },
  },
  access: {
    table: 'access_log',
    canonical: (row: AccessEntryRow) => {
      const e = accessEntryOf(row);
      return { text: canonicalAccessEntry(e), prev: e.prevHash, hash: e.hash, seq: e.chainSeq };
    },
  },
};

/**
 * Recomputes a corp's chain from its first record: positions without gaps, each record's link
 * to the one before, each record's hash over its canonical form, every signed head's signature
 * (with the configured keys) and that the chain still holds the record each head signed, and
 * that the chain is as long as its tip and its latest signed head say. Reports the first break.
 */
export async function verifyChain(
  dataSource: DataSource,
  keys: SigningKey[],
  corpId: CorpId,
  chain: ChainName,
): Promise<ChainReport> {
  const source = SOURCES[chain];
  const heads = await dataSource.query<
    { chain_seq: string; hash: Buffer; signed_at: Date; key_id: string; signature: Buffer }[]
  >(
    'SELECT chain_seq, hash, signed_at, key_id, signature FROM chain_heads WHERE corp_id = $1 AND chain = $2 ORDER BY chain_seq',
    [corpId, chain],
  );
  const [tip] = await dataSource.query<{ chain_seq: string; hash: Buffer }[]>(
    'SELECT chain_seq, hash FROM chain_tips WHERE corp_id = $1 AND chain = $2',
    [corpId, chain],
  );
  const breaks: BrokenLink[] = [];
  const headAt = new Map<number, (typeof heads)[number]>();
  for (const head of heads) {
    const seq = Number(head.chain_seq);
    const key = keys.find((k) => k.id === head.key_id);
    const text = signedHeadText({
      corpId,
      chain,
      chainSeq: seq,
      hash: head.hash,
      signedAt: head.signed_at,
    });
    if (!key)
      breaks.push({
        chainSeq: seq,
        reason: `the head at ${seq} is signed by an unknown key ${head.key_id}`,
      });
    else if (!verifyWith(key, text, head.signature))
      breaks.push({ chainSeq: seq, reason: `the signature of the head at ${seq} does not verify` });
    headAt.set(seq, head);
  }

  let expected = 1;
  let prev: Buffer = GENESIS_HASH;
  let records = 0;
  for (;;) {
    const rows = await dataSource.query<never[]>(
      `SELECT * FROM ${source.table} WHERE corp_id = $1 AND chain_seq >= $2 ORDER BY chain_seq LIMIT ${BATCH}`,
      [corpId, expected],
    );
    for (const row of rows) {
      const link = source.canonical(row);
      if (link.seq !== expected) {
        breaks.push({ chainSeq: expected, reason: `record ${expected} is missing` });
        // Go on from the record that is there, to find what else is wrong.
      }
      if (!link.prev.equals(prev))
        breaks.push({
          chainSeq: link.seq,
          reason: `record ${link.seq} does not link to the record before it`,
        });
      const computed = linkHash(link.prev, link.text);
      if (!computed.equals(link.hash))
        breaks.push({
          chainSeq: link.seq,
          reason: `record ${link.seq} was altered: its content does not match its hash`,
        });
      const head = headAt.get(link.seq);
      if (head && !head.hash.equals(computed))
        breaks.push({
          chainSeq: link.seq,
          reason: `record ${link.seq} differs from the signed head at ${link.seq}`,
        });
      prev = link.hash;
      expected = link.seq + 1;
      records += 1;
    }
    if (rows.length < BATCH) break;
  }
  const last = expected - 1;
  const lastSigned = heads.length ? Number(heads[heads.length - 1].chain_seq) : null;
  if (lastSigned !== null && lastSigned > last)
    breaks.push({
      chainSeq: last + 1,
      reason: `records ${last + 1}–${lastSigned} are missing (signed head at ${lastSigned})`,
    });
  if (tip && Number(tip.chain_seq) > last)
    breaks.push({
      chainSeq: last + 1,
      reason: `records after ${last} are missing (the tip is at ${tip.chain_seq})`,
    });
  breaks.sort((a, b) => a.chainSeq - b.chainSeq);
  return {
    chain,
    ok: breaks.length === 0,
    records,
    headHash: records ? prev.toString('hex') : null,
    signedHeadsChecked: heads.length,
    lastSignedSeq: lastSigned,
    firstBroken: breaks[0] ?? null,
  };
}
