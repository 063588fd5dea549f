import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_CONVERSATION_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { isUniqueViolation, TransactionRunner } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { Directory } from '../directory/directory';
import {
  conversationCreated,
  conversationDisbanded,
  conversationMembersAdded,
  conversationMembersRemoved,
  conversationSettingsChanged,
  type RemovalReason,
} from './conversation-events';
import type { ConversationState, GroupRole } from './conversation-state';
import {
  GroupFullException,
  GroupRoleRequiredException,
  MembersUnknownException,
  NotAGroupException,
  OwnerMustTransferException,
  SingleWithSelfException,
} from './conversation.exceptions';
import { ConversationsRepository } from './conversations.repository';

export interface GroupSettingsInput {
  name?: string;
  onlyAdminsPost?: boolean;
  onlyOwnerInvites?: boolean;
  owner?: string;
  admins?: string[];
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
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

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

  createGroup(
    caller: Principal,
    input: {
      name: string;
      members: string[];
      onlyAdminsPost?: boolean;
      onlyOwnerInvites?: boolean;
    },
  ): Promise<ConversationState> {
    const members = [...new Set([caller.userId, ...input.members])];
    if (members.length > this.config.GROUP_MEMBER_LIMIT)
      throw new GroupFullException(this.config.GROUP_MEMBER_LIMIT);
    return this.transactions.run(async (em) => {
      await this.assertActive(em, caller.corpId, members);
      const id = randomUUID();
      await this.conversations.insert(em, {
        corpId: caller.corpId,
        id,
        kind: 'group',
        name: input.name,
        owner: caller.userId,
        singleKey: null,
        onlyAdminsPost: input.onlyAdminsPost ?? false,
        onlyOwnerInvites: input.onlyOwnerInvites ?? false,
        memberLimit: this.config.GROUP_MEMBER_LIMIT,
        createdBy: caller.userId,
      });
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
  ): Promise<{ items: ConversationState[]; more: boolean }> {
    const em = this.dataSource.manager;
    const rows = await this.conversations.listOf(
      em,
      caller.corpId,
      caller.userId,
      after,
      limit + 1,
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
        input.onlyOwnerInvites !== undefined;
      if (ownerOnly && role !== 'owner')
        throw new GroupRoleRequiredException(
          'Only the owner transfers the group, names admins or sets who may invite.',
        );
      if (!isAdmin(role))
        throw new GroupRoleRequiredException(
          'Only the owner and admins change the group’s settings.',
        );
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
      const role = roleOf(c, caller.userId);
      if (c.onlyOwnerInvites && role !== 'owner')
        throw new GroupRoleRequiredException('Only the owner invites members to this group.');
      const added = [...new Set(userids)].filter((u) => !roleOf(c, u));
      if (c.participants.length + added.length > c.memberLimit)
        throw new GroupFullException(c.memberLimit);
      await this.assertActive(em, c.corpId, added);
      if (!added.length) return c;
      await this.conversations.addMembers(
        em,
        c.corpId,
        id,
        added.map((userid) => ({ userid, role: 'member' as const })),
      );
      await this.conversations.touch(em, c.corpId, id);
      const state = (await this.conversations.load(em, c.corpId, id)) as ConversationState;
      await this.outbox.publish(
        em,
        MESSAGING_CONVERSATION_TOPIC,
        conversationMembersAdded(state, added, caller.userId),
      );
      return state;
    });
  }

  /** A member quits, or the owner or an admin removes someone (admins cannot remove admins). */
  removeMember(caller: Principal, id: string, userid: string): Promise<ConversationState> {
    return this.transactions.run(async (em) => {
      const c = await this.group(em, caller, id);
      const role = roleOf(c, caller.userId);
      const target = roleOf(c, userid);
      if (!target) throw new MembersUnknownException([userid]);
      const quitting = userid === caller.userId;
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

  private async remove(
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
    if (c.kind !== 'group') throw new NotAGroupException();
    return c;
  }

  private async assertActive(em: EntityManager, corpId: string, userids: string[]): Promise<void> {
    const active = await this.directory.active(em, corpId, userids);
    const unknown = userids.filter((u) => !active.has(u));
    if (unknown.length) throw new MembersUnknownException(unknown);
  }
}

export const roleOf = (c: ConversationState, userid: string): GroupRole | undefined =>
  c.participants.find((p) => p.userid === userid)?.role;
