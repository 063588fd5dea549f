import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface ListOffsetsRequest {
  topics: { name: string; partitions: { partitionIndex: number; timestamp: number }[] }[];
}

export interface ListOffsetsPartitionResponse {
  partitionIndex: number;
  errorCode: number;
  timestamp: number;
  offset: number;
}

export interface ListOffsetsResponse {
  topics: { name: string; partitions: ListOffsetsPartitionResponse[] }[];
}

export function decodeListOffsetsRequest(r: Reader, version: number): ListOffsetsRequest {
  r.int32(); // replica_id
  if (version >= 2) r.int8(); // isolation_level
  const topics = r.array((t) => ({
    name: t.string(),
    partitions: t.array((p) => {
      const partitionIndex = p.int32();
      const timestamp = p.int64();
      if (version === 0) p.int32(); // max_num_offsets: we always return one offset
      return { partitionIndex, timestamp };
    }),
  }));
  return { topics };
}

export function encodeListOffsetsResponse(
  w: Writer,
  version: number,
  res: ListOffsetsResponse,
): void {
  if (version >= 2) w.int32(0);
  w.array(res.topics, (x, t) => {
    x.string(t.name);
    x.array(t.partitions, (y, p) => {
      y.int32(p.partitionIndex).int16(p.errorCode);
      if (version === 0) {
        y.array(p.offset >= 0 ? [p.offset] : [], (z, o) => z.int64(o));
      } else {
        y.int64(p.timestamp).int64(p.offset);
      }
    });
  });
}
