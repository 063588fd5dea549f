import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_CONVERSATION_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { isUniqueViolation, TransactionRunner } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { conversationCreated, conversationDisbanded } from './conversation-events';
import type { ConversationState } from './conversation-state';
import {
  DepartmentGroupExistsException,
  DepartmentGroupNotAllowedException,
  DepartmentUnknownException,
  GroupFullException,
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
          throw new GroupFullException(this.config.GROUP_MEMBER_LIMIT);
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
   * projection): into the department groups that now cover them, out of the others.
   */
  async memberChanged(em: EntityManager, corpId: string, userid: string): Promise<void> {
    await this.departments.lockCorp(em, corpId);
    const placement = await this.departments.placementOf(em, corpId, userid);
    const active = placement?.status === 'active';
    const wanted = new Set(
      active ? await this.departments.groupsCovering(em, corpId, placement.departmentIds) : [],
    );
    const current = new Set(await this.departments.groupsOfMember(em, corpId, userid));
    for (const id of wanted) {
      if (current.has(id)) continue;
      const c = await this.conversations.load(em, corpId, id, { lock: true });
      if (c) await this.groups.join(em, c, [userid], '');
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
  }

  /** A new department: members whose events came before it now have a place in the tree. */
  async departmentCreated(em: EntityManager, corpId: string, departmentId: number): Promise<void> {
    for (const userid of await this.departments.membersOf(em, corpId, departmentId))
      await this.memberChanged(em, corpId, userid);
  }

  /**
   * Departments moved (their subtrees with them): every department group at or above
   * these paths (old and new) takes in exactly its subtree's active members again.
   */
  async departmentsChanged(em: EntityManager, corpId: string, paths: string[]): Promise<void> {
    await this.departments.lockCorp(em, corpId);
    for (const id of await this.departments.groupsAbove(em, corpId, paths)) {
      let c = await this.conversations.load(em, corpId, id, { lock: true });
      if (!c || c.departmentId === null) continue;
      const wanted = await this.departments.subtreeMembers(em, corpId, c.departmentId);
      const present = new Set(c.participants.map((p) => p.userid));
      const joining = wanted.filter((u) => !present.has(u));
      const keep = new Set(wanted);
      const leaving = [...present].filter((u) => !keep.has(u));
      // Join first: a group whose members all change is never emptied (and disbanded) midway.
      if (joining.length) c = await this.groups.join(em, c, joining, '');
      if (leaving.length) await this.groups.remove(em, c, leaving, '', 'left_department');
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
