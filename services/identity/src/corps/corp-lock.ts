import type { CorpId } from '@qiwei/persistence';
import { NotFoundException } from '@qiwei/platform';
import type { EntityManager } from 'typeorm';

/**
 * Serialises a corp's directory writes (departments and members) on its row: ids, limits,
 * paths, the last-super-admin rule and event order stay consistent; corps never wait on each
 * other.
 */
export async function lockCorpForWrite(em: EntityManager, corpId: CorpId): Promise<void> {
  const rows = await em.query<unknown[]>('SELECT 1 FROM corps WHERE corp_id = $1 FOR UPDATE', [
    corpId,
  ]);
  if (rows.length === 0)
    throw new NotFoundException('CORP_NOT_FOUND', `Corp ${corpId} does not exist.`);
}
