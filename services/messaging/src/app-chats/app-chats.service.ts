import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AppRange, Principal } from '@qiwei/auth';
import { MESSAGING_CONVERSATION_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { isUniqueViolation, TransactionRunner } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import type { AppMessageContent } from '../app-messages/app-messages.service';
import { resolveRecipients } from '../app-messages/recipients';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import {
  conversationCreated,
  conversationMembersAdded,
  conversationMembersRemoved,
  conversationSettingsChanged,
} from '../conversations/conversation-events';
import type { ConversationState } from '../conversations/conversation-state';
import { ConversationNotFoundException } from '../conversations/conversation.exceptions';
import { ConversationsRepository } from '../conversations/conversations.repository';
import { Directory } from '../directory/directory';
import type { StoredMessage } from '../messages/messages.repository';
import { MessagesService } from '../messages/messages.service';
import {
  AppChatIdTakenException,
  AppChatMembersConflictException,
  AppChatMembersInvalidException,
  AppChatMembersOutOfRangeException,
  AppChatNotFoundException,
  AppChatOfAnotherAppException,
  AppChatOwnerInvalidException,
  AppChatRateLimitedException,
  AppChatSizeInvalidException,
} from './app-chat.exceptions';

export interface AppChat {
  chatid: string;
  conversation: ConversationState;
}

export interface CreateAppChatInput {
  chatid?: string;
  name?: string;
  owner?: string;
  userlist: string[];
}

export interface UpdateAppChatInput {
  name?: string;
  owner?: string;
  add: string[];
  del: string[];
}

type App = NonNullable<Principal['app']>;

const appOf = (caller: Principal): App => caller.app as App;
const senderOf = (app: App) => `app:${app.agentId}`;
const unique = (userids: string[]) => [...new Set(userids)];

/**
 * App chats (WeCom's appchat, 群聊会话): group conversations an app creates under a chatid and
 * then manages and posts into — only its own, and only with members inside its visibility
 * range. They are groups like any other (members post, read, leave; conversation events as
 * for other groups); the app posts as `app:<agentid>` through the messages' one send path.
 */
@Injectable()
export class AppChatsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationsRepository,
    private readonly directory: Directory,
    private readonly messages: MessagesService,
    private readonly outbox: Outbox,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  async create(caller: Principal, input: CreateAppChatInput): Promise<AppChat> {
    const app = appOf(caller);
    const members = unique(input.userlist);
    const owner = input.owner ?? members[0];
    if (owner === undefined || !members.includes(owner))
      throw new AppChatOwnerInvalidException(`The owner ${owner ?? ''} must be in userlist.`);
    this.assertSize(members.length, this.config.GROUP_MEMBER_LIMIT);
    // WeCom's generated chatids are opaque: 128 random bits in hex fit [0-9a-zA-Z]{1,32}.
    const chatid = input.chatid ?? randomBytes(16).toString('hex');
    try {
      return await this.transactions.run(async (em) => {
        if (await this.chatRow(em, caller.corpId, chatid))
          throw new AppChatIdTakenException(chatid);
        await this.assertMembers(em, caller.corpId, app.range, members);
        const id = randomUUID();
        await this.conversations.insert(em, {
          corpId: caller.corpId,
          id,
          kind: 'group',
          name: input.name ?? '',
          owner,
          singleKey: null,
          onlyAdminsPost: false,
          onlyOwnerInvites: false,
          memberLimit: this.config.GROUP_MEMBER_LIMIT,
          createdBy: senderOf(app),
        });
        await em.query(
          'INSERT INTO app_chats (corp_id, chatid, conversation_id, agentid) VALUES ($1, $2, $3, $4)',
          [caller.corpId, chatid, id, app.agentId],
        );
        await this.conversations.addMembers(
          em,
          caller.corpId,
          id,
          members.map((userid) => ({
            userid,
            role: userid === owner ? ('owner' as const) : ('member' as const),
          })),
        );
        const state = (await this.conversations.load(em, caller.corpId, id)) as ConversationState;
        await this.outbox.publish(em, MESSAGING_CONVERSATION_TOPIC, conversationCreated(state));
        return { chatid, conversation: state };
      });
    } catch (error) {
      // The same chatid created at once by another call.
      if (isUniqueViolation(error, 'app_chats_pkey')) throw new AppChatIdTakenException(chatid);
      throw error;
    }
  }

  /**
   * Adds members, renames or transfers, then removes members, in one transaction; each change
   * is announced as for other groups (members added, settings changed, members removed).
   */
  update(caller: Principal, chatid: string, input: UpdateAppChatInput): Promise<AppChat> {
    const app = appOf(caller);
    return this.transactions.run(async (em) => {
      let c = await this.own(em, caller, chatid, true);
      const both = unique(input.add).filter((u) => input.del.includes(u));
      if (both.length) throw new AppChatMembersConflictException(both);
      const current = new Set(c.participants.map((p) => p.userid));
      const add = unique(input.add).filter((u) => !current.has(u));
      const del = unique(input.del).filter((u) => current.has(u));
      const after = new Set([...current, ...add].filter((u) => !del.includes(u)));
      const owner = input.owner ?? c.owner ?? undefined;
      if (owner === undefined || !after.has(owner))
        throw new AppChatOwnerInvalidException(
          input.owner === undefined
            ? `The owner ${owner ?? ''} cannot be removed: name a new owner among the members.`
            : `The new owner ${owner} must be a member (or in add_user_list).`,
        );
      // The group's own limit: its owner may have set it below the configured one (/v1).
      this.assertSize(after.size, c.memberLimit);
      await this.assertMembers(em, caller.corpId, app.range, add);
      const by = senderOf(app);
      if (add.length) {
        await this.conversations.addMembers(
          em,
          c.corpId,
          c.id,
          add.map((userid) => ({ userid, role: 'member' as const })),
        );
        await this.conversations.touch(em, c.corpId, c.id);
        c = await this.state(em, c);
        await this.outbox.publish(
          em,
          MESSAGING_CONVERSATION_TOPIC,
          conversationMembersAdded(c, add, by),
        );
      }
      const name = input.name ?? c.name;
      if (owner !== c.owner || name !== c.name) {
        if (owner !== c.owner) {
          if (c.owner !== null)
            await this.conversations.setRole(em, c.corpId, c.id, c.owner, 'member');
          await this.conversations.setRole(em, c.corpId, c.id, owner, 'owner');
        }
        await this.conversations.updateSettings(em, c.corpId, c.id, {
          name,
          owner,
          onlyAdminsPost: c.onlyAdminsPost,
          onlyOwnerInvites: c.onlyOwnerInvites,
        });
        c = await this.state(em, c);
        await this.outbox.publish(em, MESSAGING_CONVERSATION_TOPIC, conversationSettingsChanged(c));
      }
      if (del.length) {
        await this.conversations.removeMembers(em, c.corpId, c.id, del);
        await this.conversations.touch(em, c.corpId, c.id);
        c = await this.state(em, c);
        await this.outbox.publish(
          em,
          MESSAGING_CONVERSATION_TOPIC,
          conversationMembersRemoved(c, del, by, 'removed'),
        );
      }
      return { chatid, conversation: c };
    });
  }

  async get(caller: Principal, chatid: string): Promise<AppChat> {
    return {
      chatid,
      conversation: await this.own(this.dataSource.manager, caller, chatid, false),
    };
  }

  /**
   * The app posts into its chat as `app:<agentid>`: the message gets the next seq and its event,
   * counted against what each member may receive from the app in its chats
   * (APP_CHAT_PER_MEMBER_PER_MINUTE, _PER_DAY) in the same transaction. Over the limit for
   * anyone in the chat, nothing is posted (a group message cannot skip some members).
   */
  async send(
    caller: Principal,
    chatid: string,
    content: AppMessageContent,
  ): Promise<StoredMessage> {
    const app = appOf(caller);
    const c = await this.own(this.dataSource.manager, caller, chatid, false);
    try {
      return await this.transactions.run(async (em) => {
        const message = await this.messages.accept(
          em,
          { corpId: caller.corpId, userId: senderOf(app) },
          c.id,
          {
            clientMsgId: randomUUID(),
            type: content.msgtype,
            text: content.text,
            mediaId: content.mediaId,
            articles: content.articles,
            textcard: content.textcard,
            templateCard: content.templateCard,
            caption: content.caption,
            safe: content.safe,
          },
        );
        // Counted once the conversation is locked by the send: its members are those reached.
        const over = await this.countSends(em, caller.corpId, app.agentId, c.id);
        if (over.length)
          throw new AppChatRateLimitedException(
            over,
            this.config.APP_CHAT_PER_MEMBER_PER_MINUTE,
            this.config.APP_CHAT_PER_MEMBER_PER_DAY,
          );
        return message;
      });
    } catch (error) {
      // Disbanded since it was looked up.
      if (error instanceof ConversationNotFoundException)
        throw new AppChatNotFoundException(chatid);
      throw error;
    }
  }

  /** The app's own chat (another corp's chatid is simply not found). */
  private async own(
    em: EntityManager,
    caller: Principal,
    chatid: string,
    lock: boolean,
  ): Promise<ConversationState> {
    const row = await this.chatRow(em, caller.corpId, chatid);
    if (!row) throw new AppChatNotFoundException(chatid);
    if (row.agentid !== appOf(caller).agentId) throw new AppChatOfAnotherAppException(chatid);
    const c = await this.conversations.load(em, caller.corpId, row.conversation_id, { lock });
    if (!c) throw new AppChatNotFoundException(chatid);
    return c;
  }

  private async chatRow(
    em: EntityManager,
    corpId: string,
    chatid: string,
  ): Promise<{ conversation_id: string; agentid: number } | null> {
    const [row] = await em.query<{ conversation_id: string; agentid: number }[]>(
      'SELECT conversation_id, agentid FROM app_chats WHERE corp_id = $1 AND chatid = $2',
      [corpId, chatid],
    );
    return row ?? null;
  }

  private async state(em: EntityManager, c: ConversationState): Promise<ConversationState> {
    return (await this.conversations.load(em, c.corpId, c.id)) as ConversationState;
  }

  private assertSize(count: number, limit: number): void {
    if (count < 2 || count > limit) throw new AppChatSizeInvalidException(count, limit);
  }

  /**
   * Counts a post against every member of the chat (fixed minute and UTC-day windows, by the
   * database clock), in one statement; returns the members already at a limit (whose counters
   * it leaves alone — the caller rolls the rest back).
   */
  private async countSends(
    em: EntityManager,
    corpId: string,
    agentId: number,
    conversationId: string,
  ): Promise<string[]> {
    const rows = await em.query<{ userid: string }[]>(
      `WITH members AS (
         SELECT userid FROM conversation_members WHERE corp_id = $1 AND conversation_id = $3
       ), counted AS (
         INSERT INTO app_chat_send_counters AS c
                (corp_id, agentid, userid, minute_start, minute_count, day_start, day_count)
         SELECT $1, $2, userid, date_trunc('minute', now()), 1, date_trunc('day', now(), 'UTC'), 1
           FROM members
         ON CONFLICT (corp_id, agentid, userid) DO UPDATE SET
           minute_start = EXCLUDED.minute_start,
           minute_count = CASE WHEN c.minute_start = EXCLUDED.minute_start THEN c.minute_count + 1 ELSE 1 END,
           day_start = EXCLUDED.day_start,
           day_count = CASE WHEN c.day_start = EXCLUDED.day_start THEN c.day_count + 1 ELSE 1 END
         WHERE (c.minute_start <> EXCLUDED.minute_start OR c.minute_count < $4)
           AND (c.day_start <> EXCLUDED.day_start OR c.day_count < $5)
         RETURNING userid
       )
       SELECT m.userid FROM members m
        WHERE NOT EXISTS (SELECT 1 FROM counted WHERE counted.userid = m.userid)
        ORDER BY m.userid`,
      [
        corpId,
        agentId,
        conversationId,
        this.config.APP_CHAT_PER_MEMBER_PER_MINUTE,
        this.config.APP_CHAT_PER_MEMBER_PER_DAY,
      ],
    );
    return rows.map((r) => r.userid);
  }

  /** Active members of the corp, inside the app's visibility range. */
  private async assertMembers(
    em: EntityManager,
    corpId: string,
    range: AppRange,
    userids: string[],
  ): Promise<void> {
    if (!userids.length) return;
    const active = await this.directory.active(em, corpId, userids);
    const unknown = userids.filter((u) => !active.has(u));
    if (unknown.length) throw new AppChatMembersInvalidException(unknown);
    const { invaliduser } = await resolveRecipients(em, corpId, range, {
      touser: userids,
      toparty: [],
      totag: [],
      all: false,
    });
    if (invaliduser.length) throw new AppChatMembersOutOfRangeException(invaliduser);
  }
}
