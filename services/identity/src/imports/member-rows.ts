import { DomainException } from '@qiwei/platform';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { assertValidDepartmentName } from '../departments/department-name';
import { ROOT_DEPARTMENT_ID } from '../departments/department.entity';
import { CreateMemberDto } from '../members/dto/member.dto';
import {
  DEPARTMENT_SEPARATOR,
  headerOf,
  PATH_SEPARATOR,
  type SheetField,
  type SheetRow,
} from './member-sheet';

/** Why a row was not applied, and in which column. */
export interface RowIssue {
  row: number;
  field: SheetField;
  code: string;
  message: string;
  /** `skipped`: an existing member in add mode, left as it is. */
  outcome: 'rejected' | 'skipped';
}

/** A row that passed the checks that need no database; `null`: the cell was empty. */
export interface MemberRowInput {
  row: number;
  userid: string;
  name: string;
  mobile: string | null;
  email: string | null;
  position: string | null;
  /** Each path from the root's name down, e.g. `['总部', '销售部']`; the first is the main one. */
  departments: string[][] | null;
}

export type PreparedRow = MemberRowInput | { row: number; issues: RowIssue[] };

export const isRejected = (row: PreparedRow): row is { row: number; issues: RowIssue[] } =>
  'issues' in row;

/** The member API's limit on departments per member (`CreateMemberDto.departments`). */
const MAX_DEPARTMENTS_PER_MEMBER = 100;
const PROFILE_FIELDS = new Set<string>(['userid', 'name', 'mobile', 'email', 'position']);

export const rejection = (
  row: number,
  field: SheetField,
  code: string,
  message: string,
): RowIssue => ({ row, field, code, message, outcome: 'rejected' });

/**
 * Checks every row on its own (the member API's own DTO rules, department path syntax) and
 * against the rest of the file (a userid or mobile used twice: every row after the first is
 * rejected). Deterministic, so a resumed job prepares the same rows again.
 */
export function prepareRows(rows: SheetRow[], maxDepth: number): PreparedRow[] {
  const firstWithUserid = new Map<string, number>();
  const firstWithMobile = new Map<string, number>();
  return rows.map(({ row, cells }) => {
    const issues = profileIssues(row, cells);
    const departments = parseDepartments(row, cells.departments, maxDepth, issues);
    const duplicate = (
      seen: Map<string, number>,
      value: string,
      field: SheetField,
      code: string,
    ) => {
      if (!value) return;
      const first = seen.get(value);
      if (first === undefined) seen.set(value, row);
      else
        issues.push(
          rejection(row, field, code, `${headerOf(field)} ${value} is also on row ${first}.`),
        );
    };
    duplicate(firstWithUserid, cells.userid, 'userid', 'DUPLICATE_USERID_IN_FILE');
    duplicate(firstWithMobile, cells.mobile, 'mobile', 'DUPLICATE_MOBILE_IN_FILE');
    if (issues.length) return { row, issues };
    return {
      row,
      userid: cells.userid,
      name: cells.name,
      mobile: cells.mobile || null,
      email: cells.email || null,
      position: cells.position || null,
      departments,
    };
  });
}

/** The same rules as `POST /v1/members`: its DTO validates the row's profile. */
function profileIssues(row: number, cells: Record<SheetField, string>): RowIssue[] {
  const issues: RowIssue[] = [];
  if (!cells.userid) issues.push(rejection(row, 'userid', 'USERID_REQUIRED', '帐号 is required.'));
  if (!cells.name) issues.push(rejection(row, 'name', 'NAME_REQUIRED', '姓名 is required.'));
  const dto = plainToInstance(CreateMemberDto, {
    userid: cells.userid || undefined,
    name: cells.name || '-',
    mobile: cells.mobile || undefined,
    email: cells.email || undefined,
    position: cells.position || undefined,
    departments: [{ id: ROOT_DEPARTMENT_ID }],
  });
  for (const error of validateSync(dto)) {
    if (!PROFILE_FIELDS.has(error.property)) continue;
    const field = error.property as SheetField;
    issues.push(
      rejection(
        row,
        field,
        `${field.toUpperCase()}_INVALID`,
        Object.values(error.constraints ?? {})[0] ?? `${headerOf(field)} is not valid.`,
      ),
    );
  }
  return issues;
}

function parseDepartments(
  row: number,
  cell: string,
  maxDepth: number,
  issues: RowIssue[],
): string[][] | null {
  const reject = (code: string, message: string) => {
    issues.push(rejection(row, 'departments', code, message));
    return null;
  };
  const listed = cell
    .split(/[;；]/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (listed.length === 0) return null;
  // The same path twice is one membership.
  const paths = [
    ...new Map(
      listed.map((p) => {
        const segments = p.split(PATH_SEPARATOR).map((s) => s.trim());
        return [segments.join(PATH_SEPARATOR), segments] as const;
      }),
    ).values(),
  ];
  if (paths.length > MAX_DEPARTMENTS_PER_MEMBER) {
    return reject(
      'DEPARTMENTS_TOO_MANY',
      `A member belongs to at most ${MAX_DEPARTMENTS_PER_MEMBER} departments (separated by ${DEPARTMENT_SEPARATOR}).`,
    );
  }
  for (const path of paths) {
    const shown = path.join(PATH_SEPARATOR);
    if (path.some((segment) => segment === '')) {
      return reject('DEPARTMENT_PATH_INVALID', `"${shown}" has an empty level.`);
    }
    if (path.length > maxDepth) {
      return reject(
        'DEPARTMENT_TOO_DEEP',
        `"${shown}" is ${path.length} levels deep; the tree allows ${maxDepth} (the root included).`,
      );
    }
    for (const segment of path) {
      try {
        assertValidDepartmentName(segment);
      } catch (error) {
        if (!(error instanceof DomainException)) throw error;
        return reject('DEPARTMENT_NAME_INVALID', `"${segment}": ${error.message}`);
      }
    }
  }
  return paths;
}
