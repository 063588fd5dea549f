import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Role } from '@qiwei/auth';
import { asCorpId, TransactionRunner, type CorpId } from '@qiwei/persistence';
import { UnauthorizedException } from '@qiwei/platform';
import type { EntityManager } from 'typeorm';
import { recordAudit } from '../audit/audit-log';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { lockCorpForWrite } from '../corps/corp-lock';
import { MemberNotFoundException } from '../members/member.exceptions';
import { AccessTokensService, type IssuedAccessToken } from '../tokens/access-tokens.service';
import { TotpService, type SecondFactorProof } from '../totp/totp.service';
import {
  AccountLockedException,
  PasswordIncorrectException,
  RefreshTokenInvalidException,
  SecondFactorFailedException,
  SignInChallengeInvalidException,
  SignInFailedException,
  WeakPasswordException,
} from './auth.exceptions';
import {
  clearFailedAttempts,
  lockedUntil,
  recordFailedAttempt,
  type LockOutState,
} from './lock-out';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './password-hasher';
import { endMemberSessions, revokeMemberRefreshTokens } from './refresh-tokens';
import {
  findSignInChallenge,
  issueSignInChallenge,
  sha256,
  SIGN_IN_CHALLENGE_TTL_SECONDS,
  useSignInChallenge,
} from './sign-in-challenges';

export interface Session extends IssuedAccessToken {
  refreshToken: string;
  refreshExpiresIn: number;
  /** An admin of a corp that requires TOTP, without it: this session has the member role only. */
  totpEnrollmentRequired?: true;
}

/** The password was right; the member's TOTP must complete the sign-in. */
export interface SecondFactorChallenge {
  secondFactorRequired: true;
  challenge: string;
  challengeExpiresIn: number;
}

interface Credentials extends LockOutState {
  status: string;
  roles: Role[];
  password_hash: string | null;
}

/** A session decided inside a transaction, its access token issued after the commit. */
interface NewSession {
  corpId: CorpId;
  userid: string;
  roles: Role[];
  totpEnrollmentRequired: boolean;
  refresh: string;
}

type Refusal =
  | { refused: 'locked'; until: Date }
  | { refused: 'sign_in_failed' | 'password_incorrect' | 'second_factor_failed' }
  | { refused: 'challenge_invalid' | 'challenge_expired' };

function refusalException(refusal: Refusal): Error {
  switch (refusal.refused) {
    case 'locked':
      return new AccountLockedException(refusal.until);
    case 'sign_in_failed':
      return new SignInFailedException();
    case 'password_incorrect':
      return new PasswordIncorrectException();
    case 'second_factor_failed':
      return new SecondFactorFailedException();
    case 'challenge_invalid':
      return new SignInChallengeInvalidException('SIGN_IN_CHALLENGE_INVALID');
    case 'challenge_expired':
      return new SignInChallengeInvalidException('SIGN_IN_CHALLENGE_EXPIRED');
  }
}

/** Checks a password the way people choose them: long enough, not one repeated character. */
export function assertStrongPassword(password: string): void {
  if ([...password].length < 10) throw new WeakPasswordException('At least 10 characters.');
  if ([...password].length > 128) throw new WeakPasswordException('At most 128 characters.');
  if (new Set(password).size < 4)
    throw new WeakPasswordException('Use at least 4 different characters.');
}

const CREDENTIALS = `SELECT status, roles, password_hash, failed_sign_ins, locked_until FROM members
                      WHERE corp_id = $1 AND userid = $2 FOR UPDATE`;

/**
 * Members sign in with corp id, userid and password (scrypt), and get a short-lived access
 * token plus a refresh token. A member with TOTP on gets a single-use challenge instead, which
 * a code (or a recovery code) turns into the session. Refresh tokens rotate on every use; using
 * one twice revokes its whole family (a stolen token ends the session for thief and owner
 * alike). Wrong passwords and codes count toward one lock-out.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly tokens: AccessTokensService,
    private readonly totp: TotpService,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /**
   * A super admin sets a member's password: their sessions and access tokens end and a lock is
   * lifted. Setting their own (the first admin's way to a password), the caller's token stays.
   */
  async setPassword(
    corpId: CorpId,
    actorUserid: string,
    userid: string,
    password: string,
  ): Promise<void> {
    assertStrongPassword(password);
    const hash = await hashPassword(password);
    await this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      if (!(await this.storePassword(em, corpId, userid, hash)))
        throw new MemberNotFoundException(userid);
      if (actorUserid === userid) await revokeMemberRefreshTokens(em, corpId, userid);
      else await endMemberSessions(em, corpId, userid);
      await recordAudit(em, corpId, {
        action: 'member.password_set',
        targetType: 'member',
        targetId: userid,
      });
    });
  }

  /**
   * A member changes their own password with the current one: every session and access token
   * of theirs ends, and this call answers with a new session.
   */
  async changePassword(
    corpId: CorpId,
    userid: string,
    currentPassword: string,
    newPassword: string,
  ): Promise<Session> {
    assertStrongPassword(newPassword);
    const hash = await hashPassword(newPassword);
    const session = await this.decide(async (em): Promise<NewSession | Refusal> => {
      const member = await this.checkPassword(
        em,
        corpId,
        userid,
        currentPassword,
        'auth.password_change_failed',
      );
      if ('refused' in member)
        return member.refused === 'sign_in_failed' ? { refused: 'password_incorrect' } : member;
      await this.storePassword(em, corpId, userid, hash);
      await endMemberSessions(em, corpId, userid);
      await recordAudit(em, corpId, {
        action: 'member.password_changed',
        targetType: 'member',
        targetId: userid,
        actorId: userid,
      });
      return this.newSession(em, corpId, userid, member.roles, randomUUID());
    });
    return this.issue(session);
  }

  async signIn(
    corpIdInput: string,
    userid: string,
    password: string,
  ): Promise<Session | SecondFactorChallenge> {
    const corpId = asCorpId(corpIdInput);
    const outcome = await this.decide(
      async (em): Promise<NewSession | SecondFactorChallenge | Refusal> => {
        const member = await this.checkPassword(
          em,
          corpId,
          userid,
          password,
          'auth.sign_in_failed',
        );
        if ('refused' in member) return member;
        if (await this.totp.isActive(em, corpId, userid)) {
          // Failures stay counted: only the second factor completes the sign-in.
          const challenge = await issueSignInChallenge(em, corpId, userid);
          await recordAudit(em, corpId, {
            action: 'auth.second_factor_required',
            targetType: 'member',
            targetId: userid,
            actorId: userid,
          });
          return {
            secondFactorRequired: true as const,
            challenge,
            challengeExpiresIn: SIGN_IN_CHALLENGE_TTL_SECONDS,
          };
        }
        return this.completeSignIn(em, corpId, userid, member.roles, 'password');
      },
    );
    return 'refresh' in outcome ? this.issue(outcome) : outcome;
  }

  /** The second step: the challenge from `signIn` and a current code or a recovery code. */
  async signInWithSecondFactor(challenge: string, proof: SecondFactorProof): Promise<Session> {
    const session = await this.decide(async (em): Promise<NewSession | Refusal> => {
      const row = await findSignInChallenge(em, challenge);
      if (!row || row.used_at) return { refused: 'challenge_invalid' };
      if (row.expires_at.getTime() <= Date.now()) return { refused: 'challenge_expired' };
      const corpId = asCorpId(row.corp_id);
      const [member] = await em.query<Credentials[]>(CREDENTIALS, [corpId, row.userid]);
      if (!member || member.status !== 'active') return { refused: 'challenge_invalid' };
      const until = lockedUntil(member);
      if (until) return { refused: 'locked', until };
      const method = await this.totp.verifySecondFactor(em, corpId, row.userid, proof);
      if (!method) {
        await recordFailedAttempt(
          em,
          this.config,
          corpId,
          row.userid,
          member,
          'auth.second_factor_failed',
        );
        return { refused: 'second_factor_failed' };
      }
      await useSignInChallenge(em, challenge);
      return this.completeSignIn(em, corpId, row.userid, member.roles, method);
    });
    return this.issue(session);
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
      return {
        error: undefined,
        session: await this.newSession(em, corpId, row.userid, member.roles, row.family_id),
      };
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
        return this.issue(outcome.session);
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

  /**
   * Runs a decision in a transaction that commits whatever it records (failed attempts count
   * even when refused), then reports a refusal.
   */
  private async decide<T extends NewSession | SecondFactorChallenge>(
    decision: (em: EntityManager) => Promise<T | Refusal>,
  ): Promise<T> {
    const outcome = await this.transactions.run(decision);
    if ('refused' in outcome) throw refusalException(outcome);
    return outcome;
  }

  /** The member, if `password` is theirs and they may sign in; a wrong one counts as a failure. */
  private async checkPassword(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    password: string,
    failedAction: string,
  ): Promise<Credentials | Refusal> {
    const [member] = await em.query<Credentials[]>(CREDENTIALS, [corpId, userid]);
    if (!member) {
      await verifyPassword(password, await DUMMY_HASH_PROMISE); // same time as a real check
      await recordAudit(em, corpId, {
        action: failedAction,
        targetType: 'member',
        targetId: userid,
      });
      return { refused: 'sign_in_failed' };
    }
    const until = lockedUntil(member);
    if (until) return { refused: 'locked', until };
    const valid =
      member.password_hash !== null && member.status === 'active'
        ? await verifyPassword(password, member.password_hash)
        : await verifyPassword(password, await DUMMY_HASH_PROMISE).then(() => false);
    if (!valid) {
      await recordFailedAttempt(em, this.config, corpId, userid, member, failedAction);
      return { refused: 'sign_in_failed' };
    }
    return member;
  }

  private async completeSignIn(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    roles: Role[],
    method: 'password' | 'totp' | 'recovery_code',
  ): Promise<NewSession> {
    await clearFailedAttempts(em, corpId, userid);
    await recordAudit(em, corpId, {
      action: 'auth.signed_in',
      targetType: 'member',
      targetId: userid,
      actorId: userid,
      after: { method },
    });
    return this.newSession(em, corpId, userid, roles, randomUUID());
  }

  private async storePassword(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    hash: string,
  ): Promise<boolean> {
    // A CTE, so the driver hands back rows (it reports an UPDATE's row count otherwise).
    const updated = await em.query<unknown[]>(
      `WITH updated AS (
         UPDATE members SET password_hash = $3, failed_sign_ins = 0, locked_until = NULL
          WHERE corp_id = $1 AND userid = $2 RETURNING 1)
       SELECT 1 FROM updated`,
      [corpId, userid, hash],
    );
    return updated.length > 0;
  }

  /** A refresh token in `familyId`, and the roles its access tokens carry (TOTP policy applied). */
  private async newSession(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    memberRoles: Role[],
    familyId: string,
  ): Promise<NewSession> {
    const refresh = randomBytes(32).toString('base64url');
    await em.query(
      `INSERT INTO refresh_tokens (id, corp_id, userid, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
      [
        randomUUID(),
        corpId,
        userid,
        familyId,
        sha256(refresh),
        this.config.REFRESH_TOKEN_TTL_SECONDS,
      ],
    );
    const { roles, totpEnrollmentRequired } = await this.totp.sessionRoles(
      em,
      corpId,
      userid,
      memberRoles,
    );
    return { corpId, userid, roles, totpEnrollmentRequired, refresh };
  }

  private async issue(session: NewSession): Promise<Session> {
    const access = await this.tokens.issue({
      corpId: session.corpId,
      userId: session.userid,
      roles: session.roles,
    });
    return {
      ...access,
      refreshToken: session.refresh,
      refreshExpiresIn: this.config.REFRESH_TOKEN_TTL_SECONDS,
      ...(session.totpEnrollmentRequired ? { totpEnrollmentRequired: true as const } : {}),
    };
  }
}
