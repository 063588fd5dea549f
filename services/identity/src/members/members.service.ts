import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { IDENTITY_MEMBER_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { isUniqueViolation, TransactionRunner, type CorpId } from '@qiwei/persistence';
import { ForbiddenException } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';
import type { Access } from '../access/access';
import { revokeMemberRefreshTokens } from '../auth/refresh-tokens';
import { recordAudit } from '../audit/audit-log';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { lockCorpForWrite } from '../corps/corp-lock';
import { decodeCursor, encodeCursor, isUseridCursor } from '../pagination/cursor';
import { DepartmentsService } from '../departments/departments.service';
import { memberChanged, memberDeleted, type MemberChange } from './member-events';
import { Member, type Gender, type MemberStatus } from './member.entity';
import {
  DirectLeaderInvalidException,
  AdminScopeInvalidException,
  LastSuperAdminException,
  MainDepartmentNotAMembershipException,
  MemberDepartmentNotFoundException,
  MemberLimitReachedException,
  MemberMobileTakenException,
  MemberNotFoundException,
  MemberStatusTransitionException,
  MemberUseridTakenException,
} from './member.exceptions';
import {
  MembersRepository,
  type MemberAdminScope,
  type MemberWithDepartments,
} from './members.repository';

export interface MembershipInput {
  id: number;
  order?: number;
  isLeader?: boolean;
}

export interface MemberProfileInput {
  name?: string;
  mobile?: string | null;
  email?: string | null;
  position?: string;
  gender?: Gender;
  departments?: MembershipInput[];
  mainDepartmentId?: number;
  directLeaders?: string[];
}

export type AssignableRole = 'super_admin' | 'department_admin' | 'compliance_officer';

export interface RolesInput {
  roles: AssignableRole[];
  scopes?: MemberAdminScope[];
}

export interface CreateMemberInput extends MemberProfileInput {
  userid?: string;
  name: string;
  departments: MembershipInput[];
  status?: 'active' | 'inactive' | 'disabled';
}

export interface UpdateMemberInput extends MemberProfileInput {
  /**
   * `false` disables the member (unless already disabled); `true` enables a disabled member and
   * leaves any other status as it is (an invited member stays invited).
   */
  enabled?: boolean;
}

export interface MemberPage {
  items: MemberWithDepartments[];
  nextCursor: string | null;
}

type StatusChange = 'disabled' | 'active' | 'left';

// From which statuses each change may be made.
const STATUS_CHANGES_FROM: Record<StatusChange, MemberStatus[]> = {
  disabled: ['active', 'inactive'],
  active: ['disabled'],
  left: ['active', 'inactive', 'disabled'],
};

/**
 * The corp's members. Writes take the corp's row lock (as department writes do), so
 * memberships, the last-super-admin rule and the order of member events stay consistent.
 * Every change is announced on `qiwei.identity.member.v1` in the same transaction.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly members: MembersRepository,
    private readonly departments: DepartmentsService,
    private readonly outbox: Outbox,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  create(access: Access, input: CreateMemberInput): Promise<MemberWithDepartments> {
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      access.assertMayAdminister(
        'contacts:edit',
        await this.pathsOf(
          em,
          access,
          input.departments.map((d) => d.id),
        ),
      );
      const userid = input.userid ?? `qw${randomBytes(6).toString('hex')}`;
      if (await this.members.find(em, corpId, userid)) throw new MemberUseridTakenException(userid);
      if ((await this.members.count(em, corpId)) >= this.config.CORP_MEMBER_LIMIT) {
        throw new MemberLimitReachedException(this.config.CORP_MEMBER_LIMIT);
      }
      const memberships = await this.checkProfile(em, corpId, userid, input);
      if (input.mobile && (await this.members.mobileTaken(em, corpId, input.mobile))) {
        throw new MemberMobileTakenException();
      }
      const mainDepartmentId = input.mainDepartmentId ?? memberships[0].id;
      try {
        await em.getRepository(Member).insert({
          corpId,
          userid,
          name: input.name,
          mobile: input.mobile ?? null,
          email: input.email ?? null,
          position: input.position ?? '',
          gender: input.gender ?? 'unknown',
          status: input.status ?? 'active',
          roles: ['member'],
          mainDepartmentId,
          directLeaders: input.directLeaders ?? [],
        });
      } catch (error) {
        if (isUniqueViolation(error, 'members_mobile_uq')) throw new MemberMobileTakenException();
        throw error;
      }
      await this.members.replaceDepartments(em, corpId, userid, mainDepartmentId, memberships);
      return this.announce(em, corpId, userid, 'created');
    });
  }

  update(access: Access, userid: string, input: UpdateMemberInput): Promise<MemberWithDepartments> {
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const current = await this.manageable(em, access, userid);
      if (input.departments) {
        // Every membership added or removed must lie inside the admin's scope.
        const before = current.departments.map((d) => d.departmentId);
        const after = input.departments.map((d) => d.id);
        const added = after.filter((id) => !before.includes(id));
        const removed = before.filter((id) => !after.includes(id));
        access.assertMayAdminister('contacts:edit', [
          ...(await this.pathsOf(em, access, added)),
          ...(await this.pathsOfExisting(em, access, removed)),
        ]);
      }
      const departments =
        input.departments ??
        current.departments.map((d) => ({
          id: d.departmentId,
          order: d.order,
          isLeader: d.isLeader,
        }));
      const mainDepartmentId =
        input.mainDepartmentId ??
        (departments.some((d) => d.id === current.member.mainDepartmentId)
          ? current.member.mainDepartmentId
          : departments[0]?.id);
      const memberships = await this.checkProfile(em, corpId, userid, {
        ...input,
        departments,
        mainDepartmentId,
      });
      if (input.mobile && (await this.members.mobileTaken(em, corpId, input.mobile, userid))) {
        throw new MemberMobileTakenException();
      }
      try {
        await em.getRepository(Member).update(
          { corpId, userid },
          {
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.mobile !== undefined ? { mobile: input.mobile } : {}),
            ...(input.email !== undefined ? { email: input.email } : {}),
            ...(input.position !== undefined ? { position: input.position } : {}),
            ...(input.gender !== undefined ? { gender: input.gender } : {}),
            ...(input.directLeaders !== undefined ? { directLeaders: input.directLeaders } : {}),
            mainDepartmentId,
          },
        );
      } catch (error) {
        if (isUniqueViolation(error, 'members_mobile_uq')) throw new MemberMobileTakenException();
        throw error;
      }
      await this.members.replaceDepartments(em, corpId, userid, mainDepartmentId, memberships);
      const status = current.member.status;
      const statusChange: StatusChange | null =
        input.enabled === false && status !== 'disabled'
          ? 'disabled'
          : input.enabled === true && status === 'disabled'
            ? 'active'
            : null;
      const updated = await this.announce(em, corpId, userid, 'updated', current);
      if (!statusChange) return updated;
      await this.applyStatusChange(em, corpId, updated.member, statusChange);
      return this.announce(em, corpId, userid, changeAnnounced(statusChange), updated);
    });
  }

  /** disable, enable, or mark as left (离职). */
  changeStatus(access: Access, userid: string, to: StatusChange): Promise<MemberWithDepartments> {
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const { member } = await this.manageable(em, access, userid);
      await this.applyStatusChange(em, corpId, member, to);
      return this.announce(em, corpId, userid, changeAnnounced(to), member);
    });
  }

  remove(access: Access, userid: string): Promise<void> {
    return this.removeMany(access, [userid]);
  }

  /** Deletes several members, all or nothing. */
  removeMany(access: Access, userids: string[]): Promise<void> {
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      for (const userid of userids) {
        const { member } = await this.manageable(em, access, userid);
        // Checked after the members before it are gone: the last super admins never all go.
        await this.keepASuperAdmin(em, corpId, member);
        await em.getRepository(Member).delete({ corpId, userid }); // memberships cascade
        await recordAudit(em, corpId, {
          action: 'member.deleted',
          targetType: 'member',
          targetId: userid,
          before: member,
        });
        await this.outbox.publish(
          em,
          IDENTITY_MEMBER_TOPIC,
          memberDeleted(corpId, userid, new Date()),
        );
      }
    });
  }

  async get(access: Access, userid: string): Promise<MemberWithDepartments> {
    return this.visible(this.dataSource.manager, access, userid);
  }

  /**
   * Makes a member a super admin, department admin (with a scope of department subtrees and
   * permissions) and/or compliance officer, or takes those roles away. Tokens issued before
   * stop working, so a demotion takes effect at once; refreshing picks up the new roles.
   */
  setRoles(access: Access, userid: string, input: RolesInput): Promise<MemberWithDepartments> {
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const current = await this.members.findWithDepartments(em, corpId, userid);
      if (!current) throw new MemberNotFoundException(userid);
      const scopes = input.scopes ?? [];
      if (input.roles.includes('department_admin') !== scopes.length > 0) {
        throw new AdminScopeInvalidException(
          input.roles.includes('department_admin')
            ? 'A department admin needs at least one scope.'
            : 'Scopes are only for department admins.',
        );
      }
      const ids = scopes.map((s) => s.departmentId);
      if (new Set(ids).size !== ids.length)
        throw new AdminScopeInvalidException('Each department appears in one scope only.');
      const existing = await this.members.existingDepartments(em, corpId, ids);
      const missing = ids.filter((id) => !existing.has(id));
      if (missing.length) throw new MemberDepartmentNotFoundException(missing);
      if (!input.roles.includes('super_admin'))
        await this.keepASuperAdmin(em, corpId, current.member);
      const roles = ['member' as const, ...[...new Set(input.roles)].sort()];
      await em.query(
        `UPDATE members SET roles = $3::text[], updated_at = now(), tokens_valid_after = $4
          WHERE corp_id = $1 AND userid = $2`,
        [corpId, userid, roles, new Date()],
      );
      await this.members.replaceScopes(em, corpId, userid, scopes);
      return this.announce(em, corpId, userid, 'updated', current, 'member.roles_changed');
    });
  }

  /** The corp's admins (super admins, department admins, compliance officers) with their scopes. */
  async admins(access: Access): Promise<MemberWithDepartments[]> {
    const em = this.dataSource.manager;
    const members = await em
      .getRepository(Member)
      .createQueryBuilder('m')
      .where('m.corp_id = :corpId', { corpId: access.corpId })
      .andWhere(`m.roles && ARRAY['super_admin', 'department_admin', 'compliance_officer']::text[]`)
      .orderBy('m.userid', 'ASC')
      .limit(1000)
      .getMany();
    return this.members.withDepartments(em, access.corpId, members);
  }

  async inDepartment(
    access: Access,
    departmentId: number,
    options: { recursive: boolean; status?: MemberStatus; cursor?: string; limit: number },
  ): Promise<MemberPage> {
    const department = await this.departments.get(access, departmentId);
    return this.page(access, department, options);
  }

  /** Every member the caller can see, by userid (WeCom's `user/list_id`). */
  list(access: Access, options: { cursor?: string; limit: number }): Promise<MemberPage> {
    // Every path starts with `/`: the whole corp, narrowed to what the caller can see.
    return this.page(access, { id: 0, path: '/' }, { ...options, recursive: true });
  }

  /** Those of these members the caller can see; unknown and hidden ones are left out. */
  visibleAmong(access: Access, userids: string[]): Promise<Member[]> {
    return this.members.visibleAmong(this.dataSource.manager, access, userids);
  }

  private async page(
    access: Access,
    department: { id: number; path: string },
    options: { recursive: boolean; status?: MemberStatus; cursor?: string; limit: number },
  ): Promise<MemberPage> {
    const after = decodeCursor(options.cursor, isUseridCursor);
    const em = this.dataSource.manager;
    const rows = await this.members.inDepartment(em, access, department, {
      ...options,
      after: after?.userid,
    });
    const page = rows.slice(0, options.limit);
    const last = page[page.length - 1];
    return {
      items: await this.members.withDepartments(em, access.corpId, page),
      nextCursor:
        rows.length > options.limit && last ? encodeCursor({ userid: last.userid }) : null,
    };
  }

  /** Validates departments, main department and direct leaders; returns normalised memberships. */
  private async checkProfile(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    input: MemberProfileInput,
  ): Promise<{ id: number; order: number; isLeader: boolean }[]> {
    const departments = input.departments ?? [];
    const ids = departments.map((d) => d.id);
    const existing = await this.members.existingDepartments(em, corpId, ids);
    const missing = ids.filter((id) => !existing.has(id));
    if (missing.length) throw new MemberDepartmentNotFoundException(missing);
    if (input.mainDepartmentId !== undefined && !ids.includes(input.mainDepartmentId)) {
      throw new MainDepartmentNotAMembershipException(input.mainDepartmentId);
    }
    const leaders = input.directLeaders ?? [];
    if (leaders.includes(userid))
      throw new DirectLeaderInvalidException('A member cannot be their own direct leader.');
    if (leaders.length) {
      const found = await this.members.existingUserids(em, corpId, leaders);
      const unknown = leaders.filter((l) => !found.has(l));
      if (unknown.length)
        throw new DirectLeaderInvalidException(`Unknown member(s): ${unknown.join(', ')}.`);
    }
    return departments.map((d) => ({
      id: d.id,
      order: d.order ?? 0,
      isLeader: d.isLeader ?? false,
    }));
  }

  /** Paths of these departments; ones that do not exist or the caller cannot see are 404. */
  private async pathsOf(em: EntityManager, access: Access, ids: number[]): Promise<string[]> {
    const rows = await em.query<{ id: number; path: string }[]>(
      'SELECT id, path FROM departments WHERE corp_id = $1 AND id = ANY($2::int[])',
      [access.corpId, ids],
    );
    const paths = new Map(rows.map((r) => [r.id, r.path]));
    const missing = ids.filter((id) => {
      const path = paths.get(id);
      return path === undefined || !access.canSeeDepartment(path);
    });
    if (missing.length) throw new MemberDepartmentNotFoundException(missing);
    return [...paths.values()];
  }

  /** The member if the caller can see them (otherwise 404, as if they did not exist). */
  private async visible(
    em: EntityManager,
    access: Access,
    userid: string,
  ): Promise<MemberWithDepartments & { paths: string[] }> {
    const found = await this.members.findWithDepartments(em, access.corpId, userid);
    if (!found) throw new MemberNotFoundException(userid);
    const paths = await this.pathsOfExisting(
      em,
      access,
      found.departments.map((d) => d.departmentId),
    );
    if (!access.canSeeMember(userid, paths)) throw new MemberNotFoundException(userid);
    return { ...found, paths };
  }

  /**
   * The member if the caller may administer them: a super admin always; a department admin
   * (`contacts:edit`) when one of the member's departments lies in their scope and the member
   * holds no admin role.
   */
  private async manageable(
    em: EntityManager,
    access: Access,
    userid: string,
  ): Promise<MemberWithDepartments> {
    const found = await this.visible(em, access, userid);
    if (access.isSuperAdmin) return found;
    if (!found.paths.some((path) => access.mayAdminister('contacts:edit', [path]))) {
      access.assertMayAdminister('contacts:edit', found.paths);
    }
    if (found.member.roles.some((role) => role !== 'member')) {
      throw new ForbiddenException(
        'Only a super admin can change a member who holds an admin role.',
        'ADMIN_TARGET_REQUIRES_SUPER_ADMIN',
      );
    }
    return found;
  }

  private async pathsOfExisting(
    em: EntityManager,
    access: Access,
    ids: number[],
  ): Promise<string[]> {
    const rows = await em.query<{ path: string }[]>(
      'SELECT path FROM departments WHERE corp_id = $1 AND id = ANY($2::int[])',
      [access.corpId, ids],
    );
    return rows.map((r) => r.path);
  }

  /** Disable, enable or mark as left, inside the caller's transaction. */
  private async applyStatusChange(
    em: EntityManager,
    corpId: CorpId,
    member: Member,
    to: StatusChange,
  ): Promise<void> {
    if (!STATUS_CHANGES_FROM[to].includes(member.status))
      throw new MemberStatusTransitionException(member.status, to);
    if (to !== 'active') await this.keepASuperAdmin(em, corpId, member);
    await em.getRepository(Member).update(
      { corpId, userid: member.userid },
      {
        status: to,
        ...(to === 'left' ? { leftAt: new Date() } : {}),
        // Disabled or gone: every token issued so far stops working at once.
        ...(to !== 'active' ? { tokensValidAfter: new Date() } : {}),
      },
    );
    if (to !== 'active') await revokeMemberRefreshTokens(em, corpId, member.userid);
  }

  private async keepASuperAdmin(em: EntityManager, corpId: CorpId, member: Member): Promise<void> {
    if (member.status === 'active' && member.roles.includes('super_admin')) {
      if ((await this.members.otherActiveSuperAdmins(em, corpId, member.userid)) === 0) {
        throw new LastSuperAdminException();
      }
    }
  }

  private async announce(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    change: MemberChange,
    before?: unknown,
    action = `member.${change}`,
  ): Promise<MemberWithDepartments> {
    const state = (await this.members.findWithDepartments(
      em,
      corpId,
      userid,
    )) as MemberWithDepartments;
    await recordAudit(em, corpId, {
      action,
      targetType: 'member',
      targetId: userid,
      before,
      after: state,
    });
    await this.outbox.publish(em, IDENTITY_MEMBER_TOPIC, memberChanged(change, state));
    return state;
  }
}

const changeAnnounced = (to: StatusChange): MemberChange => (to === 'active' ? 'enabled' : to);
