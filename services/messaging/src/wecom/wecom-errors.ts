import type { ProblemDetails } from '@qiwei/platform';

/** WeCom's envelope: every answer carries these, errors included (with HTTP 200). */
export interface WecomError {
  errcode: number;
  errmsg: string;
}

/**
 * Messaging's error codes → WeCom's errcodes, for its /cgi-bin routes (the group robot
 * webhook): the one place they are mapped. A validation failure is looked up as
 * `VALIDATION_FAILED:<field>:<constraint>`, then `VALIDATION_FAILED:<field>`, then
 * `VALIDATION_FAILED`, for the first field WeCom has its own errcode for.
 */
export const WECOM_ERRCODES: Readonly<Record<string, readonly [number, string]>> = {
  WEBHOOK_KEY_INVALID: [93000, 'invalid webhook url'],
  // The robot's group went between the key's lookup and the send.
  CONVERSATION_NOT_FOUND: [93000, 'invalid webhook url'],
  'VALIDATION_FAILED:msgtype': [40008, 'invalid message type'],
  ROBOT_CONTENT_EMPTY: [44004, 'empty content'],
  MESSAGE_TOO_LARGE: [45002, 'content size out of limit'],
  ROBOT_RATE_LIMITED: [130101, 'send to group robot too frequently'],
  ROBOT_IMAGE_TOO_LARGE: [40009, 'invalid image size'],
  MEDIA_TOO_LARGE: [40009, 'invalid image size'],
  ROBOT_IMAGE_TYPE: [40005, 'invalid file type'],
  ROBOT_IMAGE_MD5_MISMATCH: [40058, 'invalid parameter'],
  ROBOT_IMAGE_BASE64: [40058, 'invalid parameter'],
  MENTION_INVALID: [40058, 'invalid parameter'],
  VALIDATION_FAILED: [40058, 'invalid parameter'],
  MALFORMED_JSON: [47001, 'data format error'],
  UNSUPPORTED_MEDIA_TYPE: [47001, 'data format error'],
  PAYLOAD_TOO_LARGE: [40058, 'invalid parameter: request body too large'],
  BAD_REQUEST: [40058, 'invalid parameter'],
  ROUTE_NOT_FOUND: [48002, 'api forbidden: not provided by this server'],
  TOO_MANY_REQUESTS: [45009, 'api freq out of limit'],
  INTERNAL_ERROR: [-1, 'system busy'],
  SERVICE_UNAVAILABLE: [-1, 'system busy'],
};

/** For a code the table does not name: by HTTP status. */
function byStatus(status: number): readonly [number, string] {
  if (status >= 500) return WECOM_ERRCODES.INTERNAL_ERROR;
  if (status === 429) return WECOM_ERRCODES.TOO_MANY_REQUESTS;
  return WECOM_ERRCODES.VALIDATION_FAILED;
}

function lookup(problem: ProblemDetails): readonly [number, string] {
  for (const error of problem.errors ?? []) {
    const entry =
      WECOM_ERRCODES[`${problem.code}:${error.field}:${error.code}`] ??
      WECOM_ERRCODES[`${problem.code}:${error.field}`];
    if (entry) return entry;
  }
  return WECOM_ERRCODES[problem.code] ?? byStatus(problem.status);
}

/**
 * A problem (as the platform's one error filter made it) in WeCom's envelope: WeCom's errcode and
 * message, with Qiwei's code and detail as the hint. A 5xx says no more than "system busy".
 */
export function toWecomError(problem: ProblemDetails): WecomError {
  const [errcode, message] = lookup(problem);
  if (errcode === -1) return { errcode, errmsg: message };
  const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
  return {
    errcode,
    errmsg: `${message}, hint: [${problem.code}] ${fields || problem.detail}`,
  };
}
