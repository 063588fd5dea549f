import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface FindCoordinatorRequest {
  key: string;
  keyType: number;
}

export interface FindCoordinatorResponse {
  errorCode: number;
  nodeId: number;
  host: string;
  port: number;
}

export function decodeFindCoordinatorRequest(r: Reader, version: number): FindCoordinatorRequest {
  const key = r.string();
  const keyType = version >= 1 ? r.int8() : 0;
  return { key, keyType };
}

export function encodeFindCoordinatorResponse(
  w: Writer,
  version: number,
  res: FindCoordinatorResponse,
): void {
  if (version >= 1) w.int32(0);
  w.int16(res.errorCode);
  if (version >= 1) w.nullableString(null);
  w.int32(res.nodeId).string(res.host).int32(res.port);
}
