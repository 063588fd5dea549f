import { Writer } from '../protocol/writer';

export interface ListedGroup {
  groupId: string;
  protocolType: string;
}

export function encodeListGroupsResponse(w: Writer, version: number, groups: ListedGroup[]): void {
  if (version >= 1) w.int32(0);
  w.int16(0);
  w.array(groups, (x, g) => {
    x.string(g.groupId).string(g.protocolType);
  });
}
