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

/**
 * Ends every session of a member and every access token issued so far (a new password): the
 * refresh tokens are revoked and tokens issued before now fail verification (`TOKEN_REVOKED`).
 */
export async function endMemberSessions(
  em: EntityManager,
  corpId: CorpId,
  userid: string,
): Promise<void> {
  await revokeMemberRefreshTokens(em, corpId, userid);
  await em.query(
    'UPDATE members SET tokens_valid_after = $3 WHERE corp_id = $1 AND userid = $2',
    [corpId, userid, new Date()], // the service's clock, the one that stamps tokens' iat
  );
}
