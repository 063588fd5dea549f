import { randomUUID } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MESSAGING_MESSAGE_TOPIC, type MessageSentSchema } from '@qiwei/contracts';
import { encodeEvent, type NewEvent } from '@qiwei/events';

type Sent = MessageInitShape<typeof MessageSentSchema>;

/** A message.sent event as messaging publishes it. */
export function sentEvent(
  corpId: string,
  conversationId: string,
  seq: number,
  text: string,
  extra: { sender?: string; participants?: string[]; at?: Date; id?: string; kind?: string } = {},
): NewEvent {
  const data: Sent = {
    message: {
      corpId,
      conversationId,
      seq: BigInt(seq),
      id: randomUUID(),
      sender: extra.sender ?? 'alice',
      clientMsgId: `c${seq}`,
      conversationKind: extra.kind ?? 'group',
      participants: extra.participants ?? ['alice', 'bob'],
      content: { type: 'text', text, mentions: [], quoteSeq: 0n },
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
