import type { MessageShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MESSAGING_MESSAGE_TOPIC, type MessageUrgentRemindedSchema } from '@qiwei/contracts';
import type { NewEvent, ReceivedEvent } from '@qiwei/events';
import type { StoredMessage } from '../messages/messages.repository';

export const URGENT_REMINDED = 'qiwei.messaging.message.urgent_reminded.v1';
if (!MESSAGING_MESSAGE_TOPIC.events.some((e) => e.type === URGENT_REMINDED))
  throw new Error(`undeclared ${URGENT_REMINDED}`);

const PREVIEW_CHARACTERS = 200;

/** What a notification can quote of the message: its text's start, or its kind. */
export function previewOf(m: StoredMessage): string {
  if (m.type === 'text' || m.type === 'markdown') {
    const characters = [...m.text];
    return characters.length > PREVIEW_CHARACTERS
      ? `${characters.slice(0, PREVIEW_CHARACTERS).join('')}…`
      : m.text;
  }
  if (m.type === 'news') return `[news] ${m.articles[0]?.title ?? ''}`.trim();
  return `[${m.type}]`;
}

export interface UrgentReminder {
  id: string;
  conversationId: string;
  seq: number;
  remindedBy: string;
  userids: string[];
  remindedAt: Date;
}

/** Keyed by the conversation, like every event of the message topic: order is kept. */
export const messageUrgentReminded = (
  m: StoredMessage,
  conversation: { kind: string; name: string },
  r: UrgentReminder,
): NewEvent => ({
  tenant: m.corpId,
  key: m.conversationId,
  subject: `conversation/${m.conversationId}/message/${m.seq}/urgent/${r.id}`,
  type: URGENT_REMINDED,
  time: r.remindedAt,
  data: {
    corpId: m.corpId,
    conversationId: m.conversationId,
    conversationKind: conversation.kind,
    conversationName: conversation.name,
    seq: BigInt(m.seq),
    messageId: m.id,
    sender: m.sender,
    messageType: m.type,
    preview: previewOf(m),
    sentAt: timestampFromDate(m.sentAt),
    reminderId: r.id,
    remindedBy: r.remindedBy,
    userids: r.userids,
    remindedAt: timestampFromDate(r.remindedAt),
  },
});

/** The `urgent` WebSocket frame, to the members to remind (for `RealtimeGateway`). */
export function urgentDelivery(event: ReceivedEvent): { userids: string[]; frame: object } {
  const u = event.data as MessageShape<typeof MessageUrgentRemindedSchema>;
  return {
    userids: u.userids,
    frame: {
      type: 'urgent',
      conversationId: u.conversationId,
      seq: Number(u.seq),
      messageId: u.messageId,
      sender: u.sender,
      messageType: u.messageType,
      preview: u.preview,
      remindedBy: u.remindedBy,
      remindedAt: u.remindedAt ? timestampDate(u.remindedAt).toISOString() : null,
    },
  };
}
