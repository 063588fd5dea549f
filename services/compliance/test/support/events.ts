import { randomUUID } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  MESSAGING_MESSAGE_TOPIC,
  type AnnouncementAttachmentSchema,
  type AnnouncementPublishedSchema,
  type AnnouncementWithdrawnSchema,
  type AppMessageRecalledSchema,
  type AppMessageSentSchema,
  type ConversationCreatedSchema,
  type MessageContentSchema,
  type MessageRecalledSchema,
  type MessageSentSchema,
} from '@qiwei/contracts';
import { encodeEvent, type NewEvent } from '@qiwei/events';

type Sent = MessageInitShape<typeof MessageSentSchema>;
export type Content = MessageInitShape<typeof MessageContentSchema>;

/**
 * A message.sent event as messaging publishes it: a text message, or any content (`content`:
 * textcard, news, link, location, contact card, media…) with its `type`.
 */
export function sentEvent(
  corpId: string,
  conversationId: string,
  seq: number,
  text: string,
  extra: {
    sender?: string;
    participants?: string[];
    externalParticipants?: string[];
    at?: Date;
    id?: string;
    messageId?: string;
    kind?: string;
    content?: Content;
  } = {},
): NewEvent {
  const data: Sent = {
    message: {
      corpId,
      conversationId,
      seq: BigInt(seq),
      id: extra.messageId ?? randomUUID(),
      sender: extra.sender ?? 'alice',
      clientMsgId: `c${seq}`,
      conversationKind: extra.kind ?? 'group',
      participants: extra.participants ?? ['alice', 'bob'],
      externalParticipants: extra.externalParticipants ?? [],
      content: { type: 'text', text, mentions: [], quoteSeq: 0n, ...extra.content },
      sentAt: timestampFromDate(extra.at ?? new Date()),
    },
  };
  return {
    type: 'qiwei.messaging.message.sent.v1',
    tenant: corpId,
    key: conversationId,
    subject: `conversation/${conversationId}/message/${seq}`,
    data,
    ...(extra.id ? { id: extra.id } : {}),
  };
}

/** A medium as messaging's event carries it. */
export interface EventMedia {
  mediaId: string;
  bucket: string;
  objectKey: string;
  size: number;
  sha256: string;
  filename?: string;
  kind?: string;
}

/**
 * A message.sent event with what this build's schema may not know yet: `externalParticipants`
 * (Message field 11, external userids) and a medium. Returned as the raw Kafka record messaging
 * would publish (proto JSON), for `publishRaw`.
 */
export function sentRecord(
  corpId: string,
  conversationId: string,
  seq: number,
  text: string,
  extra: {
    sender?: string;
    participants?: string[];
    externalParticipants?: string[];
    media?: EventMedia;
    at?: Date;
    kind?: string;
  } = {},
): { key: string; value: string; headers: Record<string, string> } {
  const event = sentEvent(corpId, conversationId, seq, text, extra);
  const encoded = encodeEvent(MESSAGING_MESSAGE_TOPIC, '/qiwei/messaging', event);
  const value = JSON.parse(encoded.value) as {
    message: { content: Record<string, unknown>; [key: string]: unknown };
  };
  if (extra.externalParticipants) value.message.externalParticipants = extra.externalParticipants;
  if (extra.media) {
    value.message.content.type = extra.media.kind ?? 'file';
    value.message.content.media = {
      mediaId: extra.media.mediaId,
      kind: extra.media.kind ?? 'file',
      bucket: extra.media.bucket,
      objectKey: extra.media.objectKey,
      size: String(extra.media.size),
      sha256: extra.media.sha256,
      filename: extra.media.filename ?? 'evidence.pdf',
      contentType: 'application/pdf',
    };
  }
  return { key: encoded.key, value: JSON.stringify(value), headers: encoded.headers };
}

/** An app message (应用消息) as messaging publishes it: keyed by the app, with its recipients. */
export function appSentEvent(
  corpId: string,
  m: {
    msgid: string;
    agentid: number;
    content: Content;
    recipients: string[];
    at: Date;
    id?: string;
  },
): NewEvent {
  const data: MessageInitShape<typeof AppMessageSentSchema> = {
    corpId,
    msgid: m.msgid,
    agentid: m.agentid,
    content: { mentions: [], quoteSeq: 0n, ...m.content },
    recipients: m.recipients,
    sentAt: timestampFromDate(m.at),
  };
  return {
    type: 'qiwei.messaging.message.app_sent.v1',
    tenant: corpId,
    key: `app/${m.agentid}`,
    subject: `app/${m.agentid}/message/${m.msgid}`,
    data,
    ...(m.id ? { id: m.id } : {}),
  };
}

/** An app's recall of its app message (WeCom's message/recall). */
export function appRecalledEvent(
  corpId: string,
  m: { msgid: string; agentid: number; recipients: string[]; sentAt: Date; at: Date },
): NewEvent {
  const data: MessageInitShape<typeof AppMessageRecalledSchema> = {
    corpId,
    msgid: m.msgid,
    agentid: m.agentid,
    recipients: m.recipients,
    recalledBy: `app:${m.agentid}`,
    sentAt: timestampFromDate(m.sentAt),
    recalledAt: timestampFromDate(m.at),
  };
  return {
    type: 'qiwei.messaging.message.app_recalled.v1',
    tenant: corpId,
    key: `app/${m.agentid}`,
    subject: `app/${m.agentid}/message/${m.msgid}`,
    data,
  };
}

/** An announcement (公告) published to its recipients, as messaging publishes it. */
export function announcementPublishedEvent(
  corpId: string,
  a: {
    id: string;
    publisher: string;
    title: string;
    body: string;
    attachments?: MessageInitShape<typeof AnnouncementAttachmentSchema>[];
    recipients: string[];
    at: Date;
  },
): NewEvent {
  const data: MessageInitShape<typeof AnnouncementPublishedSchema> = {
    announcement: {
      corpId,
      id: a.id,
      publisher: a.publisher,
      title: a.title,
      body: a.body,
      format: 'markdown',
      attachments: a.attachments ?? [],
      priority: 'important',
      pinned: false,
      noForward: true,
      targets: { all: false, departmentIds: [], tagIds: [], userids: a.recipients },
      publishedAt: timestampFromDate(a.at),
    },
    recipients: a.recipients,
  };
  return {
    type: 'qiwei.messaging.announcement.published.v1',
    tenant: corpId,
    key: a.id,
    subject: `announcement/${a.id}`,
    data,
  };
}

/** An announcement withdrawn by its publisher or a super admin. */
export function announcementWithdrawnEvent(
  corpId: string,
  a: { id: string; by: string; at: Date },
): NewEvent {
  const data: MessageInitShape<typeof AnnouncementWithdrawnSchema> = {
    corpId,
    id: a.id,
    withdrawnBy: a.by,
    withdrawnAt: timestampFromDate(a.at),
  };
  return {
    type: 'qiwei.messaging.announcement.withdrawn.v1',
    tenant: corpId,
    key: a.id,
    subject: `announcement/${a.id}`,
    data,
  };
}

/** A message recalled by its sender (or a group admin), as messaging publishes it. */
export function recalledEvent(
  corpId: string,
  m: { conversationId: string; seq: number; id: string; sender: string; by?: string; at: Date },
): NewEvent {
  const data: MessageInitShape<typeof MessageRecalledSchema> = {
    corpId,
    conversationId: m.conversationId,
    seq: BigInt(m.seq),
    id: m.id,
    sender: m.sender,
    recalledBy: m.by ?? m.sender,
    recalledAt: timestampFromDate(m.at),
  };
  return {
    type: 'qiwei.messaging.message.recalled.v1',
    tenant: corpId,
    key: m.conversationId,
    subject: `conversation/${m.conversationId}/message/${m.seq}`,
    data,
  };
}

/** A conversation created, with its participants (the first the owner). */
export function conversationCreatedEvent(
  corpId: string,
  c: { id: string; kind: string; name: string; participants: string[]; at: Date },
): NewEvent {
  const data: MessageInitShape<typeof ConversationCreatedSchema> = {
    conversation: {
      corpId,
      id: c.id,
      kind: c.kind,
      name: c.name,
      owner: c.participants[0],
      participants: c.participants.map((userid, i) => ({
        userid,
        role: i ? 'member' : 'owner',
        joinedAt: timestampFromDate(c.at),
      })),
      createdAt: timestampFromDate(c.at),
      updatedAt: timestampFromDate(c.at),
    },
  };
  return {
    type: 'qiwei.messaging.conversation.created.v1',
    tenant: corpId,
    key: c.id,
    subject: `conversation/${c.id}`,
    data,
  };
}
