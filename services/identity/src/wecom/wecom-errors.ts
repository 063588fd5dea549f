import { wecomErrors, type WecomErrcodeTable } from '@qiwei/wecom';

/**
 * Qiwei's error codes → WeCom's errcodes: the one place they are mapped. A validation failure
 * is looked up as `VALIDATION_FAILED:<field>:<constraint>`, then `VALIDATION_FAILED:<field>`,
 * then `VALIDATION_FAILED`, for the first field WeCom has its own errcode for.
 */
export const WECOM_ERRCODES = {
  // Tokens
  CORP_ID_INVALID: [40013, 'invalid corpid'],
  APP_SECRET_INVALID: [40001, 'invalid credential'],
  ACCESS_TOKEN_MISSING: [41001, 'access_token missing'],
  TOKEN_INVALID: [40014, 'invalid access_token'],
  TOKEN_REVOKED: [40014, 'invalid access_token'],
  APP_TOKEN_REQUIRED: [40014, 'invalid access_token'],
  UNAUTHORIZED: [40014, 'invalid access_token'],
  TOKEN_EXPIRED: [42001, 'access_token expired'],
  // Privileges (outside the app's range or without contacts:edit / tags:manage)
  ROLE_REQUIRED: [60011, 'no privilege to access/modify contact/party/agent'],
  PERMISSION_REQUIRED: [60011, 'no privilege to access/modify contact/party/agent'],
  OUTSIDE_ADMIN_SCOPE: [60011, 'no privilege to access/modify contact/party/agent'],
  ADMIN_TARGET_REQUIRES_SUPER_ADMIN: [60011, 'no privilege to access/modify contact/party/agent'],
  SCOPE_ROOT_IMMUTABLE: [60011, 'no privilege to access/modify contact/party/agent'],
  LAST_SUPER_ADMIN: [60011, 'no privilege to access/modify contact/party/agent'],
  FORBIDDEN: [60011, 'no privilege to access/modify contact/party/agent'],
  // Departments
  DEPARTMENT_NOT_FOUND: [60003, 'department not found'],
  PARENT_DEPARTMENT_NOT_FOUND: [60004, 'parent department not found'],
  DEPARTMENT_HAS_MEMBERS: [60005, 'department contains user'],
  DEPARTMENT_HAS_CHILDREN: [60006, 'department contains sub-department'],
  ROOT_DEPARTMENT_IMMUTABLE: [60007, 'not allow to delete or move root department'],
  DEPARTMENT_NAME_TAKEN: [60008, 'department existed'],
  DEPARTMENT_ID_TAKEN: [60008, 'department existed'],
  DEPARTMENT_NAME_INVALID: [60009, 'department name contains invalid char'],
  DEPARTMENT_MOVE_INTO_OWN_SUBTREE: [60010, 'department cycle'],
  DEPARTMENT_LIMIT_REACHED: [81001, 'too many departments'],
  DEPARTMENT_TOO_DEEP: [81002, 'department level too deep'],
  DEPARTMENT_HAS_ADMINS: [40058, 'invalid parameter'],
  // Members
  MEMBER_NOT_FOUND: [60111, 'userid not found'],
  MEMBER_USERID_TAKEN: [60102, 'userid existed'],
  MEMBER_MOBILE_TAKEN: [60104, 'mobile existed'],
  MEMBER_DEPARTMENT_NOT_FOUND: [60123, 'invalid party id'],
  MAIN_DEPARTMENT_NOT_A_MEMBERSHIP: [40058, 'invalid parameter'],
  DIRECT_LEADER_INVALID: [40058, 'invalid parameter'],
  MEMBER_STATUS_TRANSITION_INVALID: [40058, 'invalid parameter'],
  // Tags
  TAG_NOT_FOUND: [40068, 'invalid tagid'],
  TAG_ID_TAKEN: [40068, 'invalid tagid'],
  TAG_NAME_TAKEN: [40071, 'invalid tagname: tagname existed'],
  TAG_TARGETS_NOT_FOUND: [40070, 'all list invalid'],
  TAG_TARGETS_ALL_INVALID: [40070, 'all list invalid'],
  // Batch jobs and WeCom's temporary media
  MEDIA_ID_INVALID: [40007, 'invalid media_id'],
  BATCH_MEDIA_NOT_A_FILE: [40004, 'invalid media type'],
  BATCH_FILE_TOO_LARGE: [40006, 'invalid file size'],
  BATCH_FILE_INVALID: [40092, 'invalid content in the import file'],
  IMPORT_FILE_NOT_SPREADSHEET: [40092, 'invalid content in the import file'],
  IMPORT_FILE_ENCODING_INVALID: [40092, 'invalid content in the import file'],
  IMPORT_TOO_MANY_ROWS: [40092, 'invalid content in the import file'],
  BATCH_JOB_NOT_FOUND: [40088, 'jobid not found'],
  BATCH_DELETE_PROTECTION: [45026, 'member deletion protection triggered'],
  BATCH_JOB_GAVE_UP: [302005, 'import failed, please retry'],
  'VALIDATION_FAILED:media_id:isDefined': [41006, 'media_id missing'],
  'VALIDATION_FAILED:media_id': [40007, 'invalid media_id'],
  'VALIDATION_FAILED:jobid:isDefined': [40058, 'invalid parameter: jobid missing'],
  'VALIDATION_FAILED:jobid': [40088, 'jobid not found'],
  'VALIDATION_FAILED:callback.url': [40057, 'invalid callback url'],
  // Requests
  VALIDATION_FAILED: [40058, 'invalid parameter'],
  'VALIDATION_FAILED:corpid:isDefined': [41002, 'corpid missing'],
  'VALIDATION_FAILED:corpsecret:isDefined': [41004, 'corpsecret missing'],
  'VALIDATION_FAILED:userid:isDefined': [41009, 'userid missing'],
  'VALIDATION_FAILED:tagid:isDefined': [41017, 'tagid missing'],
  'VALIDATION_FAILED:department:isDefined': [60127, 'department missing'],
  'VALIDATION_FAILED:userid': [40003, 'invalid userid'],
  'VALIDATION_FAILED:useridlist': [40031, 'invalid userid list'],
  'VALIDATION_FAILED:mobile': [60103, 'mobile invalid'],
  'VALIDATION_FAILED:email': [60105, 'email invalid'],
  'VALIDATION_FAILED:is_leader_in_dept': [60132, 'is_leader_in_dept and department mismatch'],
  'VALIDATION_FAILED:tagname': [40072, 'invalid tagname length'],
  INVALID_CURSOR: [50100, 'invalid cursor'],
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
  401: WECOM_ERRCODES.TOKEN_INVALID,
  403: WECOM_ERRCODES.FORBIDDEN,
});
