import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { IDENTITY_MEMBER_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { isUniqueViolation, TransactionRunner, type CorpId } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
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
  LastSuperAdminException,
  MainDepartmentNotAMembershipException,
  MemberDepartmentNotFoundException,
  MemberLimitReachedException,
  MemberMobileTakenException,
  MemberNotFoundException,
  MemberStatusTransitionException,
  MemberUseridTakenException,
} from './member.exceptions';
import { MembersRepository, type MemberWithDepartments } from './members.repository';

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

export interface CreateMemberInput extends MemberProfileInput {
  userid?: string;
  name: string;
  departments: MembershipInput[];
  status?: 'active' | 'inactive';
}

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

  create(corpId: CorpId, input: CreateMemberInput): Promise<MemberWithDepartments> {
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
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

  update(
    corpId: CorpId,
    userid: string,
    input: MemberProfileInput,
  ): Promise<MemberWithDepartments> {
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const current = await this.members.findWithDepartments(em, corpId, userid);
      if (!current) throw new MemberNotFoundException(userid);
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
      return this.announce(em, corpId, userid, 'updated', current);
    });
  }

  /** disable, enable, or mark as left (离职). */
  changeStatus(
    corpId: CorpId,
    userid: string,
    to: 'disabled' | 'active' | 'left',
  ): Promise<MemberWithDepartments> {
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const member = await this.members.find(em, corpId, userid);
      if (!member) throw new MemberNotFoundException(userid);
      const allowed: Record<typeof to, MemberStatus[]> = {
        disabled: ['active', 'inactive'],
        active: ['disabled'],
        left: ['active', 'inactive', 'disabled'],
      };
      if (!allowed[to].includes(member.status))
        throw new MemberStatusTransitionException(member.status, to);
      if (to !== 'active') await this.keepASuperAdmin(em, corpId, member);
      await em.getRepository(Member).update(
        { corpId, userid },
        {
          status: to,
          ...(to === 'left' ? { leftAt: new Date() } : {}),
          // Disabled or gone: every token issued so far stops working at once.
          ...(to !== 'active' ? { tokensValidAfter: new Date() } : {}),
        },
      );
      if (to !== 'active') await revokeMemberRefreshTokens(em, corpId, userid);
      const change: MemberChange = to === 'active' ? 'enabled' : to;
      return this.announce(em, corpId, userid, change, member);
    });
  }

  remove(corpId: CorpId, userid: string): Promise<void> {
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const member = await this.members.find(em, corpId, userid);
      if (!member) throw new MemberNotFoundException(userid);
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
    });
  }

  async get(corpId: CorpId, userid: string): Promise<MemberWithDepartments> {
    const found = await this.members.findWithDepartments(this.dataSource.manager, corpId, userid);
    if (!found) throw new MemberNotFoundException(userid);
    return found;
  }

  async inDepartment(
    corpId: CorpId,
    departmentId: number,
    options: { recursive: boolean; status?: MemberStatus; cursor?: string; limit: number },
  ): Promise<{ items: MemberWithDepartments[]; nextCursor: string | null }> {
    const department = await this.departments.get(corpId, departmentId);
    const after = decodeCursor(options.cursor, isUseridCursor);
    const em = this.dataSource.manager;
    const rows = await this.members.inDepartment(em, corpId, department, {
      ...options,
      after: after?.userid,
    });
    const page = rows.slice(0, options.limit);
    const memberships = await this.members.departmentsOf(
      em,
      corpId,
      page.map((m) => m.userid),
    );
    const last = page[page.length - 1];
    return {
      items: page.map((member) => ({ member, departments: memberships.get(member.userid) ?? [] })),
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
  ): Promise<MemberWithDepartments> {
    const state = (await this.members.findWithDepartments(
      em,
      corpId,
      userid,
    )) as MemberWithDepartments;
    await recordAudit(em, corpId, {
      action: `member.${change}`,
      targetType: 'member',
      targetId: userid,
      before,
      after: state,
    });
    await this.outbox.publish(
      em,
      IDENTITY_MEMBER_TOPIC,
      memberChanged(change, state.member, state.departments),
    );
    return state;
  }
}
