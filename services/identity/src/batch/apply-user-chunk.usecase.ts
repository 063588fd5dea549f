import { Inject, Injectable } from '@nestjs/common';
import { IDENTITY_MEMBER_TOPIC } from '@qiwei/contracts';
import { Outbox, type NewEvent } from '@qiwei/events';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import type { Access } from '../access/access';
import { AccessService } from '../access/access.service';
import { recordAudits, type AuditEntry } from '../audit/audit-log';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { lockCorpForWrite } from '../corps/corp-lock';
import { ROOT_DEPARTMENT_ID } from '../departments/department.entity';
import { BulkMembersRepository } from '../imports/bulk-members.repository';
import { DepartmentPathResolver, type PlannedDepartment } from '../imports/department-paths';
import { PlannedDepartmentsWriter } from '../imports/planned-departments.writer';
import { memberChanged, type MemberChange } from '../members/member-events';
import type { Member, MemberDepartment } from '../members/member.entity';
import { MembersRepository, type MemberWithDepartments } from '../members/members.repository';
import { ROW_OK, rowError, type RowOutcome } from './batch-errors';
import {
  BatchJobsRepository,
  type BatchResultEntry,
  type ClaimedBatchJob,
} from './batch-jobs.repository';
import {
  BatchMembersRepository,
  type BatchMembershipRow,
  type BatchProfileRow,
} from './batch-members.repository';
import { batchActor, batchPrincipal } from './batch-principal';
import { isRejected, type RejectedRow, type UserRowInput } from './batch-sheets';

/** A row that passed every check, and what it asks for. */
interface AcceptedUser {
  input: UserRowInput;
  current: Member | undefined;
  had: MemberDepartment[];
  mobile: string | null;
  /** The departments in the cell's order (negative: planned), with their index in the cell. */
  targets: { ref: number; index: number }[] | null;
  statusChange: 'active' | 'disabled' | null;
}

export interface UserChunkCounts {
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  departmentsCreated: number;
}

const isPrivileged = (member: Member) => member.roles.some((role) => role !== 'member');

/**
 * Applies one chunk of a sync_user / replace_user job in one transaction, set-based, under the
 * corp's write lock, with what the member API keeps: the app's range and contacts:edit scope,
 * unique mobiles, the member limit, memberships with a main department, events with the full
 * state and audit entries. Each row is applied whole or answered with its errcode; the results
 * and the job's progress commit with the rows.
 */
@Injectable()
export class ApplyUserChunkUseCase {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly bulk: BulkMembersRepository,
    private readonly batchMembers: BatchMembersRepository,
    private readonly members: MembersRepository,
    private readonly jobs: BatchJobsRepository,
    private readonly plannedDepartments: PlannedDepartmentsWriter,
    private readonly accessService: AccessService,
    private readonly outbox: Outbox,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Null when another worker has taken the job over (nothing is written then). */
  execute(
    job: ClaimedBatchJob,
    rows: (UserRowInput | RejectedRow)[],
    from: number,
  ): Promise<UserChunkCounts | null> {
    const corpId = job.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      if (!(await this.jobs.hold(em, job, from))) return null;
      const access = await this.accessService.resolve(batchPrincipal(job), em);
      const outcomes = new Map<number, RowOutcome>();
      for (const row of rows) if (isRejected(row)) outcomes.set(row.row, row.outcome);
      const inputs = rows.filter((r): r is UserRowInput => !isRejected(r));
      const check = await this.check(em, access, inputs, outcomes);
      const audit: AuditEntry[] = [];
      const createdIds = await this.plannedDepartments.create(
        em,
        corpId,
        check.planned,
        check.tree,
        audit,
      );
      const counts = await this.write(em, corpId, check.accepted, createdIds, audit);
      await recordAudits(em, corpId, audit, batchActor(job));
      const results: BatchResultEntry[] = rows.map((row) => ({
        n: row.row,
        userid: row.userid,
        ...(outcomes.get(row.row) ?? ROW_OK),
      }));
      await this.jobs.insertResults(em, corpId, job.jobid, results);
      const total: UserChunkCounts = {
        ...counts,
        rejected: outcomes.size,
        departmentsCreated: check.planned.length,
      };
      await this.jobs.recordProgress(em, job, from + rows.length, { ...total });
      return total;
    });
  }

  /** Checks the rows against the corp as it is now, in file order; refusals go to `outcomes`. */
  private async check(
    em: EntityManager,
    access: Access,
    inputs: UserRowInput[],
    outcomes: Map<number, RowOutcome>,
  ) {
    const corpId = access.corpId;
    const existing = new Map(
      (
        await this.bulk.members(
          em,
          corpId,
          inputs.map((r) => r.userid),
        )
      ).map((m) => [m.userid, m]),
    );
    const memberships = await this.members.departmentsOf(em, corpId, [...existing.keys()]);
    const holders = await this.bulk.mobileHolders(
      em,
      corpId,
      inputs.flatMap((r) => (typeof r.mobile === 'string' ? [r.mobile] : [])),
    );
    let memberCount = await this.members.count(em, corpId);
    const tree = await this.bulk.tree(em, corpId);
    const pathOf = new Map(tree.map((d) => [d.id, d.path]));
    const paths = new DepartmentPathResolver(tree, true, this.config.DEPARTMENT_MAX_PER_CORP);
    const accepted: AcceptedUser[] = [];
    const scoped = !access.isSuperAdmin;
    /** The path a department has, or for a planned one, the path of its nearest existing ancestor. */
    const anchorPath = (ref: number, planned: PlannedDepartment[]): string => {
      let at = ref;
      const parents = new Map([...paths.planned, ...planned].map((p) => [p.ref, p.parentRef]));
      while (at < 0) at = parents.get(at) ?? ROOT_DEPARTMENT_ID;
      return pathOf.get(at) ?? '';
    };

    for (const input of inputs) {
      const refuse = (outcome: RowOutcome) => outcomes.set(input.row, outcome);
      const { userid } = input;
      const current = existing.get(userid);
      const had = current ? (memberships.get(userid) ?? []) : [];
      const hadPaths = had.map((d) => pathOf.get(d.departmentId) ?? '');
      if (current) {
        if (!access.canSeeMember(userid, hadPaths)) {
          refuse(rowError('NO_PRIVILEGE', `${userid} is outside this app's range.`));
          continue;
        }
        if (scoped && !hadPaths.some((p) => access.mayAdminister('contacts:edit', [p]))) {
          refuse(rowError('NO_PRIVILEGE', `${userid} is outside this app's contacts:edit scope.`));
          continue;
        }
        if (scoped && isPrivileged(current)) {
          refuse(
            rowError(
              'NO_PRIVILEGE',
              `${userid} holds an admin role; only a super admin changes them.`,
            ),
          );
          continue;
        }
      }
      const mobile = input.mobile === undefined ? (current?.mobile ?? null) : input.mobile;
      const holder = mobile ? holders.get(mobile) : undefined;
      if (holder !== undefined && holder !== userid) {
        refuse(rowError('MOBILE_TAKEN', `${mobile} is already the mobile of member ${holder}.`));
        continue;
      }
      if (!current && memberCount >= this.config.CORP_MEMBER_LIMIT) {
        refuse(
          rowError(
            'MEMBER_LIMIT_REACHED',
            `The corp has reached its limit of ${this.config.CORP_MEMBER_LIMIT} members.`,
          ),
        );
        continue;
      }

      // Departments: ids as WeCom's template has them, or paths (missing levels are created).
      let targets: { ref: number; index: number }[] | null = null;
      let planned: PlannedDepartment[] = [];
      let plan: { planned: PlannedDepartment[] } | null = null;
      if (input.departments === null || (input.departments === undefined && !current)) {
        targets = [{ ref: ROOT_DEPARTMENT_ID, index: -1 }];
      } else if (input.departments) {
        const refs: { ref: number; index: number }[] = [];
        const pathRefs: { path: string[]; index: number }[] = [];
        const unknowns: number[] = [];
        input.departments.forEach((ref, index) => {
          if ('path' in ref) pathRefs.push({ path: ref.path, index });
          else {
            const path = pathOf.get(ref.id);
            if (path === undefined || !access.canSeeDepartment(path)) unknowns.push(ref.id);
            refs.push({ ref: ref.id, index });
          }
        });
        const unknown = unknowns[0];
        if (unknown !== undefined) {
          refuse(rowError('DEPARTMENT_NOT_FOUND', `Department ${unknown} does not exist.`));
          continue;
        }
        if (pathRefs.length) {
          const keys = [...new Set(pathRefs.map((p) => p.path.join('/')))];
          const resolved = paths.plan(keys.map((key) => key.split('/')));
          if ('code' in resolved) {
            refuse(rowError(resolved.code, resolved.message));
            continue;
          }
          // The plan answers each distinct path once, in the order given.
          for (const p of pathRefs)
            refs.push({
              ref: resolved.departmentIds[keys.indexOf(p.path.join('/'))],
              index: p.index,
            });
          const hidden = resolved.departmentIds.find(
            (id) => id > 0 && !access.canSeeDepartment(pathOf.get(id) ?? ''),
          );
          if (hidden !== undefined) {
            refuse(rowError('DEPARTMENT_NOT_FOUND', `Department ${hidden} does not exist.`));
            continue;
          }
          planned = resolved.planned;
          plan = resolved;
        }
        refs.sort((a, b) => a.index - b.index);
        targets = refs.filter((r, i) => refs.findIndex((o) => o.ref === r.ref) === i);
      }
      if (scoped && targets) {
        const before = had.map((d) => d.departmentId);
        const after = targets.map((t) => t.ref);
        const involved = [
          ...after.filter((id) => !before.includes(id)).map((id) => anchorPath(id, planned)),
          ...before.filter((id) => !after.includes(id)).map((id) => pathOf.get(id) ?? ''),
        ];
        if (!access.mayAdminister('contacts:edit', involved)) {
          refuse(
            rowError(
              'NO_PRIVILEGE',
              'A department of the row is outside this app’s contacts:edit scope.',
            ),
          );
          continue;
        }
      }

      let statusChange: 'active' | 'disabled' | null = null;
      const disable = input.disabled === null ? false : input.disabled;
      if (current && disable === true && current.status !== 'disabled') {
        if (current.status === 'left') {
          refuse(
            rowError('STATUS_TRANSITION_INVALID', `${userid} has left and cannot be disabled.`),
          );
          continue;
        }
        statusChange = 'disabled';
      }
      if (current && disable === false && current.status === 'disabled') statusChange = 'active';

      if (plan) paths.adopt(plan);
      if (current?.mobile && current.mobile !== mobile) holders.delete(current.mobile);
      if (mobile) holders.set(mobile, userid);
      if (!current) memberCount++;
      accepted.push({ input, current, had, mobile, targets, statusChange });
    }
    return { accepted, planned: paths.planned, tree };
  }

  /** Writes the accepted rows; an existing member the row would not change is left alone. */
  private async write(
    em: EntityManager,
    corpId: CorpId,
    accepted: AcceptedUser[],
    createdIds: Map<number, number>,
    audit: AuditEntry[],
  ): Promise<Pick<UserChunkCounts, 'created' | 'updated' | 'unchanged'>> {
    const real = (ref: number) => (ref < 0 ? (createdIds.get(ref) as number) : ref);
    const inserts: (BatchProfileRow & { status: 'active' | 'disabled' })[] = [];
    const updates: BatchProfileRow[] = [];
    const releasing: string[] = [];
    const replaced: string[] = [];
    const membershipRows: BatchMembershipRow[] = [];
    const statuses: { userid: string; status: 'active' | 'disabled' }[] = [];
    const changed: { userid: string; change: MemberChange | null; status: MemberChange | null }[] =
      [];
    const before = new Map<string, { member: Member; departments: MemberDepartment[] }>();
    let unchanged = 0;

    for (const { input, current, had, mobile, targets, statusChange } of accepted) {
      const { userid } = input;
      const rowsOf = (list: { ref: number; index: number }[]): BatchMembershipRow[] => {
        const ids = list.map((t) => ({ id: real(t.ref), index: t.index }));
        return ids.map(({ id, index }, i) => {
          const previous = had.find((d) => d.departmentId === id);
          const pick = <T>(values: T[] | null | undefined, kept: T, fallback: T): T =>
            values === undefined ? kept : values === null ? fallback : (values[index] ?? kept);
          return {
            userid,
            departmentId: id,
            isMain: i === 0,
            order: pick(input.order, previous?.order ?? 0, 0),
            isLeader: pick(input.leader, previous?.isLeader ?? false, false),
          };
        });
      };
      if (!current) {
        const rows = rowsOf(targets ?? [{ ref: ROOT_DEPARTMENT_ID, index: -1 }]);
        inserts.push({
          userid,
          name: input.name,
          mobile,
          email: input.email ?? null,
          position: input.position ?? '',
          gender: input.gender ?? 'unknown',
          mainDepartmentId: rows[0].departmentId,
          status: input.disabled === true ? 'disabled' : 'active',
        });
        membershipRows.push(...rows);
        changed.push({ userid, change: 'created', status: null });
        continue;
      }
      const rows = targets ? rowsOf(targets) : null;
      const profile: BatchProfileRow = {
        userid,
        name: input.name,
        mobile,
        email: input.email === undefined ? current.email : input.email,
        position: input.position === undefined ? current.position : (input.position ?? ''),
        gender: input.gender === undefined ? current.gender : (input.gender ?? 'unknown'),
        mainDepartmentId: rows ? rows[0].departmentId : current.mainDepartmentId,
      };
      const membershipsChanged =
        rows !== null &&
        (rows.length !== had.length ||
          rows.some((r) => {
            const h = had.find((d) => d.departmentId === r.departmentId);
            return !h || h.isMain !== r.isMain || h.order !== r.order || h.isLeader !== r.isLeader;
          }));
      const profileChanged =
        profile.name !== current.name ||
        profile.mobile !== current.mobile ||
        profile.email !== current.email ||
        profile.position !== current.position ||
        profile.gender !== current.gender ||
        profile.mainDepartmentId !== current.mainDepartmentId;
      if (!profileChanged && !membershipsChanged && !statusChange) {
        unchanged++;
        continue;
      }
      if (profileChanged || membershipsChanged) {
        if (current.mobile !== null && current.mobile !== profile.mobile) releasing.push(userid);
        updates.push(profile);
      }
      if (membershipsChanged && rows) {
        replaced.push(userid);
        membershipRows.push(...rows);
      }
      if (statusChange) statuses.push({ userid, status: statusChange });
      before.set(userid, { member: current, departments: had });
      changed.push({
        userid,
        change: profileChanged || membershipsChanged ? 'updated' : null,
        status: statusChange === 'disabled' ? 'disabled' : statusChange ? 'enabled' : null,
      });
    }

    await this.batchMembers.releaseMobiles(em, corpId, releasing);
    await this.batchMembers.insert(em, corpId, inserts);
    await this.batchMembers.updateProfiles(em, corpId, updates);
    await this.batchMembers.replaceMemberships(em, corpId, replaced, membershipRows);
    await this.batchMembers.setStatuses(em, corpId, statuses);
    await this.announce(em, corpId, changed, before, audit);
    return { created: inserts.length, updated: before.size, unchanged };
  }

  /** Member events with the full state after the writes, in file order, and their audit entries. */
  private async announce(
    em: EntityManager,
    corpId: CorpId,
    changed: { userid: string; change: MemberChange | null; status: MemberChange | null }[],
    before: Map<string, { member: Member; departments: MemberDepartment[] }>,
    audit: AuditEntry[],
  ): Promise<void> {
    if (changed.length === 0) return;
    const states = new Map(
      (
        await this.members.withDepartments(
          em,
          corpId,
          await this.bulk.members(
            em,
            corpId,
            changed.map((c) => c.userid),
          ),
        )
      ).map((state) => [state.member.userid, state]),
    );
    const events: NewEvent[] = [];
    for (const { userid, change, status } of changed) {
      const state = states.get(userid) as MemberWithDepartments;
      for (const happened of [change, status]) {
        if (!happened) continue;
        audit.push({
          action: `member.${happened}`,
          targetType: 'member',
          targetId: userid,
          before: before.get(userid),
          after: state,
        });
        events.push(memberChanged(happened, state));
      }
    }
    await this.outbox.publishAll(em, IDENTITY_MEMBER_TOPIC, events);
  }
}
