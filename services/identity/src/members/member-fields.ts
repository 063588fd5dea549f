import { isEmail, length, matches, maxLength } from 'class-validator';
import { USERID_PATTERN } from '../corps/dto/corp.dto';

/** A mainland China mobile (11 digits from 1[3-9]) or an E.164 number with its +country code. */
export const MOBILE_PATTERN = /^(1[3-9]\d{9}|\+[1-9]\d{6,14})$/;
export const NOT_BLANK = /\S/;
export const NAME_MAX_LENGTH = 64;
export const EMAIL_MAX_LENGTH = 254;
export const POSITION_MAX_LENGTH = 128;
export const MAX_DEPARTMENTS_PER_MEMBER = 100;

export const FIELD_MESSAGES = {
  userid: 'userid must be 1–64 of A-Z a-z 0-9 _ @ . -',
  name: `name must be 1–${NAME_MAX_LENGTH} characters and not blank`,
  nameBlank: 'name must not be blank',
  mobile: 'mobile must be 1[3-9] and 9 more digits, or + and 7–15 digits',
  email: `email must be an email address of at most ${EMAIL_MAX_LENGTH} characters`,
  position: `position must be at most ${POSITION_MAX_LENGTH} characters`,
} as const;

export type ProfileField = 'userid' | 'name' | 'mobile' | 'email' | 'position';

/**
 * The member DTOs' rule for one profile field, as a plain function (the same class-validator
 * checks their decorators run), for callers that check many values without building DTOs —
 * an import checks tens of thousands of rows. The reason a value breaks it, or null.
 */
export function memberFieldProblem(field: ProfileField, value: string): string | null {
  switch (field) {
    case 'userid':
      return matches(value, USERID_PATTERN) ? null : FIELD_MESSAGES.userid;
    case 'name':
      return length(value, 1, NAME_MAX_LENGTH) && matches(value, NOT_BLANK)
        ? null
        : FIELD_MESSAGES.name;
    case 'mobile':
      return matches(value, MOBILE_PATTERN) ? null : FIELD_MESSAGES.mobile;
    case 'email':
      return isEmail(value) && maxLength(value, EMAIL_MAX_LENGTH) ? null : FIELD_MESSAGES.email;
    case 'position':
      return maxLength(value, POSITION_MAX_LENGTH) ? null : FIELD_MESSAGES.position;
  }
}
