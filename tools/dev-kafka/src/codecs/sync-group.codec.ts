import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface SyncGroupResponse {
  errorCode: number;
  assignment: Buffer;
}

export function decodeSyncGroupRequest(r: Reader, version: number): SyncGroupRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (version >= 3) r.nullableString(); // group_instance_id: static membership is not implemented
  const assignments = r.array((a) => ({
    memberId: a.string(),
    assignment: Buffer.from(a.bytes()),
  }));
  return { groupId, generationId, memberId, assignments };
}

export function encodeSyncGroupResponse(w: Writer, version: number, res: SyncGroupResponse): void {
  if (version >= 1) w.int32(0);
  w.int16(res.errorCode).bytes(res.assignment);
}
