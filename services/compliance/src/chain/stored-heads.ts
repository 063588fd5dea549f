import type { ObjectStorage } from '@qiwei/storage';
import type { ChainName } from './chain-tips';

/** A signed head as written to object storage: one JSON object per head. */
export interface StoredHead {
  format: 'qiwei-archive-head/v1';
  corpId: string;
  chain: ChainName;
  chainSeq: number;
  /** Hex. */
  hash: string;
  signedAt: string;
  keyId: string;
  /** Base64 Ed25519 signature over `signedHeadText`. */
  signature: string;
}

export const storedHeadPrefix = (corpId: string, chain: ChainName) =>
  `chain-heads/${corpId}/${chain}/`;

/** Zero-padded positions: listing in key order is listing in chain order. */
export const storedHeadKey = (corpId: string, chain: ChainName, chainSeq: number) =>
  `${storedHeadPrefix(corpId, chain)}${String(chainSeq).padStart(20, '0')}.json`;

/** Every head stored for the corp's chain, in chain order; unreadable objects are reported. */
export async function readStoredHeads(
  objects: ObjectStorage,
  bucket: string,
  corpId: string,
  chain: ChainName,
): Promise<{ heads: StoredHead[]; unreadable: string[] }> {
  const keys: string[] = [];
  for await (const item of objects.list(bucket, storedHeadPrefix(corpId, chain)))
    keys.push(item.key);
  const heads: StoredHead[] = [];
  const unreadable: string[] = [];
  for (let i = 0; i < keys.length; i += 16) {
    const batch = await Promise.all(
      keys.slice(i, i + 16).map(async (key) => {
        try {
          const head = JSON.parse((await objects.read(bucket, key)).toString('utf8')) as StoredHead;
          const wellFormed =
            head.format === 'qiwei-archive-head/v1' &&
            head.corpId === corpId &&
            head.chain === chain &&
            Number.isSafeInteger(head.chainSeq) &&
            key === storedHeadKey(corpId, chain, head.chainSeq) &&
            /^[0-9a-f]{64}$/.test(head.hash) &&
            typeof head.signature === 'string' &&
            typeof head.keyId === 'string' &&
            !Number.isNaN(new Date(head.signedAt).getTime());
          return wellFormed ? head : key;
        } catch {
          return key;
        }
      }),
    );
    for (const h of batch) {
      if (typeof h === 'string') unreadable.push(h);
      else heads.push(h);
    }
  }
  heads.sort((a, b) => a.chainSeq - b.chainSeq);
  return { heads, unreadable };
}
