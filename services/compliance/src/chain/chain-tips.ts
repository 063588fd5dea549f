import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';

export type ChainName = 'archive' | 'access';

export interface ChainTip {
  chainSeq: number;
  hash: Buffer;
}

/**
 * Locks the corp's tip of a chain until the transaction ends (creating it at the genesis the
 * first time) and returns it: appenders of one corp take turns, so the chain never forks.
 */
export async function lockChainTip(
  em: EntityManager,
  corpId: CorpId,
  chain: ChainName,
): Promise<ChainTip> {
  const [row] = await em.query<{ chain_seq: string; hash: Buffer }[]>(
    `INSERT INTO chain_tips (corp_id, chain) VALUES ($1, $2)
     ON CONFLICT (corp_id, chain) DO UPDATE SET chain = EXCLUDED.chain
     RETURNING chain_seq, hash`,
    [corpId, chain],
  );
  return { chainSeq: Number(row.chain_seq), hash: row.hash };
}

export async function moveChainTip(
  em: EntityManager,
  corpId: CorpId,
  chain: ChainName,
  tip: ChainTip,
): Promise<void> {
  await em.query(
    'UPDATE chain_tips SET chain_seq = $3, hash = $4 WHERE corp_id = $1 AND chain = $2',
    [corpId, chain, tip.chainSeq, tip.hash],
  );
}
