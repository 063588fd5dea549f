import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface ProducePartitionData {
  partitionIndex: number;
  records: Buffer | null;
}

export interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topics: { name: string; partitions: ProducePartitionData[] }[];
}

export interface ProducePartitionResponse {
  partitionIndex: number;
  errorCode: number;
  baseOffset: number;
  logStartOffset: number;
}

export interface ProduceResponse {
  topics: { name: string; partitions: ProducePartitionResponse[] }[];
}

export function decodeProduceRequest(r: Reader, version: number): ProduceRequest {
  const transactionalId = version >= 3 ? r.nullableString() : null;
  const acks = r.int16();
  const timeoutMs = r.int32();
  const topics = r.array((t) => ({
    name: t.string(),
    partitions: t.array((p) => ({ partitionIndex: p.int32(), records: p.nullableBytes() })),
  }));
  return { transactionalId, acks, timeoutMs, topics };
}

export function encodeProduceResponse(w: Writer, version: number, res: ProduceResponse): void {
  w.array(res.topics, (x, t) => {
    x.string(t.name);
    x.array(t.partitions, (y, p) => {
      y.int32(p.partitionIndex).int16(p.errorCode).int64(p.baseOffset);
      if (version >= 2) y.int64(-1); // log_append_time: we keep CreateTime
      if (version >= 5) y.int64(p.logStartOffset);
    });
  });
  if (version >= 1) w.int32(0);
}
