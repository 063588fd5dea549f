import { Inject, Injectable } from '@nestjs/common';
import { IDENTITY_MEMBER_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import type { EntityManager } from 'typeorm';
import type { Access } from '../access/access';
import { recordAudits, type AuditEntry } from '../audit/audit-log';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { BulkMembersRepository } from '../imports/bulk-members.repository';
import { memberDeleted } from '../members/member-events';
import { MembersRepository } from '../members/members.repository';
import { rowError, type RowOutcome } from './batch-errors';
import type { BatchResultEntry, ClaimedBatchJob } from './batch-jobs.repository';
import { BatchMembersRepository } from './batch-members.repository';
import { batchActor } from './batch-principal';
import { BatchDeleteProtectionException } from './batch.exceptions';

export interface RemovalPlan {
  /** Members in the caller's range and scope: what the protection compares against. */
  inRange: number;
  deleting: string[];
  /** Not named by the file and kept: they hold an admin role. */
  kept: string[];
}

/**
 * replace_user's second half: the members the file does not name — among those the app may
 * administer — are deleted, as WeCom does. Members holding an admin role are never deleted by a
 * job (only a super admin changes them), so a corp never loses its super admins this way; they
 * are reported instead. WeCom's protection stops the job before anything changes when the file
 * would delete too large a share of the directory (errcode 45026).
 */
@Injectable()
export class RemoveUnlistedMembersUseCase {
  constructor(
    private readonly batchMembers: BatchMembersRepository,
    private readonly bulk: BulkMembersRepository,
    private readonly members: MembersRepository,
    private readonly outbox: Outbox,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  async plan(em: EntityManager, access: Access, listed: Set<string>): Promise<RemovalPlan> {
    const all = await this.batchMembers.membersWithPaths(em, access.corpId);
    const inRange = all.filter(
      (m) =>
        access.canSeeMember(m.userid, m.paths) &&
        (access.isSuperAdmin || m.paths.some((p) => access.mayAdminister('contacts:edit', [p]))),
    );
    const unlisted = inRange.filter((m) => !listed.has(m.userid));
    const privileged = (m: { roles: string[] }) => m.roles.some((role) => role !== 'member');
    return {
      inRange: inRange.length,
      deleting: unlisted.filter((m) => !privileged(m)).map((m) => m.userid),
      kept: unlisted.filter(privileged).map((m) => m.userid),
    };
  }

  /** Throws (WeCom errcode 45026) when the plan deletes too large a share. */
  assertWithinProtection(plan: RemovalPlan): void {
    const deleting = plan.deleting.length;
    const small = deleting <= this.config.BATCH_REPLACE_DELETE_SMALL_COUNT;
    const share = small
      ? this.config.BATCH_REPLACE_DELETE_SMALL_MAX_SHARE
      : this.config.BATCH_REPLACE_DELETE_MAX_SHARE;
    if (deleting > 0 && deleting > share * plan.inRange)
      throw new BatchDeleteProtectionException(deleting, plan.inRange);
  }

  /** Deletes the plan's members with their events and audit entries; their result entries. */
  async execute(
    em: EntityManager,
    job: ClaimedBatchJob,
    plan: RemovalPlan,
    firstN: number,
  ): Promise<BatchResultEntry[]> {
    const corpId = job.corpId;
    const gone = await this.members.withDepartments(
      em,
      corpId,
      await this.bulk.members(em, corpId, plan.deleting),
    );
    await this.batchMembers.delete(em, corpId, plan.deleting);
    const at = new Date();
    await this.outbox.publishAll(
      em,
      IDENTITY_MEMBER_TOPIC,
      plan.deleting.map((userid) => memberDeleted(corpId, userid, at)),
    );
    const audit: AuditEntry[] = gone.map((state) => ({
      action: 'member.deleted',
      targetType: 'member',
      targetId: state.member.userid,
      before: state,
    }));
    await recordAudits(em, corpId, audit, batchActor(job));
    const deleted: RowOutcome = { errcode: 0, errmsg: 'deleted' };
    return [
      ...plan.deleting.map((userid) => ({ userid, ...deleted })),
      ...plan.kept.map((userid) => ({
        userid,
        ...rowError(
          'NO_PRIVILEGE',
          `${userid} is not in the file but holds an admin role; a batch job never deletes admins.`,
        ),
      })),
    ].map((entry, i) => ({ ...entry, n: firstN + i }));
  }
}
