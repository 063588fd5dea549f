import { canonicalJson } from '../chain/hash-chain';

/**
 * A run of consecutive chain positions a retention purge removed: the hash the first of them
 * linked to (`prevHash`, the record before the run) and the hash of the last (`lastHash`, what
 * the record after the run links to). Verification walks over the run with these two hashes.
 */
export interface PurgedRange {
  [key: string]: string | number;
  from: number;
  to: number;
  prevHash: string;
  lastHash: string;
}

/** What a tombstone's signature covers: the corp and the runs it removed, byte for byte. */
export const tombstoneSignedText = (corpId: string, ranges: PurgedRange[]): Buffer =>
  Buffer.from(`qiwei-archive-tombstone/v1\n${corpId}\n${canonicalJson(ranges)}`);

/** Consecutive positions as runs: [3, 4, 5, 9] → [3–5], [9–9]. */
export function runsOf<T extends { chainSeq: number }>(sorted: T[]): T[][] {
  const runs: T[][] = [];
  for (const item of sorted) {
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1].chainSeq + 1 === item.chainSeq) run.push(item);
    else runs.push([item]);
  }
  return runs;
}
