import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface DeleteTopicsRequest {
  topicNames: string[];
}

export interface DeleteTopicsResponse {
  responses: { name: string; errorCode: number }[];
}

export function decodeDeleteTopicsRequest(r: Reader): DeleteTopicsRequest {
  const topicNames = r.array((x) => x.string());
  r.int32(); // timeout_ms: deletion is synchronous
  return { topicNames };
}

export function encodeDeleteTopicsResponse(
  w: Writer,
  version: number,
  res: DeleteTopicsResponse,
): void {
  if (version >= 1) w.int32(0);
  w.array(res.responses, (x, t) => {
    x.string(t.name).int16(t.errorCode);
  });
}
