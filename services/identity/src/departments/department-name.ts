import { DepartmentNameInvalidException } from './department.exceptions';

export const DEPARTMENT_NAME_MAX_LENGTH = 64;
const FORBIDDEN = /[\\:*?"<>|]/;

/**
 * WeCom's rule: 1–64 characters (counted as Unicode characters, so 64 Chinese characters fit),
 * none of `\:*?"<>|`. Blank names and control characters are refused too.
 */
export function assertValidDepartmentName(name: string): void {
  const length = [...name].length;
  if (name.trim().length === 0)
    throw new DepartmentNameInvalidException('the name must not be blank.');
  if (length > DEPARTMENT_NAME_MAX_LENGTH) {
    throw new DepartmentNameInvalidException(
      `at most ${DEPARTMENT_NAME_MAX_LENGTH} characters (got ${length}).`,
    );
  }
  if (FORBIDDEN.test(name)) {
    throw new DepartmentNameInvalidException(
      'none of the characters \\ : * ? " < > | may be used.',
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new DepartmentNameInvalidException('control characters may not be used.');
  }
}
