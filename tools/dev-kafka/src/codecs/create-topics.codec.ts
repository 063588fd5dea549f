import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface CreatableTopic {
  name: string;
  /** -1 asks for the broker default. */
  numPartitions: number;
  replicationFactor: number;
  assignments: { partitionIndex: number; brokerIds: number[] }[];
}

export interface CreateTopicsRequest {
  topics: CreatableTopic[];
  timeoutMs: number;
  validateOnly: boolean;
}

export interface CreateTopicsResponse {
  topics: { name: string; errorCode: number; errorMessage: string | null }[];
}

export function decodeCreateTopicsRequest(r: Reader, version: number): CreateTopicsRequest {
  const topics = r.array((t) => {
    const name = t.string();
    const numPartitions = t.int32();
    const replicationFactor = t.int16();
    const assignments = t.array((a) => ({
      partitionIndex: a.int32(),
      brokerIds: a.array((b) => b.int32()),
    }));
    // Topic configs are accepted and ignored: retention is a broker-wide setting here.
    t.array((c) => ({ name: c.string(), value: c.nullableString() }));
    return { name, numPartitions, replicationFactor, assignments };
  });
  const timeoutMs = r.int32();
  const validateOnly = version >= 1 ? r.bool() : false;
  return { topics, timeoutMs, validateOnly };
}

export function encodeCreateTopicsResponse(
  w: Writer,
  version: number,
  res: CreateTopicsResponse,
): void {
  if (version >= 2) w.int32(0);
  w.array(res.topics, (x, t) => {
    x.string(t.name).int16(t.errorCode);
    if (version >= 1) x.nullableString(t.errorMessage);
  });
}
