import { DomainException } from '@qiwei/platform';
import { assertValidDepartmentName } from '../departments/department-name';
import { MAX_DEPARTMENTS_PER_MEMBER, memberFieldProblem } from '../members/member-fields';
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

export const rejection = (
  row: number,
  field: SheetField,
  code: string,
  message: string,
): RowIssue => ({ row, field, code, message, outcome: 'rejected' });

/**
 * Rows that repeat a userid or a mobile of an earlier row in the file (every one after the
 * first is rejected), by row. A whole-file pass; deterministic, so a resumed job finds the same.
 */
export function fileDuplicates(rows: SheetRow[]): Map<number, RowIssue[]> {
  const duplicates = new Map<number, RowIssue[]>();
  for (const [field, code] of [
    ['userid', 'DUPLICATE_USERID_IN_FILE'],
    ['mobile', 'DUPLICATE_MOBILE_IN_FILE'],
  ] as const) {
    const first = new Map<string, number>();
    for (const { row, cells } of rows) {
      const value = cells[field];
      if (!value) continue;
      const earlier = first.get(value);
      if (earlier === undefined) {
        first.set(value, row);
        continue;
      }
      const issue = rejection(
        row,
        field,
        code,
        `${headerOf(field)} ${value} is also on row ${earlier}.`,
      );
      duplicates.set(row, [...(duplicates.get(row) ?? []), issue]);
    }
  }
  return duplicates;
}

/**
 * Checks rows on their own — the member API's rules for each profile field, the syntax of the
 * department paths — and adds the file's duplicates; what needs the database comes later.
 */
export function prepareRows(
  rows: SheetRow[],
  duplicates: Map<number, RowIssue[]>,
  maxDepth: number,
): PreparedRow[] {
  return rows.map(({ row, cells }) => {
    const issues = profileIssues(row, cells);
    const departments = parseDepartments(row, cells.departments, maxDepth, issues);
    issues.push(...(duplicates.get(row) ?? []));
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

const PROFILE_FIELDS = ['userid', 'name', 'mobile', 'email', 'position'] as const;

/** The same rules as `POST /v1/members` (its DTO's checks); 姓名 and 帐号 are required here. */
function profileIssues(row: number, cells: Record<SheetField, string>): RowIssue[] {
  const issues: RowIssue[] = [];
  for (const field of PROFILE_FIELDS) {
    const value = cells[field];
    if (!value) {
      if (field === 'userid' || field === 'name') {
        issues.push(
          rejection(
            row,
            field,
            `${field.toUpperCase()}_REQUIRED`,
            `${headerOf(field)} is required.`,
          ),
        );
      }
      continue;
    }
    const problem = memberFieldProblem(field, value);
    if (problem) issues.push(rejection(row, field, `${field.toUpperCase()}_INVALID`, problem));
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
