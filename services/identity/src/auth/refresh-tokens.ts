import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';

/** Ends every session of a member (disabled, left, password changed). */
export async function revokeMemberRefreshTokens(
  em: EntityManager,
  corpId: CorpId,
  userid: string,
): Promise<void> {
  await em.query(
    'UPDATE refresh_tokens SET revoked_at = now() WHERE corp_id = $1 AND userid = $2 AND revoked_at IS NULL',
    [corpId, userid],
  );
}
