import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: GroupProtocol[];
}

export interface JoinGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinGroupResponse {
  errorCode: number;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  members: JoinGroupMember[];
}

export function decodeJoinGroupRequest(r: Reader, version: number): JoinGroupRequest {
  const groupId = r.string();
  const sessionTimeoutMs = r.int32();
  // v0 has no rebalance timeout: the session timeout bounded the rebalance.
  const rebalanceTimeoutMs = version >= 1 ? r.int32() : sessionTimeoutMs;
  const memberId = r.string();
  const groupInstanceId = version >= 5 ? r.nullableString() : null;
  const protocolType = r.string();
  // Copies: the metadata outlives the request buffer while the member stays in the group.
  const protocols = r.array((p) => ({ name: p.string(), metadata: Buffer.from(p.bytes()) }));
  return {
    groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    memberId,
    groupInstanceId,
    protocolType,
    protocols,
  };
}

export function encodeJoinGroupResponse(w: Writer, version: number, res: JoinGroupResponse): void {
  if (version >= 2) w.int32(0);
  w.int16(res.errorCode)
    .int32(res.generationId)
    .string(res.protocolName)
    .string(res.leader)
    .string(res.memberId);
  w.array(res.members, (x, m) => {
    x.string(m.memberId);
    if (version >= 5) x.nullableString(m.groupInstanceId);
    x.bytes(m.metadata);
  });
}
