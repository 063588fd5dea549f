import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ConversationSchema } from '@qiwei/contracts';

/**
 * `single` (1:1), `group` (internal), `external` (members and external contacts) and
 * `department` (its members follow a department subtree).
 */
export type ConversationKind = 'single' | 'group' | 'external' | 'department';
export type GroupKind = Exclude<ConversationKind, 'single'>;
export type GroupRole = 'owner' | 'admin' | 'member';

export const isGroupKind = (kind: string): kind is GroupKind =>
  kind === 'group' || kind === 'external' || kind === 'department';

export interface Participant {
  userid: string;
  role: GroupRole;
  joinedAt: Date;
  readSeq: number;
}

/** An external contact (`external_userid`) in an external group. */
export interface ExternalParticipant {
  externalUserid: string;
  addedBy: string;
  joinedAt: Date;
}

/** One version of a group notice (群公告); an empty text clears the notice. */
export interface GroupNotice {
  version: number;
  text: string;
  publishedBy: string;
  publishedAt: Date;
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
  externalParticipants: ExternalParticipant[];
  /** Department groups: the department whose subtree's active members are the participants. */
  departmentId: number | null;
  notice: GroupNotice | null;
  welcomeMessage: string;
  tags: string[];
  /** Department groups at their member limit: members of the subtree waiting, oldest first. */
  waiting: string[];
}

export const roleOf = (c: ConversationState, userid: string): GroupRole | undefined =>
  c.participants.find((p) => p.userid === userid)?.role;

/** Members and external contacts: what the member limit counts. */
export const headcount = (c: ConversationState): number =>
  c.participants.length + c.externalParticipants.length;

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
    externalParticipants: c.externalParticipants.map((e) => e.externalUserid),
    departmentId: c.departmentId ?? 0,
    notice: c.notice
      ? {
          version: c.notice.version,
          text: c.notice.text,
          publishedBy: c.notice.publishedBy,
          publishedAt: timestampFromDate(c.notice.publishedAt),
        }
      : undefined,
    welcomeMessage: c.welcomeMessage,
    tags: c.tags,
    waiting: c.waiting,
  };
}
