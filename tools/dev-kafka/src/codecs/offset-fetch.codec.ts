import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface OffsetFetchRequest {
  groupId: string;
  /** null (v2+) means every partition the group has committed. */
  topics: { name: string; partitionIndexes: number[] }[] | null;
}

export interface OffsetFetchPartition {
  partitionIndex: number;
  committedOffset: number;
  metadata: string | null;
  errorCode: number;
}

export interface OffsetFetchResponse {
  topics: { name: string; partitions: OffsetFetchPartition[] }[];
  errorCode: number;
}

export function decodeOffsetFetchRequest(r: Reader): OffsetFetchRequest {
  const groupId = r.string();
  const topics = r.nullableArray((t) => ({
    name: t.string(),
    partitionIndexes: t.array((p) => p.int32()),
  }));
  return { groupId, topics };
}

export function encodeOffsetFetchResponse(
  w: Writer,
  version: number,
  res: OffsetFetchResponse,
): void {
  if (version >= 3) w.int32(0);
  w.array(res.topics, (x, t) => {
    x.string(t.name);
    x.array(t.partitions, (y, p) => {
      y.int32(p.partitionIndex)
        .int64(p.committedOffset)
        .nullableString(p.metadata)
        .int16(p.errorCode);
    });
  });
  if (version >= 2) w.int16(res.errorCode);
}
