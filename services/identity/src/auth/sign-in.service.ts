import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { asCorpId, TransactionRunner, type CorpId } from '@qiwei/persistence';
import { UnauthorizedException } from '@qiwei/platform';
import type { EntityManager } from 'typeorm';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { recordAudit } from '../audit/audit-log';
import { lockCorpForWrite } from '../corps/corp-lock';
import { MemberNotFoundException } from '../members/member.exceptions';
import type { Role } from '@qiwei/auth';
import { AccessTokensService, type IssuedAccessToken } from '../tokens/access-tokens.service';
import {
  AccountLockedException,
  RefreshTokenInvalidException,
  SignInFailedException,
  WeakPasswordException,
} from './auth.exceptions';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './password-hasher';
import { revokeMemberRefreshTokens } from './refresh-tokens';

export interface Session extends IssuedAccessToken {
  refreshToken: string;
  refreshExpiresIn: number;
}

interface Credentials {
  status: string;
  roles: Role[];
  password_hash: string | null;
  failed_sign_ins: number;
  locked_until: Date | null;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Checks a password the way people choose them: long enough, not one repeated character. */
export function assertStrongPassword(password: string): void {
  if ([...password].length < 10) throw new WeakPasswordException('At least 10 characters.');
  if ([...password].length > 128) throw new WeakPasswordException('At most 128 characters.');
  if (new Set(password).size < 4)
    throw new WeakPasswordException('Use at least 4 different characters.');
}

/**
 * Members sign in with corp id, userid and password (scrypt), and get a short-lived access
 * token plus a refresh token. Refresh tokens rotate on every use; using one twice revokes its
 * whole family (a stolen token ends the session for thief and owner alike). Repeated failures
 * lock the account for a while.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly tokens: AccessTokensService,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  async setPassword(corpId: CorpId, userid: string, password: string): Promise<void> {
    assertStrongPassword(password);
    const hash = await hashPassword(password);
    await this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      // A CTE, so the driver hands back rows (it reports an UPDATE's row count otherwise).
      const updated = await em.query<unknown[]>(
        `WITH updated AS (
           UPDATE members SET password_hash = $3, failed_sign_ins = 0, locked_until = NULL
            WHERE corp_id = $1 AND userid = $2 RETURNING 1)
         SELECT 1 FROM updated`,
        [corpId, userid, hash],
      );
      if (updated.length === 0) throw new MemberNotFoundException(userid);
      await revokeMemberRefreshTokens(em, corpId, userid);
      await recordAudit(em, corpId, {
        action: 'member.password_set',
        targetType: 'member',
        targetId: userid,
      });
    });
  }

  async signIn(corpIdInput: string, userid: string, password: string): Promise<Session> {
    const corpId = asCorpId(corpIdInput);
    // The outcome of the check is committed before it is reported, so failures count.
    const outcome = await this.transactions.run(async (em) => {
      const [member] = await em.query<Credentials[]>(
        `SELECT status, roles, password_hash, failed_sign_ins, locked_until FROM members
          WHERE corp_id = $1 AND userid = $2 FOR UPDATE`,
        [corpId, userid],
      );
      if (!member) {
        await verifyPassword(password, await DUMMY_HASH_PROMISE);
        await recordAudit(em, corpId, {
          action: 'auth.sign_in_failed',
          targetType: 'member',
          targetId: userid,
        });
        return { ok: false as const };
      }
      if (member.locked_until && member.locked_until.getTime() > Date.now()) {
        return { ok: false as const, lockedUntil: member.locked_until };
      }
      let valid = false;
      if (member.password_hash !== null && member.status === 'active') {
        valid = await verifyPassword(password, member.password_hash);
      } else {
        await verifyPassword(password, await DUMMY_HASH_PROMISE); // same time as a real check
      }
      if (!valid) {
        const failures = member.failed_sign_ins + 1;
        const lock = failures >= this.config.SIGN_IN_MAX_FAILURES;
        await em.query(
          `UPDATE members SET failed_sign_ins = $3,
                  locked_until = CASE WHEN $4 THEN now() + make_interval(mins => $5) ELSE locked_until END
            WHERE corp_id = $1 AND userid = $2`,
          [corpId, userid, lock ? 0 : failures, lock, this.config.SIGN_IN_LOCK_MINUTES],
        );
        await recordAudit(em, corpId, {
          action: lock ? 'auth.locked' : 'auth.sign_in_failed',
          targetType: 'member',
          targetId: userid,
        });
        return { ok: false as const };
      }
      await em.query(
        'UPDATE members SET failed_sign_ins = 0, locked_until = NULL WHERE corp_id = $1 AND userid = $2',
        [corpId, userid],
      );
      const refresh = await this.newRefreshToken(em, corpId, userid, randomUUID());
      await recordAudit(em, corpId, {
        action: 'auth.signed_in',
        targetType: 'member',
        targetId: userid,
        actorId: userid,
      });
      return { ok: true as const, roles: member.roles, refresh };
    });
    if (!outcome.ok) {
      if ('lockedUntil' in outcome && outcome.lockedUntil)
        throw new AccountLockedException(outcome.lockedUntil);
      throw new SignInFailedException();
    }
    return this.session(corpId, userid, outcome.roles, outcome.refresh);
  }

  async refresh(refreshToken: string): Promise<Session> {
    const outcome = await this.transactions.run(async (em) => {
      const [row] = await em.query<
        {
          id: string;
          corp_id: string;
          userid: string;
          family_id: string;
          expires_at: Date;
          revoked_at: Date | null;
        }[]
      >(
        `SELECT id, corp_id, userid, family_id, expires_at, revoked_at FROM refresh_tokens
          WHERE token_hash = $1 FOR UPDATE`,
        [sha256(refreshToken)],
      );
      if (!row) return { error: 'invalid' as const };
      if (row.revoked_at) {
        // Used twice: someone else has it. End the whole session family.
        await em.query(
          'UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
          [row.family_id],
        );
        return { error: 'reused' as const };
      }
      if (row.expires_at.getTime() <= Date.now()) return { error: 'expired' as const };
      const [member] = await em.query<{ status: string; roles: Role[] }[]>(
        'SELECT status, roles FROM members WHERE corp_id = $1 AND userid = $2',
        [row.corp_id, row.userid],
      );
      if (!member || member.status !== 'active') return { error: 'revoked' as const };
      await em.query('UPDATE refresh_tokens SET revoked_at = now() WHERE id = $1', [row.id]);
      const corpId = asCorpId(row.corp_id);
      const refresh = await this.newRefreshToken(em, corpId, row.userid, row.family_id);
      return { error: undefined, corpId, userid: row.userid, roles: member.roles, refresh };
    });
    switch (outcome.error) {
      case 'invalid':
        throw new RefreshTokenInvalidException(
          'REFRESH_TOKEN_INVALID',
          'The refresh token is not valid.',
        );
      case 'reused':
        throw new RefreshTokenInvalidException(
          'REFRESH_TOKEN_REUSED',
          'The refresh token was already used; sign in again.',
        );
      case 'expired':
        throw new RefreshTokenInvalidException(
          'REFRESH_TOKEN_EXPIRED',
          'The refresh token has expired; sign in again.',
        );
      case 'revoked':
        throw new UnauthorizedException('This member can no longer sign in.', 'TOKEN_REVOKED');
      case undefined:
        return this.session(outcome.corpId, outcome.userid, outcome.roles, outcome.refresh);
    }
  }

  /** Ends the session the refresh token belongs to (its whole family). */
  async signOut(refreshToken: string): Promise<void> {
    await this.transactions.run(async (em) => {
      await em.query(
        `UPDATE refresh_tokens SET revoked_at = now()
          WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
        [sha256(refreshToken)],
      );
    });
  }

  private async newRefreshToken(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    familyId: string,
  ): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await em.query(
      `INSERT INTO refresh_tokens (id, corp_id, userid, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
      [
        randomUUID(),
        corpId,
        userid,
        familyId,
        sha256(token),
        this.config.REFRESH_TOKEN_TTL_SECONDS,
      ],
    );
    return token;
  }

  private async session(
    corpId: CorpId,
    userid: string,
    roles: Role[],
    refreshToken: string,
  ): Promise<Session> {
    const access = await this.tokens.issue({ corpId, userId: userid, roles });
    return { ...access, refreshToken, refreshExpiresIn: this.config.REFRESH_TOKEN_TTL_SECONDS };
  }
}
