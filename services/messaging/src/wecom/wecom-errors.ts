import { wecomErrors, type WecomErrcodeTable } from '@qiwei/wecom';

/**
 * Messaging's error codes → WeCom's errcodes, for its /cgi-bin routes (the group robot
 * webhook): the one place they are mapped. A validation failure is looked up as
 * `VALIDATION_FAILED:<field>:<constraint>`, then `VALIDATION_FAILED:<field>`, then
 * `VALIDATION_FAILED`, for the first field WeCom has its own errcode for.
 */
export const WECOM_ERRCODES = {
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
} satisfies WecomErrcodeTable;

/** A problem in WeCom's envelope; 4xx statuses the table does not name go by status. */
export const toWecomError = wecomErrors(WECOM_ERRCODES, {
  429: WECOM_ERRCODES.TOO_MANY_REQUESTS,
});
