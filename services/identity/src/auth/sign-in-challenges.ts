import { createHash, randomBytes } from 'node:crypto';
import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';

/** How long the second step of a sign-in may wait for its code. */
export const SIGN_IN_CHALLENGE_TTL_SECONDS = 300;

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export interface SignInChallenge {
  corp_id: string;
  userid: string;
  expires_at: Date;
  used_at: Date | null;
}

/** A random, single-use token for the second step of a sign-in (stored hashed). */
export async function issueSignInChallenge(
  em: EntityManager,
  corpId: CorpId,
  userid: string,
): Promise<string> {
  const challenge = randomBytes(32).toString('base64url');
  await em.query(
    `DELETE FROM sign_in_challenges
      WHERE corp_id = $1 AND userid = $2 AND (expires_at < now() OR used_at IS NOT NULL)`,
    [corpId, userid],
  );
  await em.query(
    `INSERT INTO sign_in_challenges (token_hash, corp_id, userid, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [sha256(challenge), corpId, userid, SIGN_IN_CHALLENGE_TTL_SECONDS],
  );
  return challenge;
}

export async function findSignInChallenge(
  em: EntityManager,
  challenge: string,
): Promise<SignInChallenge | undefined> {
  const [row] = await em.query<SignInChallenge[]>(
    `SELECT corp_id, userid, expires_at, used_at FROM sign_in_challenges
      WHERE token_hash = $1 FOR UPDATE`,
    [sha256(challenge)],
  );
  return row;
}

export async function useSignInChallenge(em: EntityManager, challenge: string): Promise<void> {
  await em.query('UPDATE sign_in_challenges SET used_at = now() WHERE token_hash = $1', [
    sha256(challenge),
  ]);
}
