import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  IDENTITY_MEMBER_TOPIC,
  type MemberDeletedSchema,
  type MemberSchema,
} from '@qiwei/contracts';
import type { NewEvent } from '@qiwei/events';
import type { MemberWithDepartments } from './members.repository';

export type MemberChange = 'created' | 'updated' | 'disabled' | 'enabled' | 'left';

const typeOf = (happened: string) => {
  const type = `qiwei.identity.member.${happened}.v1`;
  if (!IDENTITY_MEMBER_TOPIC.events.some((e) => e.type === type))
    throw new Error(`undeclared ${type}`);
  return type;
};

export function memberState({
  member,
  departments: memberships,
  scopes,
}: MemberWithDepartments): MessageInitShape<typeof MemberSchema> {
  return {
    corpId: member.corpId,
    userid: member.userid,
    name: member.name,
    mobile: member.mobile ?? undefined,
    email: member.email ?? undefined,
    position: member.position,
    gender: member.gender,
    status: member.status,
    departments: memberships.map((m) => ({
      departmentId: m.departmentId,
      order: m.order,
      isLeader: m.isLeader,
    })),
    mainDepartmentId: member.mainDepartmentId,
    directLeaders: member.directLeaders,
    joinedAt: timestampFromDate(member.joinedAt),
    leftAt: member.leftAt ? timestampFromDate(member.leftAt) : undefined,
    createdAt: timestampFromDate(member.createdAt),
    updatedAt: timestampFromDate(member.updatedAt),
    roles: member.roles,
    tokensValidAfter: member.tokensValidAfter
      ? timestampFromDate(member.tokensValidAfter)
      : undefined,
    adminScopes: scopes.map((s) => ({ departmentId: s.departmentId, permissions: s.permissions })),
  };
}

const envelope = (corpId: string, userid: string) => ({
  tenant: corpId,
  key: corpId,
  subject: `member/${userid}`,
});

/** Every member event but `deleted` carries the member's whole state. */
export function memberChanged(change: MemberChange, state: MemberWithDepartments): NewEvent {
  return {
    ...envelope(state.member.corpId, state.member.userid),
    type: typeOf(change),
    data: { member: memberState(state) },
  };
}

export function memberDeleted(
  corpId: string,
  userid: string,
  at: Date,
): NewEvent<typeof MemberDeletedSchema> {
  return {
    ...envelope(corpId, userid),
    type: typeOf('deleted'),
    data: { corpId, userid, deletedAt: timestampFromDate(at) },
  };
}
