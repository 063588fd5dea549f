import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_CONVERSATION_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { isUniqueViolation, TransactionRunner } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { Directory } from '../directory/directory';
import { MessageTooLargeException } from '../messages/message.exceptions';
import {
  conversationCreated,
  conversationDisbanded,
  conversationExternalContactsAdded,
  conversationExternalContactsRemoved,
  conversationMembersAdded,
  conversationMembersRemoved,
  conversationSettingsChanged,
  type RemovalReason,
} from './conversation-events';
import {
  headcount,
  isGroupKind,
  roleOf,
  type ConversationKind,
  type ConversationState,
  type GroupKind,
  type GroupNotice,
  type GroupRole,
} from './conversation-state';
import {
  DepartmentGroupManagedException,
  ExternalContactsUnknownException,
  GroupFullException,
  GroupKindNotAllowedException,
  GroupRoleRequiredException,
  MemberLimitInvalidException,
  MembersUnknownException,
  NotAGroupException,
  OwnerMustTransferException,
  SingleWithSelfException,
} from './conversation.exceptions';
import { ConversationsRepository } from './conversations.repository';
import { GroupWelcome } from './group-welcome';

export { roleOf } from './conversation-state';

export interface GroupSettingsInput {
  name?: string;
  onlyAdminsPost?: boolean;
  onlyOwnerInvites?: boolean;
  owner?: string;
  admins?: string[];
  memberLimit?: number;
  /** Empty: no welcome message. */
  welcomeMessage?: string;
  tags?: string[];
}

const isAdmin = (role: GroupRole | undefined) => role === 'owner' || role === 'admin';

/**
 * Conversations: 1:1 (one per pair of members, created on first use) and groups with an owner,
 * admins and rules. Only participants see a conversation; every change is announced on
 * qiwei.messaging.conversation.v1 in the same transaction.
 */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationsRepository,
    private readonly directory: Directory,
    private readonly outbox: Outbox,
    private readonly welcome: GroupWelcome,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  /** The most members (and external contacts) a group of this kind may have. */
  limitOf(kind: GroupKind): number {
    return kind === 'external'
      ? this.config.EXTERNAL_GROUP_MEMBER_LIMIT
      : this.config.GROUP_MEMBER_LIMIT;
  }

  /** The 1:1 conversation with `peer`, created if it does not exist yet. */
  async openSingle(
    caller: Principal,
    peer: string,
  ): Promise<{ conversation: ConversationState; created: boolean }> {
    if (peer === caller.userId) throw new SingleWithSelfException();
    const singleKey = [caller.userId, peer].sort().join('|');
    const existing = await this.conversations.findSingle(
      this.dataSource.manager,
      caller.corpId,
      singleKey,
    );
    if (existing) return { conversation: await this.get(caller, existing), created: false };
    try {
      const conversation = await this.transactions.run(async (em) => {
        await this.assertActive(em, caller.corpId, [caller.userId, peer]);
        const id = randomUUID();
        await this.conversations.insert(em, {
          corpId: caller.corpId,
          id,
          kind: 'single',
          name: '',
          owner: null,
          singleKey,
          onlyAdminsPost: false,
          onlyOwnerInvites: false,
          memberLimit: 2,
          createdBy: caller.userId,
        });
        await this.conversations.addMembers(em, caller.corpId, id, [
          { userid: caller.userId, role: 'member' },
          { userid: peer, role: 'member' },
        ]);
        const state = (await this.conversations.load(em, caller.corpId, id)) as ConversationState;
        await this.outbox.publish(em, MESSAGING_CONVERSATION_TOPIC, conversationCreated(state));
        return state;
      });
      return { conversation, created: true };
    } catch (error) {
      // Both sides opened it at once: the other one won, which is the same conversation.
      if (!isUniqueViolation(error, 'conversations_single_uq')) throw error;
      const id = (await this.conversations.findSingle(
        this.dataSource.manager,
        caller.corpId,
        singleKey,
      )) as string;
      return { conversation: await this.get(caller, id), created: false };
    }
  }

  /**
   * An internal group, or an external group (members and external contacts): the caller owns
   * it. Department groups are created by DepartmentGroupsService.
   */
  createGroup(
    caller: Principal,
    input: {
      kind: 'group' | 'external';
      name: string;
      members: string[];
      externalUserids?: string[];
      onlyAdminsPost?: boolean;
      onlyOwnerInvites?: boolean;
    },
  ): Promise<ConversationState> {
    const members = [...new Set([caller.userId, ...input.members])];
    const externals = [...new Set(input.externalUserids ?? [])];
    const limit = this.limitOf(input.kind);
    if (members.length + externals.length > limit) throw new GroupFullException(limit);
    return this.transactions.run(async (em) => {
      await this.assertActive(em, caller.corpId, members);
      const id = randomUUID();
      await this.conversations.insert(em, {
        corpId: caller.corpId,
        id,
        kind: input.kind,
        name: input.name,
        owner: caller.userId,
        singleKey: null,
        onlyAdminsPost: input.onlyAdminsPost ?? false,
        onlyOwnerInvites: input.onlyOwnerInvites ?? false,
        memberLimit: limit,
        createdBy: caller.userId,
      });
      if (externals.length)
        await this.conversations.addExternalMembers(
          em,
          caller.corpId,
          id,
          externals,
          caller.userId,
        );
      await this.conversations.addMembers(
        em,
        caller.corpId,
        id,
        members.map((userid) => ({
          userid,
          role: userid === caller.userId ? ('owner' as const) : ('member' as const),
        })),
      );
      const state = (await this.conversations.load(em, caller.corpId, id)) as ConversationState;
      await this.outbox.publish(em, MESSAGING_CONVERSATION_TOPIC, conversationCreated(state));
      return state;
    });
  }

  /** The conversation, if the caller is in it (otherwise 404, as if it did not exist). */
  async get(caller: Principal, id: string): Promise<ConversationState> {
    return this.conversations.forParticipant(this.dataSource.manager, caller, id);
  }

  async listMine(
    caller: Principal,
    after: { updatedAt: string; id: string } | undefined,
    limit: number,
    filter: { kind?: ConversationKind; tag?: string } = {},
  ): Promise<{ items: ConversationState[]; more: boolean }> {
    const em = this.dataSource.manager;
    const rows = await this.conversations.listOf(
      em,
      caller.corpId,
      caller.userId,
      after,
      limit + 1,
      filter,
    );
    const items = await Promise.all(
      rows
        .slice(0, limit)
        .map(
          async (r) =>
            (await this.conversations.load(em, caller.corpId, r.id)) as ConversationState,
        ),
    );
    return { items, more: rows.length > limit };
  }

  changeSettings(
    caller: Principal,
    id: string,
    input: GroupSettingsInput,
  ): Promise<ConversationState> {
    return this.transactions.run(async (em) => {
      const c = await this.group(em, caller, id);
      const role = roleOf(c, caller.userId);
      const ownerOnly =
        input.owner !== undefined ||
        input.admins !== undefined ||
        input.onlyOwnerInvites !== undefined ||
        input.memberLimit !== undefined;
      if (ownerOnly && role !== 'owner')
        throw new GroupRoleRequiredException(
          'Only the owner transfers the group, names admins, sets who may invite or the member limit.',
        );
      if (!isAdmin(role))
        throw new GroupRoleRequiredException(
          'Only the owner and admins change the group’s settings.',
        );
      if (input.memberLimit !== undefined) this.checkMemberLimit(c, input.memberLimit);
      if (
        input.welcomeMessage !== undefined &&
        Buffer.byteLength(input.welcomeMessage, 'utf8') > this.config.MESSAGE_TEXT_MAX_BYTES
      )
        throw new MessageTooLargeException(this.config.MESSAGE_TEXT_MAX_BYTES);
      let owner = c.owner;
      if (input.owner !== undefined && input.owner !== c.owner) {
        if (!roleOf(c, input.owner)) throw new MembersUnknownException([input.owner]);
        await this.conversations.setRole(em, c.corpId, id, input.owner, 'owner');
        await this.conversations.setRole(em, c.corpId, id, caller.userId, 'admin');
        owner = input.owner;
      }
      if (input.admins !== undefined) {
        const strangers = input.admins.filter((u) => !roleOf(c, u));
        if (strangers.length) throw new MembersUnknownException(strangers);
        for (const p of c.participants) {
          if (p.userid === owner) continue;
          const wanted: GroupRole = input.admins.includes(p.userid) ? 'admin' : 'member';
          if (p.role !== wanted)
            await this.conversations.setRole(em, c.corpId, id, p.userid, wanted);
        }
      }
      await this.conversations.updateSettings(em, c.corpId, id, {
        name: input.name ?? c.name,
        owner,
        onlyAdminsPost: input.onlyAdminsPost ?? c.onlyAdminsPost,
        onlyOwnerInvites: input.onlyOwnerInvites ?? c.onlyOwnerInvites,
        memberLimit: input.memberLimit,
        welcomeMessage: input.welcomeMessage,
        tags: input.tags && [...new Set(input.tags.map((t) => t.trim()))],
      });
      const state = (await this.conversations.load(em, c.corpId, id)) as ConversationState;
      await this.outbox.publish(
        em,
        MESSAGING_CONVERSATION_TOPIC,
        conversationSettingsChanged(state),
      );
      return state;
    });
  }

  addMembers(caller: Principal, id: string, userids: string[]): Promise<ConversationState> {
    return this.transactions.run(async (em) => {
      const c = await this.group(em, caller, id);
      if (c.kind === 'department') throw new DepartmentGroupManagedException();
      this.assertMayInvite(c, caller.userId);
      const added = [...new Set(userids)].filter((u) => !roleOf(c, u));
      if (headcount(c) + added.length > c.memberLimit) throw new GroupFullException(c.memberLimit);
      await this.assertActive(em, c.corpId, added);
      if (!added.length) return c;
      return this.join(em, c, added, caller.userId);
    });
  }

  /**
   * Members join a group, in the caller's transaction: the conversation is touched, the change
   * announced, and the welcome message (if any) sent to them. No checks: callers check.
   */
  async join(
    em: EntityManager,
    c: ConversationState,
    userids: string[],
    by: string,
  ): Promise<ConversationState> {
    await this.conversations.addMembers(
      em,
      c.corpId,
      c.id,
      userids.map((userid) => ({ userid, role: 'member' as const })),
    );
    await this.conversations.touch(em, c.corpId, c.id);
    const state = (await this.conversations.load(em, c.corpId, c.id)) as ConversationState;
    await this.outbox.publish(
      em,
      MESSAGING_CONVERSATION_TOPIC,
      conversationMembersAdded(state, userids, by),
    );
    await this.welcome.greet(em, state, userids);
    return (await this.conversations.load(em, c.corpId, c.id)) as ConversationState;
  }

  /** External contacts join an external group (whoever may invite members adds them). */
  addExternalContacts(
    caller: Principal,
    id: string,
    externalUserids: string[],
  ): Promise<ConversationState> {
    return this.transactions.run(async (em) => {
      const c = await this.group(em, caller, id);
      if (c.kind !== 'external')
        throw new GroupKindNotAllowedException('Only an external group has external contacts.');
      this.assertMayInvite(c, caller.userId);
      const present = new Set(c.externalParticipants.map((e) => e.externalUserid));
      const added = [...new Set(externalUserids)].filter((e) => !present.has(e));
      if (headcount(c) + added.length > c.memberLimit) throw new GroupFullException(c.memberLimit);
      if (!added.length) return c;
      await this.conversations.addExternalMembers(em, c.corpId, id, added, caller.userId);
      await this.conversations.touch(em, c.corpId, id);
      const state = (await this.conversations.load(em, c.corpId, id)) as ConversationState;
      await this.outbox.publish(
        em,
        MESSAGING_CONVERSATION_TOPIC,
        conversationExternalContactsAdded(state, added, caller.userId),
      );
      await this.welcome.greet(em, state, []);
      return (await this.conversations.load(em, c.corpId, id)) as ConversationState;
    });
  }

  /** The owner or an admin removes an external contact from an external group. */
  removeExternalContact(
    caller: Principal,
    id: string,
    externalUserid: string,
  ): Promise<ConversationState> {
    return this.transactions.run(async (em) => {
      const c = await this.group(em, caller, id);
      if (c.kind !== 'external')
        throw new GroupKindNotAllowedException('Only an external group has external contacts.');
      if (!isAdmin(roleOf(c, caller.userId)))
        throw new GroupRoleRequiredException('Only the owner and admins remove external contacts.');
      if (!c.externalParticipants.some((e) => e.externalUserid === externalUserid))
        throw new ExternalContactsUnknownException([externalUserid]);
      await this.conversations.removeExternalMembers(em, c.corpId, id, [externalUserid]);
      await this.conversations.touch(em, c.corpId, id);
      const state = (await this.conversations.load(em, c.corpId, id)) as ConversationState;
      await this.outbox.publish(
        em,
        MESSAGING_CONVERSATION_TOPIC,
        conversationExternalContactsRemoved(state, [externalUserid], caller.userId),
      );
      return state;
    });
  }

  /** The owner or an admin publishes the group's notice (群公告): a new version; '' clears it. */
  publishNotice(caller: Principal, id: string, text: string): Promise<GroupNotice> {
    if (Buffer.byteLength(text, 'utf8') > this.config.MESSAGE_TEXT_MAX_BYTES)
      throw new MessageTooLargeException(this.config.MESSAGE_TEXT_MAX_BYTES);
    return this.transactions.run(async (em) => {
      const c = await this.group(em, caller, id);
      if (!isAdmin(roleOf(c, caller.userId)))
        throw new GroupRoleRequiredException('Only the owner and admins publish the group notice.');
      const notice = await this.conversations.publishNotice(
        em,
        c.corpId,
        id,
        text,
        caller.userId,
        new Date(),
      );
      const state = (await this.conversations.load(em, c.corpId, id)) as ConversationState;
      await this.outbox.publish(
        em,
        MESSAGING_CONVERSATION_TOPIC,
        conversationSettingsChanged(state),
      );
      return notice;
    });
  }

  /** Every version of the group's notice, newest first (any participant). */
  async noticeHistory(
    caller: Principal,
    id: string,
    beforeVersion: number | undefined,
    limit: number,
  ): Promise<{ items: GroupNotice[]; more: boolean }> {
    const em = this.dataSource.manager;
    const c = await this.conversations.forParticipant(em, caller, id);
    if (!isGroupKind(c.kind)) throw new NotAGroupException();
    const rows = await this.conversations.notices(em, c.corpId, id, beforeVersion, limit + 1);
    return { items: rows.slice(0, limit), more: rows.length > limit };
  }

  /** A member quits, or the owner or an admin removes someone (admins cannot remove admins). */
  removeMember(caller: Principal, id: string, userid: string): Promise<ConversationState> {
    return this.transactions.run(async (em) => {
      const c = await this.group(em, caller, id);
      const role = roleOf(c, caller.userId);
      const target = roleOf(c, userid);
      if (!target) throw new MembersUnknownException([userid]);
      const quitting = userid === caller.userId;
      if (c.kind === 'department') throw new DepartmentGroupManagedException();
      if (quitting && role === 'owner') throw new OwnerMustTransferException();
      if (!quitting && !(role === 'owner' || (role === 'admin' && target === 'member')))
        throw new GroupRoleRequiredException(
          'Only the owner removes admins; the owner and admins remove members.',
        );
      return this.remove(em, c, [userid], caller.userId, quitting ? 'quit' : 'removed');
    });
  }

  disband(caller: Principal, id: string): Promise<void> {
    return this.transactions.run(async (em) => {
      const c = await this.group(em, caller, id);
      if (roleOf(c, caller.userId) !== 'owner')
        throw new GroupRoleRequiredException('Only the owner disbands the group.');
      const at = new Date();
      await this.conversations.disband(em, c.corpId, id, at);
      await this.outbox.publish(
        em,
        MESSAGING_CONVERSATION_TOPIC,
        conversationDisbanded(c.corpId, id, caller.userId, at),
      );
    });
  }

  /**
   * A member left the corp or was disabled (离职自动退群): out of every group, in the caller's
   * transaction (the consumer of identity's member events). A group whose owner goes passes to
   * the longest-standing admin, else the longest-standing member; an emptied group is disbanded.
   */
  async removeFromAllGroups(
    em: EntityManager,
    corpId: string,
    userid: string,
    reason: 'left_corp' | 'disabled',
  ): Promise<void> {
    for (const id of await this.conversations.groupsOf(em, corpId, userid)) {
      const c = (await this.conversations.load(em, corpId, id, {
        lock: true,
      })) as ConversationState;
      await this.remove(em, c, [userid], '', reason);
    }
  }

  /**
   * Members leave a group, in the caller's transaction (no checks: callers check). A group whose
   * owner goes passes to the longest-standing admin, else member; an emptied group is disbanded.
   */
  async remove(
    em: EntityManager,
    c: ConversationState,
    userids: string[],
    by: string,
    reason: RemovalReason,
  ): Promise<ConversationState> {
    await this.conversations.removeMembers(em, c.corpId, c.id, userids);
    const remaining = c.participants.filter((p) => !userids.includes(p.userid));
    if (!remaining.length) {
      const at = new Date();
      await this.conversations.disband(em, c.corpId, c.id, at);
      await this.outbox.publish(
        em,
        MESSAGING_CONVERSATION_TOPIC,
        conversationDisbanded(c.corpId, c.id, by, at),
      );
      return { ...c, participants: [] };
    }
    let owner = c.owner;
    if (owner !== null && userids.includes(owner)) {
      const heir = remaining.find((p) => p.role === 'admin') ?? remaining[0];
      owner = heir.userid;
      await this.conversations.setRole(em, c.corpId, c.id, owner, 'owner');
    }
    await this.conversations.updateSettings(em, c.corpId, c.id, {
      name: c.name,
      owner,
      onlyAdminsPost: c.onlyAdminsPost,
      onlyOwnerInvites: c.onlyOwnerInvites,
    });
    const state = (await this.conversations.load(em, c.corpId, c.id)) as ConversationState;
    await this.outbox.publish(
      em,
      MESSAGING_CONVERSATION_TOPIC,
      conversationMembersRemoved(state, userids, by, reason),
    );
    return state;
  }

  /** A group the caller is in, locked for the change. */
  private async group(
    em: EntityManager,
    caller: Principal,
    id: string,
  ): Promise<ConversationState> {
    const c = await this.conversations.forParticipant(em, caller, id, true);
    if (!isGroupKind(c.kind)) throw new NotAGroupException();
    return c;
  }

  private assertMayInvite(c: ConversationState, userid: string): void {
    if (c.onlyOwnerInvites && roleOf(c, userid) !== 'owner')
      throw new GroupRoleRequiredException('Only the owner invites members to this group.');
  }

  /** A group's limit is at least its headcount and at most the configured limit of its kind. */
  private checkMemberLimit(c: ConversationState, limit: number): void {
    if (!isGroupKind(c.kind)) return;
    if (c.kind === 'department') throw new DepartmentGroupManagedException();
    const max = this.limitOf(c.kind);
    if (limit > max)
      throw new MemberLimitInvalidException(
        `A group of kind ${c.kind} has at most ${max} members.`,
      );
    if (limit < headcount(c))
      throw new MemberLimitInvalidException(
        `The group has ${headcount(c)} members already; remove some before lowering the limit to ${limit}.`,
      );
  }

  private async assertActive(em: EntityManager, corpId: string, userids: string[]): Promise<void> {
    const active = await this.directory.active(em, corpId, userids);
    const unknown = userids.filter((u) => !active.has(u));
    if (unknown.length) throw new MembersUnknownException(unknown);
  }
}
