import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { recordAudit } from '../audit/audit-log';
import type { IdentityConfig } from '../config';

/** A member's sign-in standing, read `FOR UPDATE` by whoever checks one of their secrets. */
export interface LockOutState {
  failed_sign_ins: number;
  locked_until: Date | null;
}

type LockOutConfig = Pick<IdentityConfig, 'SIGN_IN_MAX_FAILURES' | 'SIGN_IN_LOCK_MINUTES'>;

export const lockedUntil = (state: LockOutState): Date | undefined =>
  state.locked_until && state.locked_until.getTime() > Date.now() ? state.locked_until : undefined;

/**
 * Counts a wrong password or code toward the lock-out: wrong passwords, second factors and
 * codes all share one counter, so mixing them buys no extra attempts. Audited as `action`, and
 * as `auth.locked` when this failure locks the account.
 */
export async function recordFailedAttempt(
  em: EntityManager,
  config: LockOutConfig,
  corpId: CorpId,
  userid: string,
  state: LockOutState,
  action: string,
): Promise<void> {
  const failures = state.failed_sign_ins + 1;
  const lock = failures >= config.SIGN_IN_MAX_FAILURES;
  await em.query(
    `UPDATE members SET failed_sign_ins = $3,
            locked_until = CASE WHEN $4 THEN now() + make_interval(mins => $5) ELSE locked_until END
      WHERE corp_id = $1 AND userid = $2`,
    [corpId, userid, lock ? 0 : failures, lock, config.SIGN_IN_LOCK_MINUTES],
  );
  for (const audited of lock ? [action, 'auth.locked'] : [action]) {
    await recordAudit(em, corpId, { action: audited, targetType: 'member', targetId: userid });
  }
}

export async function clearFailedAttempts(
  em: EntityManager,
  corpId: CorpId,
  userid: string,
): Promise<void> {
  await em.query(
    'UPDATE members SET failed_sign_ins = 0, locked_until = NULL WHERE corp_id = $1 AND userid = $2',
    [corpId, userid],
  );
}
