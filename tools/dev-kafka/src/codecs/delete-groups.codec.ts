import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export function decodeDeleteGroupsRequest(r: Reader): string[] {
  return r.array((x) => x.string());
}

export function encodeDeleteGroupsResponse(
  w: Writer,
  results: { groupId: string; errorCode: number }[],
): void {
  w.int32(0);
  w.array(results, (x, g) => {
    x.string(g.groupId).int16(g.errorCode);
  });
}
