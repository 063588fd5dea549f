import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface DescribedMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: DescribedMember[];
}

export function decodeDescribeGroupsRequest(r: Reader): string[] {
  return r.array((x) => x.string());
}

export function encodeDescribeGroupsResponse(
  w: Writer,
  version: number,
  groups: DescribedGroup[],
): void {
  if (version >= 1) w.int32(0);
  w.array(groups, (x, g) => {
    x.int16(g.errorCode)
      .string(g.groupId)
      .string(g.groupState)
      .string(g.protocolType)
      .string(g.protocolData);
    x.array(g.members, (y, m) => {
      y.string(m.memberId)
        .string(m.clientId)
        .string(m.clientHost)
        .bytes(m.memberMetadata)
        .bytes(m.memberAssignment);
    });
  });
}
