import { randomUUID } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageSentSchema } from '@qiwei/contracts';
import type { NewEvent } from '@qiwei/events';

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
