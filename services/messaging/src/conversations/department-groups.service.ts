import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_CONVERSATION_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { isUniqueViolation, TransactionRunner } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { LOGGER, type Logger } from '@qiwei/platform';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import {
  conversationCreated,
  conversationDisbanded,
  conversationMembersLeftOut,
} from './conversation-events';
import { headcount, type ConversationState } from './conversation-state';
import {
  DepartmentGroupExistsException,
  DepartmentGroupNotAllowedException,
  DepartmentGroupTooLargeException,
  DepartmentUnknownException,
  OwnerNotInDepartmentException,
} from './conversation.exceptions';
import { ConversationsRepository } from './conversations.repository';
import { ConversationsService } from './conversations.service';
import { DepartmentGroupsRepository } from './department-groups.repository';

/**
 * Department groups (部门群): the participants are exactly the active members of a department
 * and the departments below it. Identity's member and department events, applied to messaging's
 * directory projection, move people in and out in the same transaction (members_added and
 * members_removed with reason `left_department`, `by` empty); nobody is added or removed by hand.
 *
 * The member limit holds: a group is created only for a subtree that fits it, and once the
 * group is full, members who would join wait for a seat instead (members_left_out, a warning in
 * the log); they join, oldest first, as seats free up.
 */
@Injectable()
export class DepartmentGroupsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly departments: DepartmentGroupsRepository,
    private readonly conversations: ConversationsRepository,
    private readonly groups: ConversationsService,
    private readonly outbox: Outbox,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * A super admin, a department admin whose scope covers the department, or a leader of the
   * department or of one above it creates the department's group; `owner` (default: the caller)
   * must be in the subtree. One live group per department.
   */
  async create(
    caller: Principal,
    input: {
      departmentId: number;
      name: string;
      owner?: string;
      onlyAdminsPost?: boolean;
      onlyOwnerInvites?: boolean;
    },
  ): Promise<ConversationState> {
    const corpId = caller.corpId;
    try {
      return await this.transactions.run(async (em) => {
        await this.departments.lockCorp(em, corpId);
        const path = await this.departments.pathOf(em, corpId, input.departmentId);
        if (!path) throw new DepartmentUnknownException(input.departmentId);
        if (!caller.roles.includes('super_admin')) {
          const authority = await this.departments.authorityOf(em, corpId, caller.userId);
          const covering = [...(authority?.leaderOf ?? []), ...(authority?.adminOf ?? [])];
          if (!covering.some((id) => path.includes(id)))
            throw new DepartmentGroupNotAllowedException();
        }
        const existing = await this.departments.groupOf(em, corpId, input.departmentId);
        if (existing) throw new DepartmentGroupExistsException(input.departmentId, existing);
        const members = await this.departments.subtreeMembers(em, corpId, input.departmentId);
        const owner = input.owner ?? caller.userId;
        if (!members.includes(owner))
          throw new OwnerNotInDepartmentException(owner, input.departmentId);
        if (members.length > this.config.GROUP_MEMBER_LIMIT)
          throw new DepartmentGroupTooLargeException(
            input.departmentId,
            members.length,
            this.config.GROUP_MEMBER_LIMIT,
          );
        const id = randomUUID();
        await this.conversations.insert(em, {
          corpId,
          id,
          kind: 'department',
          name: input.name,
          owner,
          singleKey: null,
          onlyAdminsPost: input.onlyAdminsPost ?? false,
          onlyOwnerInvites: input.onlyOwnerInvites ?? false,
          memberLimit: this.config.GROUP_MEMBER_LIMIT,
          createdBy: caller.userId,
          departmentId: input.departmentId,
        });
        await this.conversations.addMembers(
          em,
          corpId,
          id,
          members.map((userid) => ({
            userid,
            role: userid === owner ? ('owner' as const) : ('member' as const),
          })),
        );
        const state = (await this.conversations.load(em, corpId, id)) as ConversationState;
        await this.outbox.publish(em, MESSAGING_CONVERSATION_TOPIC, conversationCreated(state));
        return state;
      });
    } catch (error) {
      if (!isUniqueViolation(error, 'conversations_department_uq')) throw error;
      // Created by someone else at the same moment.
      const existing = await this.transactions.run((em) =>
        this.departments.groupOf(em, corpId, input.departmentId),
      );
      throw new DepartmentGroupExistsException(input.departmentId, existing ?? '');
    }
  }

  /**
   * Takes the corp's department-group lock until commit. The member consumer takes it before
   * it locks any group (as the department consumer does), so the two never wait on each other
   * in opposite orders.
   */
  serialise(em: EntityManager, corpId: string): Promise<void> {
    return this.departments.lockCorp(em, corpId);
  }

  /**
   * A member's status or departments changed (identity's member event, already applied to the
   * projection): into the department groups that now cover them (or onto their waiting lists
   * when full), out of the others — whose freed seats go to those waiting.
   */
  async memberChanged(em: EntityManager, corpId: string, userid: string): Promise<void> {
    await this.departments.lockCorp(em, corpId);
    const placement = await this.departments.placementOf(em, corpId, userid);
    const active = placement?.status === 'active';
    const wanted = new Set(
      active ? await this.departments.groupsCovering(em, corpId, placement.departmentIds) : [],
    );
    const current = new Set(await this.departments.groupsOfMember(em, corpId, userid));
    await this.departments.unwaitElsewhere(em, corpId, userid, [...wanted]);
    for (const id of wanted) {
      if (current.has(id)) continue;
      const c = await this.conversations.load(em, corpId, id, { lock: true });
      if (!c) continue;
      // Those waiting already go first: a group with anyone waiting has no free seat.
      if (headcount(c) < c.memberLimit && !c.waiting.length) {
        await this.groups.join(em, c, [userid], '');
      } else if (!c.waiting.includes(userid)) await this.leaveOut(em, c, [userid]);
    }
    const reason = active
      ? 'left_department'
      : placement?.status === 'left' || placement?.status === 'deleted' || !placement
        ? 'left_corp'
        : 'disabled';
    for (const id of current) {
      if (wanted.has(id)) continue;
      const c = await this.conversations.load(em, corpId, id, { lock: true });
      if (c) await this.groups.remove(em, c, [userid], '', reason);
    }
    // Seats freed here, or earlier in this transaction (a member who left the corp is taken out
    // of every group before this runs).
    await this.admitWaiting(em, corpId);
  }

  /** A new department: members whose events came before it now have a place in the tree. */
  async departmentCreated(em: EntityManager, corpId: string, departmentId: number): Promise<void> {
    for (const userid of await this.departments.membersOf(em, corpId, departmentId))
      await this.memberChanged(em, corpId, userid);
  }

  /**
   * Departments moved (their subtrees with them): every department group at or above
   * these paths (old and new) takes in exactly its subtree's active members again, as far as
   * its member limit allows — those waiting first, then newcomers by userid; the rest wait.
   */
  async departmentsChanged(em: EntityManager, corpId: string, paths: string[]): Promise<void> {
    await this.departments.lockCorp(em, corpId);
    for (const id of await this.departments.groupsAbove(em, corpId, paths)) {
      let c = await this.conversations.load(em, corpId, id, { lock: true });
      if (!c || c.departmentId === null) continue;
      const wanted = await this.departments.subtreeMembers(em, corpId, c.departmentId);
      await this.departments.keepWaiting(em, corpId, c.id, wanted);
      const keep = new Set(wanted);
      const present = new Set(c.participants.map((p) => p.userid));
      const leaving = [...present].filter((u) => !keep.has(u));
      const waiting = c.waiting.filter((u) => keep.has(u));
      const newcomers = wanted.filter((u) => !present.has(u) && !waiting.includes(u));
      const seats = Math.max(0, c.memberLimit - (present.size - leaving.length));
      const joining = [...waiting, ...newcomers].slice(0, seats);
      const leftOut = newcomers.filter((u) => !joining.includes(u));
      const join = async (group: ConversationState) => {
        if (!joining.length) return group;
        await this.departments.unwait(em, corpId, group.id, joining);
        return this.groups.join(em, group, joining, '');
      };
      // A group whose members all change joins first, so it is never emptied (and disbanded)
      // midway; otherwise members leave first, so the limit holds throughout.
      if (leaving.length && leaving.length === present.size) {
        c = await join(c);
        await this.groups.remove(em, c, leaving, '', 'left_department');
      } else {
        if (leaving.length) c = await this.groups.remove(em, c, leaving, '', 'left_department');
        c = await join(c);
      }
      if (leftOut.length) {
        const reloaded = await this.conversations.load(em, corpId, c.id, { lock: true });
        if (reloaded) await this.leaveOut(em, reloaded, leftOut);
      }
    }
    await this.admitWaiting(em, corpId);
  }

  /**
   * The group is full: these members of its subtree wait for a seat. Announced
   * (members_left_out, with the whole waiting list) and logged, so the corp's admins can act.
   */
  private async leaveOut(em: EntityManager, c: ConversationState, userids: string[]) {
    const added = await this.departments.wait(em, c.corpId, c.id, userids);
    if (!added.length) return;
    const state = (await this.conversations.load(em, c.corpId, c.id)) as ConversationState;
    await this.outbox.publish(
      em,
      MESSAGING_CONVERSATION_TOPIC,
      conversationMembersLeftOut(state, added),
    );
    this.logger.warn(
      {
        corpId: c.corpId,
        conversationId: c.id,
        departmentId: c.departmentId,
        memberLimit: c.memberLimit,
        leftOut: added,
        waiting: state.waiting.length,
      },
      'department group at its member limit: members of its subtree wait for a seat',
    );
  }

  /** Department groups of the corp with seats free let those waiting in, oldest first. */
  private async admitWaiting(em: EntityManager, corpId: string): Promise<void> {
    for (const id of await this.departments.groupsWithSeatsAndWaiting(em, corpId)) {
      const c = await this.conversations.load(em, corpId, id, { lock: true });
      if (!c || c.departmentId === null) continue;
      const seats = c.memberLimit - headcount(c);
      if (seats <= 0) continue;
      const next = await this.departments.nextWaiting(em, corpId, c.id, c.departmentId, seats);
      if (!next.length) continue;
      await this.departments.unwait(em, corpId, c.id, next);
      await this.groups.join(em, c, next, '');
    }
  }

  /** The department is gone: its group (emptied before, as identity deletes only empty ones) ends. */
  async departmentDeleted(em: EntityManager, corpId: string, departmentId: number): Promise<void> {
    await this.departments.lockCorp(em, corpId);
    const id = await this.departments.groupOf(em, corpId, departmentId);
    if (!id) return;
    const at = new Date();
    await this.conversations.disband(em, corpId, id, at);
    await this.outbox.publish(
      em,
      MESSAGING_CONVERSATION_TOPIC,
      conversationDisbanded(corpId, id, '', at),
    );
  }
}
