import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { toJson, type MessageShape } from '@bufbuild/protobuf';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  MESSAGING_ANNOUNCEMENT_TOPIC,
  MESSAGING_CONVERSATION_TOPIC,
  MESSAGING_MESSAGE_TOPIC,
  type AnnouncementPublishedSchema,
  type AnnouncementWithdrawnSchema,
  type AppMessageRecalledSchema,
  type AppMessageSentSchema,
  type ConversationDisbandedSchema,
  type ConversationSchema,
  type MessageContentSchema,
  type MessageRecalledSchema,
  type MessageSentSchema,
  TemplateCardSchema,
} from '@qiwei/contracts';
import { EventSubscriptions, NonRetriableEventError, type ReceivedEvent } from '@qiwei/events';
import { CORP_ID_PATTERN, type CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';
import { ConsentService } from '../consent/consent.service';
import type { Canonical } from '../chain/hash-chain';
import type { NewArchiveRecord, RecordMedia } from './archive-record';
import { ArchiveWriter } from './archive-writer';
import { appConversationId } from './app-conversation';

type Conversation = MessageShape<typeof ConversationSchema>;
type ConversationData = {
  conversation?: Conversation;
  userids?: string[];
  /** external_contacts_added / _removed */
  externalUserids?: string[];
  by?: string;
  reason?: string;
};
type MessageContent = MessageShape<typeof MessageContentSchema>;
/** A medium as message and announcement events carry it. */
type EventMedia = {
  mediaId: string;
  kind: string;
  bucket: string;
  objectKey: string;
  size: bigint;
  sha256: string;
  filename: string;
  contentType: string;
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

function appMessageIdOf(event: ReceivedEvent, msgid: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(msgid)) refuse(event, `app message id "${msgid}" is not valid`);
  return msgid;
}

function agentIdOf(event: ReceivedEvent, agentid: number): number {
  if (!Number.isSafeInteger(agentid) || agentid < 1)
    refuse(event, `agentid ${agentid} is not an app's id`);
  return agentid;
}

const EXTERNAL_USERID = /^[A-Za-z0-9_@.-]{1,64}$/;

/**
 * The message's external participants (`Message.external_participants`, field 11, JSON
 * `externalParticipants`: external contacts' external_userid). Read from the typed payload when
 * this build's schema has the field, else from the payload as received, so a producer a schema
 * version ahead is never archived as if no external contact had been there.
 */
function externalParticipantsOf(event: ReceivedEvent, message: object): string[] {
  let value: unknown = (message as { externalParticipants?: unknown }).externalParticipants;
  if (!(Array.isArray(value) && value.length) && event.payload?.includes('externalParticipants')) {
    try {
      const raw = JSON.parse(event.payload) as { message?: { externalParticipants?: unknown } };
      value = raw.message?.externalParticipants;
    } catch {
      refuse(event, 'its payload is not JSON');
    }
  }
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 10_000)
    refuse(event, 'externalParticipants is not a list of external userids');
  const externals = value as unknown[];
  if (!externals.every((e): e is string => typeof e === 'string' && EXTERNAL_USERID.test(e)))
    refuse(event, 'externalParticipants holds something that is not an external userid');
  return [...new Set(externals)];
}

/** Userids first as sent, then external contacts not already among them. */
const everyone = (members: string[], externals: string[]) => [
  ...new Set([...members, ...externals]),
];

/**
 * What a message says beyond its text and media, as the chain keeps it (plain values, only
 * what was set): the parts `searchableText` reads and the flags a reviewer needs.
 */
function contentDetailsOf(c: MessageContent): Record<string, Canonical> {
  const details: Record<string, Canonical> = {};
  if (c.textcard)
    details.textcard = {
      title: c.textcard.title,
      description: c.textcard.description,
      url: c.textcard.url,
      btntxt: c.textcard.btntxt,
    };
  if (c.articles.length)
    details.articles = c.articles.map((a) => ({
      title: a.title,
      description: a.description,
      url: a.url,
      picurl: a.picurl,
    }));
  if (c.link)
    details.link = {
      title: c.link.title,
      description: c.link.description,
      url: c.link.url,
      picUrl: c.link.picUrl,
    };
  if (c.location)
    details.location = {
      latitude: c.location.latitude,
      longitude: c.location.longitude,
      name: c.location.name,
      address: c.location.address,
    };
  if (c.contactCard)
    details.contactCard = { userid: c.contactCard.userid, name: c.contactCard.name };
  if (c.caption) details.caption = { title: c.caption.title, description: c.caption.description };
  if (c.safe) details.safe = true;
  // A template card is kept whole, as its proto3 JSON (only what the app set).
  if (c.templateCard) details.templateCard = toJson(TemplateCardSchema, c.templateCard);
  return details;
}

/**
 * Archives messaging's events: every message sent (whatever its type), every app message (应用
 * 消息: one record with its recipients as participants), every announcement (公告) published,
 * every recall and withdrawal (each its own record pointing at the original, like WeCom's
 * `pre_msgid`) and every conversation change (who was in it, when, its settings and group
 * notice). Read receipts, announcement reads and reminders, urgent reminders and an
 * announcement's pin or expiry changes are not archived: they change neither what was said nor
 * to whom. Runs inside the consumer's inbox transaction: a redelivered event is never archived
 * twice, and nothing is acknowledged before it is in the chain.
 */
@Injectable()
export class ArchiveIngestConsumer implements OnModuleInit {
  constructor(
    private readonly subscriptions: EventSubscriptions,
    private readonly writer: ArchiveWriter,
    private readonly consent: ConsentService,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
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
    this.subscriptions.add({
      name: 'archive-announcements',
      topic: MESSAGING_ANNOUNCEMENT_TOPIC,
      handle: (event, em) => this.announcement(event, em),
    });
  }

  async message(event: ReceivedEvent, em: EntityManager): Promise<void> {
    switch (event.type) {
      case 'qiwei.messaging.message.sent.v1': {
        const m = (event.data as MessageShape<typeof MessageSentSchema>).message;
        if (!m?.content) refuse(event, 'it carries no message');
        const corpId = corpOf(event, m.corpId);
        const externals = externalParticipantsOf(event, m);
        const members = m.participants.filter((p) => !externals.includes(p));
        const decision = await this.consent.decide(em, corpId, members, externals);
        const base = {
          corpId,
          kind: 'message' as const,
          eventId: event.id,
          messageId: m.id,
          preMessageId: null,
          conversationId: conversationIdOf(event, m.conversationId),
          conversationKind: m.conversationKind,
          sender: m.sender,
          type: m.content.type,
          seq: Number(m.seq),
          participants: everyone(m.participants, externals),
          consent: decision.consent,
          sentAt: dateOf(m.sentAt, event.time),
        };
        const external: Record<string, Canonical> = externals.length
          ? { externalParticipants: externals, consentStates: decision.states }
          : {};
        if (decision.consent === 'withheld') {
          // The fact that it existed, and nothing it said.
          this.writer.append(em, {
            ...base,
            text: '',
            mentions: [],
            quoteSeq: 0,
            details: { clientMsgId: m.clientMsgId, ...external },
            media: [],
          });
          return;
        }
        this.writer.append(em, {
          ...base,
          text: m.content.text,
          mentions: m.content.mentions,
          quoteSeq: Number(m.content.quoteSeq),
          details: { ...contentDetailsOf(m.content), clientMsgId: m.clientMsgId, ...external },
          media: m.content.media?.mediaId
            ? [this.mediaOf(event, corpId, m.id, m.content.media)]
            : [],
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
      case 'qiwei.messaging.message.app_sent.v1': {
        const a = event.data as MessageShape<typeof AppMessageSentSchema>;
        if (!a.content) refuse(event, 'it carries no content');
        const corpId = corpOf(event, a.corpId);
        const msgid = appMessageIdOf(event, a.msgid);
        const agentid = agentIdOf(event, a.agentid);
        this.writer.append(em, {
          ...this.appRecord(event, corpId, agentid, a.recipients),
          kind: 'message',
          messageId: msgid,
          preMessageId: null,
          type: a.content.type,
          text: a.content.text,
          details: { ...contentDetailsOf(a.content), agentid },
          media: a.content.media?.mediaId
            ? [this.mediaOf(event, corpId, msgid, a.content.media)]
            : [],
          sentAt: dateOf(a.sentAt, event.time),
        });
        return;
      }
      case 'qiwei.messaging.message.app_recalled.v1': {
        const r = event.data as MessageShape<typeof AppMessageRecalledSchema>;
        const corpId = corpOf(event, r.corpId);
        const agentid = agentIdOf(event, r.agentid);
        this.writer.append(em, {
          ...this.appRecord(event, corpId, agentid, r.recipients),
          kind: 'recall',
          messageId: null,
          preMessageId: appMessageIdOf(event, r.msgid),
          type: 'recall',
          text: '',
          details: { recalledBy: r.recalledBy, agentid },
          media: [],
          sentAt: dateOf(r.recalledAt, event.time),
        });
        return;
      }
      default:
        return; // read receipts and urgent reminders are not archived
    }
  }

  /**
   * Announcements (公告): company communications to members, archived as messages (the body,
   * title, attachments copied like any media, every recipient a participant), each in a
   * conversation of its own (the announcement's id, kind `announcement`); a withdrawal is a
   * recall pointing at it.
   */
  async announcement(event: ReceivedEvent, em: EntityManager): Promise<void> {
    switch (event.type) {
      case 'qiwei.messaging.announcement.published.v1': {
        const { announcement: a, recipients } = event.data as MessageShape<
          typeof AnnouncementPublishedSchema
        >;
        if (!a) refuse(event, 'it carries no announcement');
        const corpId = corpOf(event, a.corpId);
        const id = conversationIdOf(event, a.id);
        const at = dateOf(a.publishedAt, event.time);
        // Kept as a conversation too: its withdrawal and the context view need the publisher,
        // the title and the recipients.
        await em.query(
          `INSERT INTO archived_conversations (corp_id, id, kind, name, owner, participants, updated_at)
           VALUES ($1, $2, 'announcement', $3, $4, $5, $6)
           ON CONFLICT (corp_id, id) DO NOTHING`,
          [corpId, id, [...a.title].slice(0, 64).join(''), a.publisher || null, recipients, at],
        );
        const t = a.targets;
        this.writer.append(em, {
          corpId,
          kind: 'message',
          eventId: event.id,
          messageId: id,
          preMessageId: null,
          conversationId: id,
          conversationKind: 'announcement',
          sender: a.publisher,
          type: 'announcement',
          text: a.body,
          mentions: [],
          quoteSeq: 0,
          seq: 0,
          participants: recipients,
          details: {
            title: a.title,
            format: a.format,
            priority: a.priority,
            pinned: a.pinned,
            noForward: a.noForward,
            targets: {
              all: t?.all ?? false,
              departmentIds: t?.departmentIds ?? [],
              tagIds: t?.tagIds ?? [],
              userids: t?.userids ?? [],
            },
            expiresAt: a.expiresAt ? timestampDate(a.expiresAt).toISOString() : null,
          },
          media: a.attachments.map((f) => this.mediaOf(event, corpId, id, f)),
          consent: 'not_required',
          sentAt: at,
        });
        return;
      }
      case 'qiwei.messaging.announcement.withdrawn.v1': {
        const w = event.data as MessageShape<typeof AnnouncementWithdrawnSchema>;
        const corpId = corpOf(event, w.corpId);
        const id = conversationIdOf(event, w.id);
        const [known] = await em.query<{ owner: string | null; participants: string[] }[]>(
          `SELECT owner, participants FROM archived_conversations
            WHERE corp_id = $1 AND id = $2 AND kind = 'announcement'`,
          [corpId, id],
        );
        this.writer.append(em, {
          corpId,
          kind: 'recall',
          eventId: event.id,
          messageId: null,
          preMessageId: id,
          conversationId: id,
          conversationKind: 'announcement',
          sender: known?.owner ?? '',
          type: 'recall',
          text: '',
          mentions: [],
          quoteSeq: 0,
          seq: 0,
          participants: known?.participants ?? [],
          details: { recalledBy: w.withdrawnBy },
          media: [],
          consent: 'not_required',
          sentAt: dateOf(w.withdrawnAt, event.time),
        });
        return;
      }
      default:
        return; // pin and expiry changes, expiry, reads and reminders are not archived
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
    const participants = everyone(
      c.participants.map((p) => p.userid),
      c.externalParticipants,
    );
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
        ...(data.externalUserids ? { externalUserids: data.externalUserids } : {}),
        ...(c.externalParticipants.length ? { externalParticipants: c.externalParticipants } : {}),
        ...(c.departmentId ? { departmentId: c.departmentId } : {}),
        ...(c.notice
          ? {
              notice: {
                version: c.notice.version,
                text: c.notice.text,
                publishedBy: c.notice.publishedBy,
              },
            }
          : {}),
        ...(c.welcomeMessage ? { welcomeMessage: c.welcomeMessage } : {}),
      },
      sentAt: at,
    });
  }

  private mediaOf(
    event: ReceivedEvent,
    corpId: CorpId,
    messageId: string,
    media: EventMedia,
  ): RecordMedia {
    if (!media.bucket || !media.objectKey)
      refuse(event, `medium ${media.mediaId} names no bucket or object key`);
    if (!/^[0-9a-f]{64}$/.test(media.sha256))
      refuse(event, `medium ${media.mediaId} carries no SHA-256`);
    const safe = (part: string) => part.replace(/[^A-Za-z0-9_.-]/g, '_');
    return {
      mediaId: media.mediaId,
      kind: media.kind,
      filename: media.filename,
      contentType: media.contentType,
      size: Number(media.size),
      sha256: media.sha256,
      sourceBucket: media.bucket,
      sourceKey: media.objectKey,
      archiveBucket: this.config.ARCHIVE_BUCKET,
      archiveKey: `media/${corpId}/${safe(messageId)}/${safe(media.mediaId)}`,
    };
  }

  /** What every record of an app's message has: the app's conversation, its recipients. */
  private appRecord(
    event: ReceivedEvent,
    corpId: CorpId,
    agentid: number,
    recipients: string[],
  ): Omit<
    NewArchiveRecord,
    'kind' | 'messageId' | 'preMessageId' | 'type' | 'text' | 'details' | 'media' | 'sentAt'
  > {
    return {
      corpId,
      eventId: event.id,
      conversationId: appConversationId(corpId, agentid),
      conversationKind: 'app',
      sender: `app:${agentid}`,
      mentions: [],
      quoteSeq: 0,
      seq: 0,
      participants: [...new Set(recipients)],
      consent: 'not_required',
    };
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
