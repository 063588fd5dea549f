import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
}

export function decodeHeartbeatRequest(r: Reader, version: number): HeartbeatRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (version >= 3) r.nullableString(); // group_instance_id
  return { groupId, generationId, memberId };
}

/** Shared by Heartbeat and LeaveGroup v0–v1: throttle (v1+) then an error code. */
export function encodeErrorOnlyResponse(w: Writer, version: number, errorCode: number): void {
  if (version >= 1) w.int32(0);
  w.int16(errorCode);
}
