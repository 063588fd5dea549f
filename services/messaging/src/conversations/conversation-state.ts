import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ConversationSchema } from '@qiwei/contracts';

export type ConversationKind = 'single' | 'group';
export type GroupRole = 'owner' | 'admin' | 'member';

export interface Participant {
  userid: string;
  role: GroupRole;
  joinedAt: Date;
  readSeq: number;
}

/** A conversation with everyone in it. */
export interface ConversationState {
  corpId: string;
  id: string;
  kind: ConversationKind;
  name: string;
  owner: string | null;
  onlyAdminsPost: boolean;
  onlyOwnerInvites: boolean;
  memberLimit: number;
  lastSeq: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  participants: Participant[];
}

/** The conversation as conversation events carry it. */
export function conversationMessage(
  c: ConversationState,
): MessageInitShape<typeof ConversationSchema> {
  return {
    corpId: c.corpId,
    id: c.id,
    kind: c.kind,
    name: c.name,
    owner: c.owner ?? '',
    onlyAdminsPost: c.onlyAdminsPost,
    onlyOwnerInvites: c.onlyOwnerInvites,
    memberLimit: c.memberLimit,
    participants: c.participants.map((p) => ({
      userid: p.userid,
      role: p.role,
      joinedAt: timestampFromDate(p.joinedAt),
    })),
    lastSeq: BigInt(c.lastSeq),
    createdAt: timestampFromDate(c.createdAt),
    updatedAt: timestampFromDate(c.updatedAt),
  };
}
