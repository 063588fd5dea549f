import type { ProblemDetails } from '@qiwei/platform';
import { wecomErrors, type WecomErrcodeTable, type WecomError } from '@qiwei/wecom';

/** What every /cgi-bin route of messaging answers for requests it could not even read. */
const REQUESTS = {
  VALIDATION_FAILED: [40058, 'invalid parameter'],
  'VALIDATION_FAILED:msgtype': [40008, 'invalid message type'],
  MESSAGE_TOO_LARGE: [45002, 'content size out of limit'],
  MALFORMED_JSON: [47001, 'data format error'],
  UNSUPPORTED_MEDIA_TYPE: [47001, 'data format error'],
  PAYLOAD_TOO_LARGE: [40058, 'invalid parameter: request body too large'],
  BAD_REQUEST: [40058, 'invalid parameter'],
  ROUTE_NOT_FOUND: [48002, 'api forbidden: not provided by this server'],
  TOO_MANY_REQUESTS: [45009, 'api freq out of limit'],
  INTERNAL_ERROR: [-1, 'system busy'],
  SERVICE_UNAVAILABLE: [-1, 'system busy'],
} as const;

/**
 * The group robot webhook (/cgi-bin/webhook/send): its key is the credential. A validation
 * failure is looked up as `VALIDATION_FAILED:<field>:<constraint>`, then
 * `VALIDATION_FAILED:<field>`, then `VALIDATION_FAILED`, for the first field WeCom has its own
 * errcode for.
 */
export const WEBHOOK_ERRCODES = {
  ...REQUESTS,
  WEBHOOK_KEY_INVALID: [93000, 'invalid webhook url'],
  // The robot's group went between the key's lookup and the send.
  CONVERSATION_NOT_FOUND: [93000, 'invalid webhook url'],
  ROBOT_CONTENT_EMPTY: [44004, 'empty content'],
  ROBOT_RATE_LIMITED: [130101, 'send to group robot too frequently'],
  ROBOT_IMAGE_TOO_LARGE: [40009, 'invalid image size'],
  MEDIA_TOO_LARGE: [40009, 'invalid image size'],
  ROBOT_IMAGE_TYPE: [40005, 'invalid file type'],
  ROBOT_IMAGE_MD5_MISMATCH: [40058, 'invalid parameter'],
  ROBOT_IMAGE_BASE64: [40058, 'invalid parameter'],
  MENTION_INVALID: [40058, 'invalid parameter'],
  // Files (webhook/upload_media, then msgtype file)
  MEDIA_TYPE_INVALID: [40004, 'invalid media type'],
  MEDIA_SIZE_INVALID: [40006, 'invalid file size'],
  MEDIA_MISSING: [44001, 'empty media data'],
  MALFORMED_MULTIPART: [47001, 'data format error'],
  MEDIA_NOT_FOUND: [40007, 'invalid media_id'],
  MEDIA_NOT_READY: [40007, 'invalid media_id'],
  'VALIDATION_FAILED:file:isDefined': [41006, 'media_id missing'],
  'VALIDATION_FAILED:file.media_id:isDefined': [41006, 'media_id missing'],
  'VALIDATION_FAILED:file.media_id': [40007, 'invalid media_id'],
} satisfies WecomErrcodeTable;

const NO_PRIVILEGE = [60011, 'no privilege to access/modify contact/party/agent'] as const;
const OTHER_AGENT = [301002, 'not allow operate another agent with this accesstoken'] as const;
const INVALID_TOKEN = [40014, 'invalid access_token'] as const;
const MEDIA_ID_MISSING = [41006, 'media_id missing'] as const;
const MEDIA_ID_INVALID = [40007, 'invalid media_id'] as const;
const EMPTY_CONTENT = [44004, 'empty content'] as const;

/**
 * The app API (media, message, appchat under /cgi-bin, with `?access_token=`). Errcodes are
 * WeCom's (reference/wecom-api.md and WeCom's global errcode list); where WeCom has none for a
 * refusal Qiwei makes (a recall after the window, say), 40058 with Qiwei's code in the hint.
 */
export const APP_API_ERRCODES = {
  ...REQUESTS,
  // Tokens
  ACCESS_TOKEN_MISSING: [41001, 'access_token missing'],
  TOKEN_INVALID: INVALID_TOKEN,
  TOKEN_REVOKED: INVALID_TOKEN,
  APP_TOKEN_REQUIRED: INVALID_TOKEN,
  UNAUTHORIZED: INVALID_TOKEN,
  TOKEN_EXPIRED: [42001, 'access_token expired'],
  AGENTID_MISMATCH: OTHER_AGENT,
  APP_MESSAGE_OF_ANOTHER_APP: OTHER_AGENT,
  // Media
  'VALIDATION_FAILED:type:isDefined': [40004, 'invalid media type'],
  MEDIA_TYPE_INVALID: [40004, 'invalid media type'],
  MEDIA_FILE_TYPE_INVALID: [40005, 'invalid file type'],
  'MEDIA_SIZE_INVALID:media:image': [40009, 'invalid image size'],
  'MEDIA_SIZE_INVALID:media:video': [40011, 'invalid video size'],
  MEDIA_SIZE_INVALID: [40006, 'invalid file size'],
  MEDIA_TOO_LARGE: [40006, 'invalid file size'],
  MEDIA_MISSING: [44001, 'empty media data'],
  MALFORMED_MULTIPART: [47001, 'data format error'],
  MEDIA_ID_INVALID,
  MEDIA_KIND_MISMATCH: MEDIA_ID_INVALID,
  MEDIA_SIZE_MISMATCH: MEDIA_ID_INVALID,
  MEDIA_CHECKSUM_MISMATCH: MEDIA_ID_INVALID,
  MEDIA_NOT_FOUND: MEDIA_ID_INVALID,
  MEDIA_NOT_READY: MEDIA_ID_INVALID,
  'VALIDATION_FAILED:media_id:isDefined': MEDIA_ID_MISSING,
  'VALIDATION_FAILED:image:isDefined': MEDIA_ID_MISSING,
  'VALIDATION_FAILED:voice:isDefined': MEDIA_ID_MISSING,
  'VALIDATION_FAILED:video:isDefined': MEDIA_ID_MISSING,
  'VALIDATION_FAILED:file:isDefined': MEDIA_ID_MISSING,
  'VALIDATION_FAILED:image.media_id:isDefined': MEDIA_ID_MISSING,
  'VALIDATION_FAILED:voice.media_id:isDefined': MEDIA_ID_MISSING,
  'VALIDATION_FAILED:video.media_id:isDefined': MEDIA_ID_MISSING,
  'VALIDATION_FAILED:file.media_id:isDefined': MEDIA_ID_MISSING,
  // Messages
  'VALIDATION_FAILED:agentid:isDefined': [41011, 'agentid missing'],
  'VALIDATION_FAILED:agentid': [40056, 'invalid agentid'],
  'VALIDATION_FAILED:touser:arrayMaxSize': [40032, 'invalid userid list size'],
  'VALIDATION_FAILED:touser': [40031, 'invalid userid list'],
  'VALIDATION_FAILED:toparty:arrayMaxSize': [82002, 'invalid partyid list size'],
  'VALIDATION_FAILED:toparty': [40066, 'invalid partyid list'],
  'VALIDATION_FAILED:totag:arrayMaxSize': [82003, 'invalid tagid list size'],
  'VALIDATION_FAILED:totag': [40068, 'invalid tagid'],
  'VALIDATION_FAILED:text:isDefined': EMPTY_CONTENT,
  'VALIDATION_FAILED:markdown:isDefined': EMPTY_CONTENT,
  'VALIDATION_FAILED:text.content:isDefined': EMPTY_CONTENT,
  'VALIDATION_FAILED:markdown.content:isDefined': EMPTY_CONTENT,
  'VALIDATION_FAILED:textcard.title:isDefined': [41016, 'title missing'],
  'VALIDATION_FAILED:textcard.description:isDefined': [41033, 'description missing'],
  'VALIDATION_FAILED:textcard.url:isDefined': [41010, 'url missing'],
  'VALIDATION_FAILED:template_card.card_type': [40008, 'invalid message type'],
  'VALIDATION_FAILED:news.articles:arrayMinSize': [45008, 'article size out of limit'],
  'VALIDATION_FAILED:news.articles:arrayMaxSize': [45008, 'article size out of limit'],
  CONTENT_EMPTY: EMPTY_CONTENT,
  APP_MESSAGE_NO_RECIPIENTS: [81013, 'user & party & tag all invalid'],
  APP_MESSAGE_RATE_LIMITED: [45009, 'api freq out of limit'],
  APP_MESSAGE_NOT_FOUND: [40058, 'invalid msgid'],
  APP_MESSAGE_ALREADY_RECALLED: [40058, 'invalid msgid: already recalled'],
  APP_MESSAGE_RECALL_EXPIRED: [40058, 'invalid msgid: recall time expired'],
  // App chats
  'VALIDATION_FAILED:chatid': [86001, 'invalid chatid'],
  'VALIDATION_FAILED:name': [86004, 'invalid chat name'],
  'VALIDATION_FAILED:owner': [86005, 'invalid chat owner'],
  'VALIDATION_FAILED:userlist:isDefined': [86006, 'invalid chat member count'],
  'VALIDATION_FAILED:userlist': [86216, 'invalid chat member id'],
  'VALIDATION_FAILED:add_user_list': [86216, 'invalid chat member id'],
  'VALIDATION_FAILED:del_user_list': [86216, 'invalid chat member id'],
  APP_CHAT_NOT_FOUND: [86003, 'chatid not exist'],
  APP_CHAT_OF_ANOTHER_APP: [86008, 'not allowed to operate a chat not created by this app'],
  APP_CHAT_ID_TAKEN: [86215, 'chatid existed'],
  APP_CHAT_SIZE_INVALID: [86006, 'invalid chat member count'],
  APP_CHAT_OWNER_INVALID: [86005, 'invalid chat owner'],
  APP_CHAT_MEMBERS_INVALID: [86216, 'invalid chat member id'],
  APP_CHAT_MEMBERS_CONFLICT: [86007, 'invalid chat member'],
  APP_CHAT_MEMBERS_OUT_OF_RANGE: NO_PRIVILEGE,
  GROUP_FULL: [86006, 'invalid chat member count'],
  APP_CHAT_RATE_LIMITED: [45009, 'api freq out of limit'],
  FORBIDDEN: NO_PRIVILEGE,
} satisfies WecomErrcodeTable;

const WEBHOOK_PATH = '/cgi-bin/webhook/';

const webhookError = wecomErrors(WEBHOOK_ERRCODES, { 429: WEBHOOK_ERRCODES.TOO_MANY_REQUESTS });
const appApiError = wecomErrors(APP_API_ERRCODES, {
  401: APP_API_ERRCODES.TOKEN_INVALID,
  403: APP_API_ERRCODES.FORBIDDEN,
  429: APP_API_ERRCODES.TOO_MANY_REQUESTS,
});

/**
 * A problem in WeCom's envelope: the robot webhook and the app API each with WeCom's errcodes
 * for what they do (the same field means different things in their bodies); 4xx statuses a
 * table does not name go by status.
 */
export const toWecomError = (problem: ProblemDetails): WecomError =>
  (problem.instance ?? '').startsWith(WEBHOOK_PATH) ? webhookError(problem) : appApiError(problem);
