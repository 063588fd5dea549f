import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Role } from '@qiwei/auth';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import { ForbiddenException } from '@qiwei/platform';
import { generateSecret, generateURI, verify } from 'otplib';
import { DataSource, type EntityManager } from 'typeorm';
import { recordAudit } from '../audit/audit-log';
import { AccountLockedException } from '../auth/auth.exceptions';
import { lockedUntil, recordFailedAttempt, type LockOutState } from '../auth/lock-out';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { resealStaleSecrets } from '../crypto/reseal-stale-secrets';
import { SecretCipher } from '../crypto/secret-cipher';
import { MemberNotFoundException } from '../members/member.exceptions';
import { newRecoveryCodes, recoveryCodeHash } from './recovery-codes';
import {
  TotpAlreadyActiveException,
  TotpCodeInvalidException,
  TotpNotEnrolledException,
  TotpRequiredByPolicyException,
} from './totp.exceptions';

/** RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30 s; one step either side. */
const PERIOD = 30;
const ISSUER = 'Qiwei';

export type SecondFactorMethod = 'totp' | 'recovery_code';
export type SecondFactorProof = { code: string } | { recoveryCode: string };

export interface TotpStatus {
  state: 'off' | 'pending' | 'active';
  activatedAt: Date | null;
  recoveryCodesLeft: number;
}

interface TotpRow {
  secret_sealed: string;
  activated_at: Date | null;
  last_used_step: string | null;
}

interface MemberState extends LockOutState {
  roles: Role[];
}

const contextOf = (corpId: CorpId, userid: string) => `totp:${corpId}:${userid}`;
/** Roles that hold power over others: the ones a corp may require TOTP for. */
export const isAdmin = (roles: Role[]) => roles.some((role) => role !== 'member');

/**
 * The optional TOTP second factor: enrol (a secret, pending), activate with a first code
 * (recovery codes, once), disable with a code, or a super admin's reset. Codes are checked
 * once each (the last time step used is kept), and wrong ones count toward the lock-out.
 * Secrets are sealed with the key-encryption key.
 */
@Injectable()
export class TotpService implements OnModuleInit {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await resealStaleSecrets<{ corp_id: CorpId; userid: string }>(this.dataSource, this.cipher, {
      table: 'member_totp',
      column: 'secret_sealed',
      keyColumns: ['corp_id', 'userid'],
      context: (row) => contextOf(row.corp_id, row.userid),
    });
  }

  async status(corpId: CorpId, userid: string): Promise<TotpStatus> {
    const [row] = await this.dataSource.query<{ activated_at: Date | null; left: string }[]>(
      `SELECT t.activated_at,
              (SELECT count(*) FROM totp_recovery_codes r
                WHERE r.corp_id = t.corp_id AND r.userid = t.userid AND r.used_at IS NULL) AS left
         FROM member_totp t WHERE t.corp_id = $1 AND t.userid = $2`,
      [corpId, userid],
    );
    if (!row) return { state: 'off', activatedAt: null, recoveryCodesLeft: 0 };
    return {
      state: row.activated_at ? 'active' : 'pending',
      activatedAt: row.activated_at,
      recoveryCodesLeft: Number(row.left),
    };
  }

  /** A new secret, pending until a code confirms it; replaces an unconfirmed one. */
  async enroll(corpId: CorpId, userid: string): Promise<{ secret: string; otpauthUri: string }> {
    const secret = generateSecret();
    await this.transactions.run(async (em) => {
      const [current] = await em.query<{ activated_at: Date | null }[]>(
        'SELECT activated_at FROM member_totp WHERE corp_id = $1 AND userid = $2 FOR UPDATE',
        [corpId, userid],
      );
      if (current?.activated_at) throw new TotpAlreadyActiveException();
      await em.query(
        `INSERT INTO member_totp (corp_id, userid, secret_sealed) VALUES ($1, $2, $3)
         ON CONFLICT (corp_id, userid) DO UPDATE
           SET secret_sealed = EXCLUDED.secret_sealed, last_used_step = NULL, created_at = now()`,
        [corpId, userid, this.cipher.seal(Buffer.from(secret), contextOf(corpId, userid))],
      );
      await recordAudit(em, corpId, {
        action: 'member.totp_enrolled',
        targetType: 'member',
        targetId: userid,
      });
    });
    const otpauthUri = generateURI({ issuer: ISSUER, label: `${userid}@${corpId}`, secret });
    return { secret, otpauthUri };
  }

  async activate(
    corpId: CorpId,
    userid: string,
    code: string,
  ): Promise<{ recoveryCodes: string[] }> {
    return this.withCode(corpId, userid, code, 'pending', async (em) => {
      await em.query(
        'UPDATE member_totp SET activated_at = now() WHERE corp_id = $1 AND userid = $2',
        [corpId, userid],
      );
      const recoveryCodes = newRecoveryCodes();
      await em.query(
        `INSERT INTO totp_recovery_codes (corp_id, userid, code_hash)
         SELECT $1, $2, unnest($3::text[])`,
        [corpId, userid, recoveryCodes.map(recoveryCodeHash)],
      );
      await recordAudit(em, corpId, {
        action: 'member.totp_activated',
        targetType: 'member',
        targetId: userid,
      });
      return { recoveryCodes };
    });
  }

  async disable(corpId: CorpId, userid: string, code: string): Promise<void> {
    await this.withCode(corpId, userid, code, 'active', async (em, member) => {
      if (isAdmin(member.roles) && (await this.requiredForAdmins(em, corpId)))
        throw new TotpRequiredByPolicyException(
          'This corp requires TOTP for admins; a super admin can reset it instead.',
        );
      await this.remove(em, corpId, userid);
      await recordAudit(em, corpId, {
        action: 'member.totp_disabled',
        targetType: 'member',
        targetId: userid,
      });
    });
  }

  /** A super admin turns another member's TOTP off (a lost phone); they enrol again. */
  async reset(corpId: CorpId, actorUserid: string, userid: string): Promise<void> {
    // Their own goes through `disable`, with a code: a stolen token alone must not remove it.
    if (actorUserid === userid)
      throw new ForbiddenException('Disable your own TOTP with a code.', 'TOTP_RESET_OWN');
    await this.transactions.run(async (em) => {
      const [member] = await em.query<unknown[]>(
        'SELECT 1 FROM members WHERE corp_id = $1 AND userid = $2 FOR UPDATE',
        [corpId, userid],
      );
      if (!member) throw new MemberNotFoundException(userid);
      if (!(await this.remove(em, corpId, userid))) throw new TotpNotEnrolledException('enrolment');
      await recordAudit(em, corpId, {
        action: 'member.totp_reset',
        targetType: 'member',
        targetId: userid,
      });
    });
  }

  async isActive(em: EntityManager, corpId: CorpId, userid: string): Promise<boolean> {
    const [row] = await em.query<unknown[]>(
      'SELECT 1 FROM member_totp WHERE corp_id = $1 AND userid = $2 AND activated_at IS NOT NULL',
      [corpId, userid],
    );
    return row !== undefined;
  }

  /**
   * Checks the second step of a sign-in: a current code, or a recovery code (used up). The
   * caller holds the member's row and counts a failure toward the lock-out.
   */
  async verifySecondFactor(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    proof: SecondFactorProof,
  ): Promise<SecondFactorMethod | undefined> {
    const [totp] = await em.query<TotpRow[]>(
      `SELECT secret_sealed, activated_at, last_used_step FROM member_totp
        WHERE corp_id = $1 AND userid = $2 AND activated_at IS NOT NULL FOR UPDATE`,
      [corpId, userid],
    );
    if (!totp) return undefined;
    if ('code' in proof)
      return (await this.acceptCode(em, corpId, userid, totp, proof.code)) ? 'totp' : undefined;
    const used = await em.query<unknown[]>(
      `WITH used AS (
         UPDATE totp_recovery_codes SET used_at = now()
          WHERE corp_id = $1 AND userid = $2 AND code_hash = $3 AND used_at IS NULL RETURNING 1)
       SELECT 1 FROM used`,
      [corpId, userid, recoveryCodeHash(proof.recoveryCode)],
    );
    return used.length > 0 ? 'recovery_code' : undefined;
  }

  /**
   * The roles a new session gets: an admin of a corp that requires TOTP, who has none, signs in
   * as a plain member until they turn it on (they can still enrol; nothing admin works).
   */
  async sessionRoles(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    roles: Role[],
  ): Promise<{ roles: Role[]; totpEnrollmentRequired: boolean }> {
    const required =
      isAdmin(roles) &&
      (await this.requiredForAdmins(em, corpId)) &&
      !(await this.isActive(em, corpId, userid));
    return required
      ? { roles: ['member'], totpEnrollmentRequired: true }
      : { roles, totpEnrollmentRequired: false };
  }

  async policy(corpId: CorpId): Promise<{ requireForAdmins: boolean }> {
    return { requireForAdmins: await this.requiredForAdmins(this.dataSource.manager, corpId) };
  }

  /** Turning the requirement on needs the super admin's own TOTP first, so no one is locked out. */
  async setPolicy(
    corpId: CorpId,
    userid: string,
    requireForAdmins: boolean,
  ): Promise<{ requireForAdmins: boolean }> {
    await this.transactions.run(async (em) => {
      if (requireForAdmins && !(await this.isActive(em, corpId, userid)))
        throw new TotpRequiredByPolicyException('Turn TOTP on for yourself first.');
      const before = await this.requiredForAdmins(em, corpId, true);
      await em.query('UPDATE corps SET require_admin_totp = $2 WHERE corp_id = $1', [
        corpId,
        requireForAdmins,
      ]);
      await recordAudit(em, corpId, {
        action: 'corp.totp_policy_changed',
        targetType: 'corp',
        targetId: corpId,
        before: { requireForAdmins: before },
        after: { requireForAdmins },
      });
    });
    return { requireForAdmins };
  }

  private async requiredForAdmins(
    em: EntityManager,
    corpId: CorpId,
    forUpdate = false,
  ): Promise<boolean> {
    const [corp] = await em.query<{ require_admin_totp: boolean }[]>(
      `SELECT require_admin_totp FROM corps WHERE corp_id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [corpId],
    );
    return corp?.require_admin_totp ?? false;
  }

  private async remove(em: EntityManager, corpId: CorpId, userid: string): Promise<boolean> {
    const removed = await em.query<unknown[]>(
      `WITH removed AS (DELETE FROM member_totp WHERE corp_id = $1 AND userid = $2 RETURNING 1)
       SELECT 1 FROM removed`,
      [corpId, userid],
    );
    return removed.length > 0;
  }

  /**
   * Runs `onValid` when `code` is right for the member's TOTP in the `expected` state. A wrong
   * code is committed as a failed attempt (toward the lock-out) before it is reported.
   */
  private async withCode<T>(
    corpId: CorpId,
    userid: string,
    code: string,
    expected: 'pending' | 'active',
    onValid: (em: EntityManager, member: MemberState) => Promise<T>,
  ): Promise<T> {
    const outcome = await this.transactions.run(async (em) => {
      const [member] = await em.query<MemberState[]>(
        `SELECT roles, failed_sign_ins, locked_until FROM members
          WHERE corp_id = $1 AND userid = $2 FOR UPDATE`,
        [corpId, userid],
      );
      if (!member) throw new MemberNotFoundException(userid);
      const until = lockedUntil(member);
      if (until) return { kind: 'locked' as const, until };
      const [totp] = await em.query<TotpRow[]>(
        `SELECT secret_sealed, activated_at, last_used_step FROM member_totp
          WHERE corp_id = $1 AND userid = $2 FOR UPDATE`,
        [corpId, userid],
      );
      if (expected === 'pending' && totp?.activated_at) throw new TotpAlreadyActiveException();
      if (!totp || (expected === 'active' && !totp.activated_at))
        throw new TotpNotEnrolledException(expected === 'active' ? 'active TOTP' : 'enrolment');
      if (!(await this.acceptCode(em, corpId, userid, totp, code))) {
        await recordFailedAttempt(
          em,
          this.config,
          corpId,
          userid,
          member,
          'member.totp_code_failed',
        );
        return { kind: 'invalid' as const };
      }
      return { kind: 'valid' as const, value: await onValid(em, member) };
    });
    if (outcome.kind === 'locked') throw new AccountLockedException(outcome.until);
    if (outcome.kind === 'invalid') throw new TotpCodeInvalidException();
    return outcome.value;
  }

  /** A code is right once: its time step must come after the last one accepted. */
  private async acceptCode(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    totp: TotpRow,
    code: string,
  ): Promise<boolean> {
    const secret = this.cipher.open(totp.secret_sealed, contextOf(corpId, userid)).toString();
    const epoch = Math.floor(Date.now() / 1000);
    const latestStep = Math.floor(epoch / PERIOD) + 1;
    const result = await verify({
      secret,
      token: code,
      epoch,
      epochTolerance: PERIOD,
      afterTimeStep:
        totp.last_used_step === null
          ? undefined
          : Math.min(Number(totp.last_used_step), latestStep),
    });
    if (!result.valid || !('timeStep' in result)) return false;
    await em.query(
      'UPDATE member_totp SET last_used_step = $3 WHERE corp_id = $1 AND userid = $2',
      [corpId, userid, result.timeStep],
    );
    return true;
  }
}
