import { Reader } from '../protocol/reader';

export interface LeaveGroupRequest {
  groupId: string;
  memberId: string;
}

export function decodeLeaveGroupRequest(r: Reader): LeaveGroupRequest {
  return { groupId: r.string(), memberId: r.string() };
}
