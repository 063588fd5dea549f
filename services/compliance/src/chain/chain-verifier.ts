import type { CorpId } from '@qiwei/persistence';
import type { ObjectStorage } from '@qiwei/storage';
import type { DataSource } from 'typeorm';
import { canonicalAccessEntry, accessEntryOf, type AccessEntryRow } from '../access-log/access-log';
import { canonicalRecord, recordOf, type ArchiveRecordRow } from '../archive/archive-record';
import { signedHeadText, verifyWith, type SigningKey } from './chain-signing-keys';
import type { ChainName } from './chain-tips';
import { GENESIS_HASH, linkHash } from './hash-chain';
import { readStoredHeads, type StoredHead } from './stored-heads';
import { tombstoneSignedText, type PurgedRange } from '../retention/tombstone';

export interface BrokenLink {
  chainSeq: number;
  reason: string;
}

export interface ChainReport {
  chain: ChainName;
  ok: boolean;
  records: number;
  /** Positions a retention purge removed (walked over with their tombstones). */
  purged: number;
  headHash: string | null;
  signedHeadsChecked: number;
  /** Signed heads read back from object storage and checked against the chain (null: not asked). */
  storedHeadsChecked: number | null;
  lastSignedSeq: number | null;
  firstBroken: BrokenLink | null;
}

/** Where the signed heads were also written, to check the chain against them. */
export interface HeadStore {
  objects: ObjectStorage;
  bucket: string;
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

interface Head {
  seq: number;
  hash: Buffer;
  signedAt: Date;
  keyId: string;
  signature: Buffer;
  where: 'database' | 'object storage';
}

interface Purge extends PurgedRange {
  tombstone: number;
}

/**
 * Recomputes a corp's chain from its first record: positions without gaps (or removed by a
 * retention purge whose signed tombstone names the run and the hashes on either side), each
 * record's link to the one before, each record's hash over its canonical form, every signed
 * head's signature (with the configured keys) — those in `chain_heads` and, given a head store,
 * those written to object storage — and that the chain still holds the record each head signed,
 * and that the chain is as long as its tip and its latest signed head say. Reports the first break.
 */
export async function verifyChain(
  dataSource: DataSource,
  keys: SigningKey[],
  corpId: CorpId,
  chain: ChainName,
  store?: HeadStore,
): Promise<ChainReport> {
  const source = SOURCES[chain];
  const breaks: BrokenLink[] = [];
  const dbHeads = (
    await dataSource.query<
      { chain_seq: string; hash: Buffer; signed_at: Date; key_id: string; signature: Buffer }[]
    >(
      'SELECT chain_seq, hash, signed_at, key_id, signature FROM chain_heads WHERE corp_id = $1 AND chain = $2 ORDER BY chain_seq',
      [corpId, chain],
    )
  ).map((h): Head => ({
    seq: Number(h.chain_seq),
    hash: h.hash,
    signedAt: h.signed_at,
    keyId: h.key_id,
    signature: h.signature,
    where: 'database',
  }));
  let stored: StoredHead[] = [];
  if (store) {
    const read = await readStoredHeads(store.objects, store.bucket, corpId, chain);
    stored = read.heads;
    for (const key of read.unreadable)
      breaks.push({ chainSeq: 0, reason: `the stored head ${key} is not a readable signed head` });
  }
  const storedHeads = stored.map((h): Head => ({
    seq: h.chainSeq,
    hash: Buffer.from(h.hash, 'hex'),
    signedAt: new Date(h.signedAt),
    keyId: h.keyId,
    signature: Buffer.from(h.signature, 'base64'),
    where: 'object storage',
  }));
  const [tip] = await dataSource.query<{ chain_seq: string; hash: Buffer }[]>(
    'SELECT chain_seq, hash FROM chain_tips WHERE corp_id = $1 AND chain = $2',
    [corpId, chain],
  );

  const headsAt = new Map<number, Head[]>();
  for (const head of [...dbHeads, ...storedHeads]) {
    const key = keys.find((k) => k.id === head.keyId);
    const text = signedHeadText({
      corpId,
      chain,
      chainSeq: head.seq,
      hash: head.hash,
      signedAt: head.signedAt,
    });
    if (!key)
      breaks.push({
        chainSeq: head.seq,
        reason: `the head at ${head.seq} (${head.where}) is signed by an unknown key ${head.keyId}`,
      });
    else if (!verifyWith(key, text, head.signature))
      breaks.push({
        chainSeq: head.seq,
        reason: `the signature of the head at ${head.seq} (${head.where}) does not verify`,
      });
    const list = headsAt.get(head.seq);
    if (list) list.push(head);
    else headsAt.set(head.seq, [head]);
  }
  const checkHeads = (seq: number, hash: Buffer, what: string) => {
    for (const head of headsAt.get(seq) ?? [])
      if (!head.hash.equals(hash))
        breaks.push({
          chainSeq: seq,
          reason: `${what} differs from the signed head at ${seq} (${head.where})`,
        });
  };

  const purges = chain === 'archive' ? await tombstones(dataSource, keys, corpId, breaks) : [];
  const purgeFrom = new Map(purges.map((p) => [p.from, p]));

  let expected = 1;
  let prev: Buffer = GENESIS_HASH;
  let records = 0;
  let purged = 0;
  for (;;) {
    const rows = await dataSource.query<never[]>(
      `SELECT * FROM ${source.table} WHERE corp_id = $1 AND chain_seq >= $2 ORDER BY chain_seq LIMIT ${BATCH}`,
      [corpId, expected],
    );
    for (const row of rows) {
      const link = source.canonical(row);
      // Walk over what retention purged, run by run, with the tombstones' boundary hashes.
      for (let run = purgeFrom.get(expected); run && run.from < link.seq;) {
        if (!Buffer.from(run.prevHash, 'hex').equals(prev))
          breaks.push({
            chainSeq: run.from,
            reason: `the records ${run.from}–${run.to} purged by the tombstone at ${run.tombstone} do not link to the record before them`,
          });
        const last = Buffer.from(run.lastHash, 'hex');
        checkHeads(run.to, last, `the purged record ${run.to}`);
        prev = last;
        purged += run.to - run.from + 1;
        expected = run.to + 1;
        run = purgeFrom.get(expected);
      }
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
      checkHeads(link.seq, computed, `record ${link.seq}`);
      prev = link.hash;
      expected = link.seq + 1;
      records += 1;
    }
    if (rows.length < BATCH) break;
  }
  const last = expected - 1;
  const signedSeqs = [...headsAt.keys()];
  const lastSigned = signedSeqs.length ? Math.max(...signedSeqs) : null;
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
    purged,
    headHash: records ? prev.toString('hex') : null,
    signedHeadsChecked: dbHeads.length,
    storedHeadsChecked: store ? storedHeads.length : null,
    lastSignedSeq: lastSigned,
    firstBroken: breaks[0] ?? null,
  };
}

/** The runs every tombstone of the corp says were purged, their signatures checked. */
async function tombstones(
  dataSource: DataSource,
  keys: SigningKey[],
  corpId: CorpId,
  breaks: BrokenLink[],
): Promise<Purge[]> {
  const rows = await dataSource.query<{ chain_seq: string; details: Record<string, unknown> }[]>(
    `SELECT chain_seq, details FROM archive_records WHERE corp_id = $1 AND kind = 'tombstone'
      ORDER BY chain_seq`,
    [corpId],
  );
  const purges: Purge[] = [];
  for (const row of rows) {
    const seq = Number(row.chain_seq);
    const { ranges, keyId, signature } = row.details as {
      ranges?: PurgedRange[];
      keyId?: string;
      signature?: string;
    };
    const key = keys.find((k) => k.id === keyId);
    if (
      !Array.isArray(ranges) ||
      !key ||
      typeof signature !== 'string' ||
      !verifyWith(key, tombstoneSignedText(corpId, ranges), Buffer.from(signature, 'base64'))
    ) {
      breaks.push({ chainSeq: seq, reason: `the tombstone at ${seq} is not validly signed` });
      continue;
    }
    for (const range of ranges) purges.push({ ...range, tombstone: seq });
  }
  purges.sort((a, b) => a.from - b.from);
  for (let i = 1; i < purges.length; i++)
    if (purges[i].from <= purges[i - 1].to)
      breaks.push({
        chainSeq: purges[i].from,
        reason: `the tombstones at ${purges[i - 1].tombstone} and ${purges[i].tombstone} overlap`,
      });
  return purges;
}
