import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { MessageShape } from '@bufbuild/protobuf';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  MESSAGING_CONVERSATION_TOPIC,
  MESSAGING_MESSAGE_TOPIC,
  type ConversationDisbandedSchema,
  type ConversationSchema,
  type MessageRecalledSchema,
  type MessageSentSchema,
} from '@qiwei/contracts';
import { EventSubscriptions, NonRetriableEventError, type ReceivedEvent } from '@qiwei/events';
import { CORP_ID_PATTERN, type CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { ArchiveWriter } from './archive-writer';

type Conversation = MessageShape<typeof ConversationSchema>;
type ConversationData = {
  conversation?: Conversation;
  userids?: string[];
  by?: string;
  reason?: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An event no retry can archive: the consumer dead-letters it at once. */
function refuse(event: ReceivedEvent, why: string): never {
  throw new NonRetriableEventError(`${event.type} ${event.id} cannot be archived: ${why}`);
}

function corpOf(event: ReceivedEvent, corpId: string): CorpId {
  if (!CORP_ID_PATTERN.test(corpId)) refuse(event, `corp id "${corpId}" is not valid`);
  if (event.tenant !== corpId) refuse(event, 'its tenant header and payload disagree');
  return corpId as CorpId;
}

function conversationIdOf(event: ReceivedEvent, id: string): string {
  if (!UUID.test(id)) refuse(event, `conversation id "${id}" is not a UUID`);
  return id.toLowerCase();
}

const dateOf = (t: Timestamp | undefined, fallback: Date) => (t ? timestampDate(t) : fallback);

/**
 * Archives messaging's events: every message sent, every recall (as its own record pointing at
 * the original, like WeCom's `pre_msgid`) and every conversation change (who was in it, when).
 * Read receipts are not archived. Runs inside the consumer's inbox transaction: a redelivered
 * event is never archived twice, and nothing is acknowledged before it is in the chain.
 */
@Injectable()
export class ArchiveIngestConsumer implements OnModuleInit {
  constructor(
    private readonly subscriptions: EventSubscriptions,
    private readonly writer: ArchiveWriter,
  ) {}

  onModuleInit(): void {
    this.subscriptions.add({
      name: 'archive-messages',
      topic: MESSAGING_MESSAGE_TOPIC,
      handle: (event, em) => this.message(event, em),
    });
    this.subscriptions.add({
      name: 'archive-conversations',
      topic: MESSAGING_CONVERSATION_TOPIC,
      handle: (event, em) => this.conversation(event, em),
    });
  }

  async message(event: ReceivedEvent, em: EntityManager): Promise<void> {
    switch (event.type) {
      case 'qiwei.messaging.message.sent.v1': {
        const m = (event.data as MessageShape<typeof MessageSentSchema>).message;
        if (!m?.content) refuse(event, 'it carries no message');
        this.writer.append(em, {
          corpId: corpOf(event, m.corpId),
          kind: 'message',
          eventId: event.id,
          messageId: m.id,
          preMessageId: null,
          conversationId: conversationIdOf(event, m.conversationId),
          conversationKind: m.conversationKind,
          sender: m.sender,
          type: m.content.type,
          text: m.content.text,
          mentions: m.content.mentions,
          quoteSeq: Number(m.content.quoteSeq),
          seq: Number(m.seq),
          participants: m.participants,
          details: { clientMsgId: m.clientMsgId },
          media: [],
          consent: 'not_required',
          sentAt: dateOf(m.sentAt, event.time),
        });
        return;
      }
      case 'qiwei.messaging.message.recalled.v1': {
        const r = event.data as MessageShape<typeof MessageRecalledSchema>;
        const corpId = corpOf(event, r.corpId);
        const conversationId = conversationIdOf(event, r.conversationId);
        const [conversation] = await em.query<{ kind: string; participants: string[] }[]>(
          'SELECT kind, participants FROM archived_conversations WHERE corp_id = $1 AND id = $2',
          [corpId, conversationId],
        );
        this.writer.append(em, {
          corpId,
          kind: 'recall',
          eventId: event.id,
          messageId: null,
          preMessageId: r.id,
          conversationId,
          conversationKind: conversation?.kind ?? '',
          sender: r.sender,
          type: 'recall',
          text: '',
          mentions: [],
          quoteSeq: 0,
          seq: Number(r.seq),
          participants: conversation?.participants ?? [],
          details: { recalledBy: r.recalledBy },
          media: [],
          consent: 'not_required',
          sentAt: dateOf(r.recalledAt, event.time),
        });
        return;
      }
      default:
        return; // read receipts are not archived
    }
  }

  async conversation(event: ReceivedEvent, em: EntityManager): Promise<void> {
    const happened = event.type.split('.')[3];
    if (event.type === 'qiwei.messaging.conversation.disbanded.v1') {
      const d = event.data as MessageShape<typeof ConversationDisbandedSchema>;
      const corpId = corpOf(event, d.corpId);
      const id = conversationIdOf(event, d.id);
      const at = dateOf(d.disbandedAt, event.time);
      // UPDATE … RETURNING answers [rows, affected count].
      const [[known]] = await em.query<[{ kind: string; participants: string[] }[], number]>(
        `UPDATE archived_conversations SET disbanded_at = $3, updated_at = $3
          WHERE corp_id = $1 AND id = $2 RETURNING kind, participants`,
        [corpId, id, at],
      );
      this.writer.append(em, {
        ...this.conversationRecord(event, corpId, id, happened),
        conversationKind: known?.kind ?? 'group',
        sender: d.by,
        participants: known?.participants ?? [],
        details: { by: d.by },
        sentAt: at,
      });
      return;
    }
    const data = event.data as ConversationData;
    const c = data.conversation;
    if (!c) refuse(event, 'it carries no conversation');
    const corpId = corpOf(event, c.corpId);
    const id = conversationIdOf(event, c.id);
    const participants = c.participants.map((p) => p.userid);
    const at = dateOf(c.updatedAt, event.time);
    await em.query(
      `INSERT INTO archived_conversations (corp_id, id, kind, name, owner, participants, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (corp_id, id) DO UPDATE SET kind = $3, name = $4, owner = $5, participants = $6,
         updated_at = $7 WHERE archived_conversations.updated_at <= $7`,
      [corpId, id, c.kind, c.name, c.owner || null, participants, at],
    );
    this.writer.append(em, {
      ...this.conversationRecord(event, corpId, id, happened),
      conversationKind: c.kind,
      sender: data.by || c.owner,
      participants,
      details: {
        name: c.name,
        owner: c.owner,
        onlyAdminsPost: c.onlyAdminsPost,
        onlyOwnerInvites: c.onlyOwnerInvites,
        userids: data.userids ?? [],
        by: data.by ?? '',
        reason: data.reason ?? '',
      },
      sentAt: at,
    });
  }

  private conversationRecord(
    event: ReceivedEvent,
    corpId: CorpId,
    conversationId: string,
    happened: string,
  ) {
    return {
      corpId,
      kind: 'conversation' as const,
      eventId: event.id,
      messageId: null,
      preMessageId: null,
      conversationId,
      type: `conversation.${happened}`,
      text: '',
      mentions: [],
      quoteSeq: 0,
      seq: 0,
      media: [],
      consent: 'not_required',
    };
  }
}
