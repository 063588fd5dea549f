/**
 * What a batch job reports per row (and per member or department an overwrite removed or kept):
 * WeCom's errcode and message, with Qiwei's code and the reason as the hint, as the envelope of
 * every /cgi-bin answer has it.
 */
export interface RowOutcome {
  errcode: number;
  errmsg: string;
}

export const ROW_ERRCODES = {
  USERID_MISSING: [41009, 'userid missing'],
  USERID_INVALID: [40003, 'invalid userid'],
  DUPLICATE_USERID_IN_FILE: [302003, 'userid duplicated in the file'],
  NAME_INVALID: [60112, 'invalid name'],
  MOBILE_INVALID: [60103, 'mobile invalid'],
  MOBILE_TAKEN: [60104, 'mobile existed'],
  DUPLICATE_MOBILE_IN_FILE: [60104, 'mobile existed'],
  EMAIL_INVALID: [60105, 'email invalid'],
  POSITION_INVALID: [301012, 'invalid position'],
  GENDER_INVALID: [40058, 'invalid parameter'],
  DISABLED_INVALID: [40058, 'invalid parameter'],
  STATUS_TRANSITION_INVALID: [40058, 'invalid parameter'],
  ORDER_INVALID: [40058, 'invalid parameter'],
  LEADER_INVALID: [60132, 'is_leader_in_dept and department mismatch'],
  DEPARTMENTS_TOO_MANY: [60110, 'user department too many'],
  DEPARTMENT_NOT_FOUND: [60123, 'invalid party id'],
  DEPARTMENT_PATH_INVALID: [60123, 'invalid party id'],
  DEPARTMENT_NAME_INVALID: [60009, 'department name contains invalid char'],
  DEPARTMENT_NAME_LENGTH: [60001, 'department name length invalid'],
  DEPARTMENT_TOO_DEEP: [81002, 'department level too deep'],
  DEPARTMENT_LIMIT_REACHED: [81001, 'too many departments'],
  MEMBER_LIMIT_REACHED: [45024, 'account number exceeds the limit'],
  NO_PRIVILEGE: [60011, 'no privilege to access/modify contact/party/agent'],
  PARTY_ID_INVALID: [60123, 'invalid party id'],
  DUPLICATE_PARTY_ID_IN_FILE: [302006, 'partyid duplicated in the file'],
  PARENT_INVALID: [60124, 'invalid parent party id'],
  ROOT_IMMUTABLE: [60007, 'not allow to delete or move root department'],
  DEPARTMENT_CYCLE: [60010, 'department cycle'],
  DEPARTMENT_NAME_TAKEN: [60008, 'department existed'],
  DEPARTMENT_HAS_MEMBERS: [60005, 'department contains user'],
  DEPARTMENT_HAS_CHILDREN: [60006, 'department contains sub-department'],
  DEPARTMENT_HAS_ADMINS: [40058, 'invalid parameter'],
} as const satisfies Record<string, readonly [number, string]>;

export type RowErrorCode = keyof typeof ROW_ERRCODES;

export const rowError = (code: RowErrorCode, detail: string): RowOutcome => {
  const [errcode, message] = ROW_ERRCODES[code];
  return { errcode, errmsg: `${message}, hint: [${code}] ${detail}` };
};

export const ROW_OK: RowOutcome = { errcode: 0, errmsg: 'ok' };

/** replace_party's `action` bits (WeCom's), and Qiwei's bit for a department the job deleted. */
export const PARTY_ACTION = {
  created: 1,
  renamed: 2,
  moved: 4,
  reordered: 8,
  deleted: 16,
} as const;
