import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface FetchPartitionRequest {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  topics: { topic: string; partitions: FetchPartitionRequest[] }[];
}

export interface FetchPartitionResponse {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  /** Whole record batches; an empty buffer (never null) when there is nothing to return. */
  records: Buffer;
}

export interface FetchResponse {
  topics: { topic: string; partitions: FetchPartitionResponse[] }[];
}

export function decodeFetchRequest(r: Reader, version: number): FetchRequest {
  r.int32(); // replica_id: always a consumer here
  const maxWaitMs = r.int32();
  const minBytes = r.int32();
  const maxBytes = version >= 3 ? r.int32() : 0x7fffffff;
  if (version >= 4) r.int8(); // isolation_level: without transactions LSO == HW, so both levels read the same
  if (version >= 7) {
    r.int32(); // session_id: fetch sessions are not implemented, every fetch is a full fetch
    r.int32(); // session_epoch
  }
  const topics = r.array((t) => ({
    topic: t.string(),
    partitions: t.array((p) => {
      const partition = p.int32();
      if (version >= 9) p.int32(); // current_leader_epoch: not validated
      const fetchOffset = p.int64();
      if (version >= 5) p.int64(); // follower log_start_offset
      return { partition, fetchOffset, partitionMaxBytes: p.int32() };
    }),
  }));
  if (version >= 7) r.array((t) => ({ topic: t.string(), partitions: t.array((p) => p.int32()) }));
  if (version >= 11) r.string(); // rack_id
  return { maxWaitMs, minBytes, maxBytes, topics };
}

export function encodeFetchResponse(w: Writer, version: number, res: FetchResponse): void {
  if (version >= 1) w.int32(0);
  if (version >= 7) w.int16(0).int32(0); // top-level error, session_id 0 (no session)
  w.array(res.topics, (x, t) => {
    x.string(t.topic);
    x.array(t.partitions, (y, p) => {
      y.int32(p.partitionIndex).int16(p.errorCode).int64(p.highWatermark);
      if (version >= 4) y.int64(p.highWatermark); // last_stable_offset == HW without transactions
      if (version >= 5) y.int64(p.logStartOffset);
      if (version >= 4) y.int32(0); // aborted_transactions: empty
      if (version >= 11) y.int32(-1); // preferred_read_replica: none
      y.bytes(p.records);
    });
  });
}
