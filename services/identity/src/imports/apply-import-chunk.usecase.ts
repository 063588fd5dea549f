import { Inject, Injectable } from '@nestjs/common';
import { IDENTITY_MEMBER_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { recordAudits, type AuditEntry } from '../audit/audit-log';
import type { RequestContext } from '../audit/request-context';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { lockCorpForWrite } from '../corps/corp-lock';
import { ROOT_DEPARTMENT_ID } from '../departments/department.entity';
import { memberChanged } from '../members/member-events';
import type { Member, MemberDepartment } from '../members/member.entity';
import { MembersRepository, type MemberWithDepartments } from '../members/members.repository';
import {
  BulkMembersRepository,
  type DepartmentRow,
  type MemberProfileRow,
  type MembershipRow,
} from './bulk-members.repository';
import { DepartmentPathResolver, type PlannedDepartment } from './department-paths';
import { PlannedDepartmentsWriter } from './planned-departments.writer';
import {
  isRejected,
  rejection,
  type MemberRowInput,
  type PreparedRow,
  type RowIssue,
} from './member-rows';
import {
  MemberImportsRepository,
  type ChunkCounts,
  type ClaimedImport,
} from './member-imports.repository';

/** An accepted row and what it changes. */
interface AcceptedRow {
  input: MemberRowInput;
  current: Member | undefined;
  /** Department ids (negative: planned departments), or null to keep the member's. */
  departmentRefs: number[] | null;
}

interface MemberWrites {
  inserts: MemberProfileRow[];
  updates: MemberProfileRow[];
  /** Memberships of new members, and the added or re-flagged ones of existing members. */
  memberships: MembershipRow[];
  upserts: MembershipRow[];
  deletes: { userid: string; departmentId: number }[];
  before: Map<string, Pick<MemberWithDepartments, 'member' | 'departments'>>;
  /** Created and updated members, in file order: the order of their events. */
  changed: string[];
  unchanged: number;
}

/** Who acts in a background import: the admin who uploaded the file. */
export function importActor(job: ClaimedImport): RequestContext {
  return {
    actorType: job.requestedBy ? 'member' : 'anonymous',
    actorId: job.requestedBy,
    ip: job.requestIp,
    requestId: job.requestId,
  };
}

/**
 * Applies one chunk of an import's rows in one transaction, set-based: a few statements for the
 * whole chunk. It takes the corp's write lock, like every directory write, and keeps what the
 * member API keeps: memberships with a main department, unique mobiles, the member limit,
 * department and member events with the full state, audit entries. A row is applied whole or
 * listed with its reason; the job's progress commits with the rows.
 */
@Injectable()
export class ApplyImportChunkUseCase {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly bulk: BulkMembersRepository,
    private readonly members: MembersRepository,
    private readonly imports: MemberImportsRepository,
    private readonly outbox: Outbox,
    private readonly plannedDepartments: PlannedDepartmentsWriter,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Null when another worker has taken the job over (nothing is written then). */
  execute(job: ClaimedImport, rows: PreparedRow[], from: number): Promise<ChunkCounts | null> {
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, job.corpId);
      if (!(await this.imports.holdForChunk(em, job, from))) return null;
      const issues = rows.filter(isRejected).flatMap((r) => r.issues);
      const accepted = await this.accept(
        em,
        job,
        rows.filter((r): r is MemberRowInput => !isRejected(r)),
        issues,
      );
      const audit: AuditEntry[] = [];
      const departmentIds = await this.plannedDepartments.create(
        em,
        job.corpId,
        accepted.planned,
        accepted.tree,
        audit,
      );
      const writes = this.memberWrites(accepted.rows, accepted.memberships, departmentIds);
      await this.bulk.insertMembers(em, job.corpId, writes.inserts);
      await this.bulk.updateMembers(em, job.corpId, writes.updates);
      await this.bulk.deleteMemberships(em, job.corpId, writes.deletes);
      await this.bulk.addMemberships(em, job.corpId, writes.memberships, {
        existingMembers: false,
      });
      await this.bulk.addMemberships(em, job.corpId, writes.upserts, { existingMembers: true });
      await this.announce(em, job.corpId, writes, audit);
      await recordAudits(em, job.corpId, audit, importActor(job));
      await this.imports.insertIssues(em, job.corpId, job.id, issues);
      const rowsWith = (outcome: RowIssue['outcome']) =>
        new Set(issues.filter((i) => i.outcome === outcome).map((i) => i.row)).size;
      const counts: ChunkCounts = {
        created: writes.inserts.length,
        updated: writes.updates.length,
        unchanged: writes.unchanged,
        skipped: rowsWith('skipped'),
        rejected: rowsWith('rejected'),
        departmentsCreated: accepted.planned.length,
      };
      await this.imports.recordChunk(em, job, from + rows.length, counts);
      return counts;
    });
  }

  /** Checks against the corp as it is now, in file order; refused rows join `issues`. */
  private async accept(
    em: EntityManager,
    job: ClaimedImport,
    inputs: MemberRowInput[],
    issues: RowIssue[],
  ): Promise<{
    rows: AcceptedRow[];
    planned: readonly PlannedDepartment[];
    memberships: Map<string, MemberDepartment[]>;
    tree: DepartmentRow[];
  }> {
    const { corpId, mode } = job;
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
      inputs.flatMap((r) => (r.mobile ? [r.mobile] : [])),
    );
    let memberCount = await this.members.count(em, corpId);
    const tree = await this.bulk.tree(em, corpId);
    const paths = new DepartmentPathResolver(
      tree,
      mode === 'overwrite',
      this.config.DEPARTMENT_MAX_PER_CORP,
    );
    const rows: AcceptedRow[] = [];
    for (const input of inputs) {
      const { row, userid, mobile } = input;
      const current = existing.get(userid);
      if (current && mode === 'add') {
        issues.push({
          ...rejection(
            row,
            'userid',
            'MEMBER_EXISTS',
            `${userid} already exists; add mode leaves existing members as they are.`,
          ),
          outcome: 'skipped',
        });
        continue;
      }
      const holder = mobile ? holders.get(mobile) : undefined;
      if (holder !== undefined && holder !== userid) {
        issues.push(
          rejection(
            row,
            'mobile',
            'MEMBER_MOBILE_TAKEN',
            `${mobile} is already the mobile of member ${holder}.`,
          ),
        );
        continue;
      }
      if (!current && memberCount >= this.config.CORP_MEMBER_LIMIT) {
        issues.push(
          rejection(
            row,
            'userid',
            'MEMBER_LIMIT_REACHED',
            `The corp has reached its limit of ${this.config.CORP_MEMBER_LIMIT} members.`,
          ),
        );
        continue;
      }
      let departmentRefs: number[] | null = null;
      if (input.departments) {
        const resolved = paths.resolve(input.departments);
        if ('code' in resolved) {
          issues.push(rejection(row, 'departments', resolved.code, resolved.message));
          continue;
        }
        departmentRefs = resolved.departmentIds;
      }
      if (!current) memberCount++;
      rows.push({ input, current, departmentRefs });
    }
    return { rows, planned: paths.planned, memberships, tree };
  }

  /** What each accepted row writes; an overwrite that changes nothing writes nothing. */
  private memberWrites(
    rows: AcceptedRow[],
    memberships: Map<string, MemberDepartment[]>,
    createdIds: Map<number, number>,
  ): MemberWrites {
    const writes: MemberWrites = {
      inserts: [],
      updates: [],
      memberships: [],
      upserts: [],
      deletes: [],
      before: new Map(),
      changed: [],
      unchanged: 0,
    };
    for (const { input, current, departmentRefs } of rows) {
      const { userid } = input;
      const departmentIds = departmentRefs?.map((ref) =>
        ref < 0 ? (createdIds.get(ref) as number) : ref,
      );
      if (!current) {
        const ids = departmentIds ?? [ROOT_DEPARTMENT_ID];
        writes.inserts.push({
          userid,
          name: input.name,
          mobile: input.mobile,
          email: input.email,
          position: input.position ?? '',
          mainDepartmentId: ids[0],
        });
        ids.forEach((id, i) =>
          writes.memberships.push({ userid, departmentId: id, isMain: i === 0 }),
        );
        writes.changed.push(userid);
        continue;
      }
      // Overwrite: empty cells keep what the member has (as WeCom's incremental sync does).
      const had = memberships.get(userid) ?? [];
      const ids = departmentIds ?? had.map((d) => d.departmentId);
      const main = departmentIds ? departmentIds[0] : current.mainDepartmentId;
      const profile: MemberProfileRow = {
        userid,
        name: input.name,
        mobile: input.mobile ?? current.mobile,
        email: input.email ?? current.email,
        position: input.position ?? current.position,
        mainDepartmentId: main,
      };
      const removed = had.filter((d) => !ids.includes(d.departmentId));
      const upserts = ids
        .filter((id) => had.find((d) => d.departmentId === id)?.isMain !== (id === main))
        .map((id) => ({ userid, departmentId: id, isMain: id === main }));
      const profileChanged =
        profile.name !== current.name ||
        profile.mobile !== current.mobile ||
        profile.email !== current.email ||
        profile.position !== current.position ||
        profile.mainDepartmentId !== current.mainDepartmentId;
      if (!profileChanged && removed.length === 0 && upserts.length === 0) {
        writes.unchanged++;
        continue;
      }
      writes.updates.push(profile);
      writes.deletes.push(...removed.map((d) => ({ userid, departmentId: d.departmentId })));
      writes.upserts.push(...upserts);
      writes.before.set(userid, { member: current, departments: had });
      writes.changed.push(userid);
    }
    return writes;
  }

  /** Member events with the full state after the writes, and their audit entries. */
  private async announce(
    em: EntityManager,
    corpId: CorpId,
    writes: MemberWrites,
    audit: AuditEntry[],
  ): Promise<void> {
    const userids = writes.changed;
    if (userids.length === 0) return;
    // The full state events carry: memberships and (for admins) scopes included.
    const states = new Map(
      (
        await this.members.withDepartments(em, corpId, await this.bulk.members(em, corpId, userids))
      ).map((state) => [state.member.userid, state]),
    );
    const events = userids.map((userid) => {
      const state = states.get(userid) as MemberWithDepartments;
      const before = writes.before.get(userid);
      const change = before ? 'updated' : 'created';
      audit.push({
        action: `member.${change}`,
        targetType: 'member',
        targetId: userid,
        before,
        after: state,
      });
      return memberChanged(change, state);
    });
    await this.outbox.publishAll(em, IDENTITY_MEMBER_TOPIC, events);
  }
}
