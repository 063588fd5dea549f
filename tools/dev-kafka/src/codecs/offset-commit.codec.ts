import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface OffsetCommitPartition {
  partitionIndex: number;
  committedOffset: number;
  committedMetadata: string | null;
}

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  topics: { name: string; partitions: OffsetCommitPartition[] }[];
}

export interface OffsetCommitResponse {
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
}

export function decodeOffsetCommitRequest(r: Reader, version: number): OffsetCommitRequest {
  const groupId = r.string();
  const generationId = version >= 1 ? r.int32() : -1;
  const memberId = version >= 1 ? r.string() : '';
  if (version >= 2 && version <= 4) r.int64(); // retention_time_ms: commits are kept until the group is deleted
  const topics = r.array((t) => ({
    name: t.string(),
    partitions: t.array((p) => {
      const partitionIndex = p.int32();
      const committedOffset = p.int64();
      if (version === 1) p.int64(); // commit_timestamp
      return { partitionIndex, committedOffset, committedMetadata: p.nullableString() };
    }),
  }));
  return { groupId, generationId, memberId, topics };
}

export function encodeOffsetCommitResponse(
  w: Writer,
  version: number,
  res: OffsetCommitResponse,
): void {
  if (version >= 3) w.int32(0);
  w.array(res.topics, (x, t) => {
    x.string(t.name);
    x.array(t.partitions, (y, p) => {
      y.int32(p.partitionIndex).int16(p.errorCode);
    });
  });
}
