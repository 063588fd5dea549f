import { DomainException } from '@qiwei/platform';
import { assertValidDepartmentName } from '../departments/department-name';
import type { SheetRecord } from '../imports/member-sheet';
import { MAX_DEPARTMENTS_PER_MEMBER, memberFieldProblem } from '../members/member-fields';
import type { Gender } from '../members/member.entity';
import { rowError, type RowErrorCode, type RowOutcome } from './batch-errors';
import { BatchFileInvalidException } from './batch.exceptions';

/**
 * WeCom's CSV templates for the batch jobs. A column is found by any of its headers (the
 * template's, and the other spellings WeCom's templates have used); columns Qiwei does not model
 * (别名, 地址, 座机, extension attributes…) are ignored; a missing required column fails the job.
 */
interface Column<F extends string> {
  field: F;
  headers: readonly string[];
  required?: boolean;
}

export const USER_COLUMNS = [
  { field: 'name', headers: ['姓名'], required: true },
  { field: 'userid', headers: ['帐号', '账号', 'UserID', 'userid'], required: true },
  { field: 'mobile', headers: ['手机号', '手机'] },
  { field: 'email', headers: ['邮箱'] },
  { field: 'departments', headers: ['所在部门', '部门'] },
  { field: 'position', headers: ['职位', '职务'] },
  { field: 'gender', headers: ['性别'] },
  { field: 'leader', headers: ['是否部门内领导', '是否部门负责人', '是否领导'] },
  { field: 'order', headers: ['排序'] },
  { field: 'disabled', headers: ['禁用'] },
] as const satisfies readonly Column<string>[];

export const PARTY_COLUMNS = [
  { field: 'name', headers: ['部门名称'], required: true },
  { field: 'id', headers: ['部门ID', '部门id', '部门Id'], required: true },
  { field: 'parentId', headers: ['父部门ID', '父部门id', '父部门Id'], required: true },
  { field: 'order', headers: ['排序'] },
] as const satisfies readonly Column<string>[];

export type UserField = (typeof USER_COLUMNS)[number]['field'];
export type PartyField = (typeof PARTY_COLUMNS)[number]['field'];

/** The templates' first rows, as the README documents them. */
export const USER_TEMPLATE_HEADER = USER_COLUMNS.map((c) => c.headers[0]);
export const PARTY_TEMPLATE_HEADER = PARTY_COLUMNS.map((c) => c.headers[0]);

export interface BatchSheet<F extends string> {
  /** Data rows; a field is absent when the file has no such column. */
  rows: { row: number; cells: Partial<Record<F, string>> }[];
  /** Header cells of columns the job does not read. */
  ignored: string[];
}

/** Maps the header row onto the template's columns and reads every data row by them. */
export function batchSheet<F extends string>(
  records: SheetRecord[],
  columns: readonly Column<F>[],
): BatchSheet<F> {
  const [header, ...data] = records;
  if (!header)
    throw new BatchFileInvalidException('the file is empty; its first row is the header.');
  const at = new Map<F, number>();
  const ignored: string[] = [];
  header.cells.forEach((raw, index) => {
    const cell = raw.replace(/^\uFEFF/, '').trim();
    if (cell === '') return;
    const column = columns.find((c) => c.headers.includes(cell));
    if (!column) ignored.push(cell.slice(0, 64));
    else if (at.has(column.field))
      throw new BatchFileInvalidException(`the column ${column.headers[0]} appears twice.`);
    else at.set(column.field, index);
  });
  const missing = columns.filter((c) => c.required && !at.has(c.field));
  if (missing.length) {
    throw new BatchFileInvalidException(
      `missing the required column(s) ${missing.map((c) => c.headers[0]).join(', ')}; the template's first row is ${columns.map((c) => c.headers[0]).join(',')}.`,
    );
  }
  if (data.length === 0) throw new BatchFileInvalidException('the file has a header but no rows.');
  return {
    rows: data.map(({ row, cells }) => ({
      row,
      cells: Object.fromEntries(
        [...at].map(([field, index]) => [field, (cells[index] ?? '').trim()]),
      ) as Partial<Record<F, string>>,
    })),
    ignored,
  };
}

/**
 * sync_user: an empty cell keeps the member's value. replace_user: the file is the truth for every
 * column it has, so an empty cell clears the value (or sets the default: the root department,
 * not a leader, order 0, enabled). A column the file does not have is left alone in both.
 */
export type UserJobMode = 'sync' | 'replace';

/** A department in 所在部门: an id (WeCom's template), or a path from the root's name. */
export type DepartmentRef = { id: number } | { path: string[] };

/** `undefined`: keep (or the default for a new member); `null`: clear. */
export interface UserRowInput {
  row: number;
  userid: string;
  name: string;
  mobile: string | null | undefined;
  email: string | null | undefined;
  position: string | null | undefined;
  gender: Gender | null | undefined;
  departments: DepartmentRef[] | null | undefined;
  leader: boolean[] | null | undefined;
  order: number[] | null | undefined;
  disabled: boolean | null | undefined;
}

export interface RejectedRow {
  row: number;
  /** The row's 帐号 as written (for the result), or '' */
  userid: string;
  outcome: RowOutcome;
}

export const isRejected = <T extends object>(row: T | RejectedRow): row is RejectedRow =>
  'outcome' in row;

const INT32_MAX = 2_147_483_647;
const LIST = /[;；]/;
const TRUE = new Set(['1', '是', 'true', 'TRUE', 'True', 'Y', 'y', 'yes']);
const FALSE = new Set(['0', '否', 'false', 'FALSE', 'False', 'N', 'n', 'no', '']);
const GENDERS: Record<string, Gender> = {
  男: 'male',
  '1': 'male',
  male: 'male',
  女: 'female',
  '2': 'female',
  female: 'female',
  '0': 'unknown',
  未知: 'unknown',
  unknown: 'unknown',
};

class RowProblem extends Error {
  constructor(
    readonly code: RowErrorCode,
    detail: string,
  ) {
    super(detail);
  }
}

const problem = (code: RowErrorCode, detail: string): never => {
  throw new RowProblem(code, detail);
};

/** Rows after the first with the same value in `field`, by row (deterministic: resumable). */
function duplicatesOf<F extends string>(
  sheet: BatchSheet<F>,
  field: F,
  code: RowErrorCode,
  shown: string,
): Map<number, RowOutcome> {
  const first = new Map<string, number>();
  const duplicates = new Map<number, RowOutcome>();
  for (const { row, cells } of sheet.rows) {
    const value = cells[field];
    if (!value) continue;
    const earlier = first.get(value);
    if (earlier === undefined) first.set(value, row);
    else duplicates.set(row, rowError(code, `${shown} ${value} is also on row ${earlier}.`));
  }
  return duplicates;
}

/** Every userid the file names (valid or not): replace_user removes the members it does not. */
export function fileUserids(sheet: BatchSheet<UserField>): Set<string> {
  return new Set(sheet.rows.map((r) => r.cells.userid ?? '').filter(Boolean));
}

/** The checks that need no database, in column order; a row gets its first problem. */
export function prepareUserRows(
  sheet: BatchSheet<UserField>,
  mode: UserJobMode,
  maxDepth: number,
): (UserRowInput | RejectedRow)[] {
  const duplicateUserids = duplicatesOf(sheet, 'userid', 'DUPLICATE_USERID_IN_FILE', 'userid');
  const duplicateMobiles = duplicatesOf(sheet, 'mobile', 'DUPLICATE_MOBILE_IN_FILE', 'mobile');
  return sheet.rows.map(({ row, cells }) => {
    const userid = cells.userid ?? '';
    try {
      const input = userRow(row, cells, mode, maxDepth);
      const duplicate = duplicateUserids.get(row) ?? duplicateMobiles.get(row);
      return duplicate ? { row, userid, outcome: duplicate } : input;
    } catch (error) {
      if (!(error instanceof RowProblem)) throw error;
      return { row, userid: userid.slice(0, 64), outcome: rowError(error.code, error.message) };
    }
  });
}

function userRow(
  row: number,
  cells: Partial<Record<UserField, string>>,
  mode: UserJobMode,
  maxDepth: number,
): UserRowInput {
  /** The cell's text; undefined: keep; null: clear (replace_user's empty cell). */
  const cell = (field: UserField): string | null | undefined => {
    const value = cells[field];
    if (value === undefined) return undefined;
    if (value === '') return mode === 'replace' ? null : undefined;
    return value;
  };
  const userid = cells.userid ?? '';
  if (!userid) problem('USERID_MISSING', '帐号 is empty.');
  if (memberFieldProblem('userid', userid))
    problem('USERID_INVALID', `帐号 ${userid.slice(0, 80)}: 1–64 of A–Z a–z 0–9 _ @ . -.`);
  const name = cells.name ?? '';
  const nameProblem = name ? memberFieldProblem('name', name) : '姓名 is empty.';
  if (nameProblem) problem('NAME_INVALID', nameProblem);
  const checked = (field: 'mobile' | 'email' | 'position', code: RowErrorCode) => {
    const value = cell(field);
    if (typeof value === 'string') {
      const why = memberFieldProblem(field, value);
      if (why) problem(code, why);
    }
    return value;
  };
  const mobile = checked('mobile', 'MOBILE_INVALID');
  const email = checked('email', 'EMAIL_INVALID');
  const position = checked('position', 'POSITION_INVALID');
  const genderCell = cell('gender');
  let gender: Gender | null | undefined = genderCell === null ? null : undefined;
  if (typeof genderCell === 'string') {
    gender = GENDERS[genderCell];
    if (!gender)
      problem(
        'GENDER_INVALID',
        `性别 must be 男 or 女 (or 1, 2), not "${genderCell.slice(0, 16)}".`,
      );
  }
  const departments = parseDepartments(cell('departments'), maxDepth);
  const count = departments?.length ?? 0;
  const leader = parseList(cell('leader'), count, '是否部门内领导', (item) => {
    if (TRUE.has(item)) return true;
    if (FALSE.has(item)) return false;
    return problem(
      'LEADER_INVALID',
      `是否部门内领导 takes 1 or 0 per department, not "${item.slice(0, 16)}".`,
    );
  });
  const order = parseList(cell('order'), count, '排序', (item) => {
    const n = /^\d{1,10}$/.test(item) ? Number(item) : item === '' ? 0 : NaN;
    if (!Number.isInteger(n) || n > INT32_MAX)
      problem(
        'ORDER_INVALID',
        `排序 takes a number from 0 to ${INT32_MAX} per department, not "${item.slice(0, 16)}".`,
      );
    return n;
  });
  const disabledCell = cell('disabled');
  let disabled: boolean | null | undefined = disabledCell === null ? null : undefined;
  if (typeof disabledCell === 'string') {
    if (TRUE.has(disabledCell)) disabled = true;
    else if (FALSE.has(disabledCell)) disabled = false;
    else
      problem(
        'DISABLED_INVALID',
        `禁用 is 1 (disabled) or 0 (enabled), not "${disabledCell.slice(0, 16)}".`,
      );
  }
  return {
    row,
    userid,
    name,
    mobile,
    email,
    position,
    gender,
    departments,
    leader,
    order,
    disabled,
  };
}

/** 是否部门内领导 and 排序: one value per department of 所在部门, separated by `;`. */
function parseList<T>(
  value: string | null | undefined,
  departments: number,
  shown: string,
  parse: (item: string) => T,
): T[] | null | undefined {
  if (typeof value !== 'string') return value;
  const items = value.split(LIST).map((item) => item.trim());
  if (items.length !== departments) {
    problem(
      shown === '排序' ? 'ORDER_INVALID' : 'LEADER_INVALID',
      `${shown} has ${items.length} value(s) for ${departments} department(s) in 所在部门.`,
    );
  }
  return items.map(parse);
}

function parseDepartments(
  value: string | null | undefined,
  maxDepth: number,
): DepartmentRef[] | null | undefined {
  if (typeof value !== 'string') return value;
  const items = value
    .split(LIST)
    .map((item) => item.trim())
    .filter(Boolean);
  const refs: DepartmentRef[] = [];
  for (const item of items) {
    let ref: DepartmentRef;
    if (/^\d+$/.test(item)) {
      const id = item.length <= 10 ? Number(item) : NaN;
      if (!(id >= 1 && id <= INT32_MAX))
        problem('DEPARTMENT_NOT_FOUND', `"${item.slice(0, 16)}" is not a department id.`);
      ref = { id };
    } else {
      const path = item.split('/').map((segment) => segment.trim());
      if (path.some((segment) => segment === ''))
        problem('DEPARTMENT_PATH_INVALID', `"${item.slice(0, 80)}" has an empty level.`);
      if (path.length > maxDepth)
        problem(
          'DEPARTMENT_TOO_DEEP',
          `"${item.slice(0, 80)}" is ${path.length} levels deep; the tree allows ${maxDepth}.`,
        );
      for (const segment of path) {
        try {
          assertValidDepartmentName(segment);
        } catch (error) {
          if (!(error instanceof DomainException)) throw error;
          problem('DEPARTMENT_NAME_INVALID', `"${segment.slice(0, 80)}": ${error.message}`);
        }
      }
      ref = { path };
    }
    // A department named twice stays twice here, so 是否部门内领导 and 排序 keep their places;
    // the first mention counts.
    refs.push(ref);
  }
  if (refs.length > MAX_DEPARTMENTS_PER_MEMBER)
    problem(
      'DEPARTMENTS_TOO_MANY',
      `A member belongs to at most ${MAX_DEPARTMENTS_PER_MEMBER} departments.`,
    );
  // An empty cell in sync_user keeps the member's departments; in replace_user it clears them.
  return refs.length ? refs : undefined;
}

/** A row of the department template; `order` null: keep the department's (WeCom: empty or 0). */
export interface PartyRowInput {
  row: number;
  id: number;
  parentId: number;
  name: string;
  order: number | null;
}

export interface RejectedPartyRow {
  row: number;
  partyid: number | null;
  outcome: RowOutcome;
}

export function preparePartyRows(
  sheet: BatchSheet<PartyField>,
): (PartyRowInput | RejectedPartyRow)[] {
  const duplicates = duplicatesOf(sheet, 'id', 'DUPLICATE_PARTY_ID_IN_FILE', '部门ID');
  return sheet.rows.map(({ row, cells }) => {
    const idText = cells.id ?? '';
    const id =
      /^\d{1,10}$/.test(idText) && Number(idText) >= 1 && Number(idText) <= INT32_MAX
        ? Number(idText)
        : null;
    try {
      if (id === null)
        problem(
          'PARTY_ID_INVALID',
          `部门ID "${idText.slice(0, 16)}" is not a number from 1 to ${INT32_MAX}.`,
        );
      const name = cells.name ?? '';
      if (!name) problem('DEPARTMENT_NAME_LENGTH', '部门名称 is empty.');
      try {
        assertValidDepartmentName(name);
      } catch (error) {
        if (!(error instanceof DomainException)) throw error;
        problem(
          [...name].length > 64 ? 'DEPARTMENT_NAME_LENGTH' : 'DEPARTMENT_NAME_INVALID',
          error.message,
        );
      }
      const parentText = cells.parentId ?? '';
      const parentId =
        /^\d{1,10}$/.test(parentText) && Number(parentText) <= INT32_MAX
          ? Number(parentText)
          : null;
      if (parentId === null)
        problem('PARENT_INVALID', `父部门ID "${parentText.slice(0, 16)}" is not a department id.`);
      if (id === 1 && parentId !== 0)
        problem('ROOT_IMMUTABLE', 'The root department (1) has 父部门ID 0 and cannot move.');
      if (id !== 1 && parentId === 0)
        problem('PARENT_INVALID', 'Only the root department (1) has 父部门ID 0.');
      if (id === parentId) problem('DEPARTMENT_CYCLE', 'A department cannot be its own parent.');
      const orderText = cells.order ?? '';
      const order = orderText === '' ? 0 : /^\d{1,10}$/.test(orderText) ? Number(orderText) : NaN;
      if (!Number.isInteger(order) || order > INT32_MAX)
        problem(
          'ORDER_INVALID',
          `排序 "${orderText.slice(0, 16)}" is not a number from 0 to ${INT32_MAX}.`,
        );
      const duplicate = duplicates.get(row);
      if (duplicate) return { row, partyid: id, outcome: duplicate };
      return {
        row,
        id: id as number,
        parentId: parentId as number,
        name,
        order: order === 0 ? null : order,
      };
    } catch (error) {
      if (!(error instanceof RowProblem)) throw error;
      return { row, partyid: id, outcome: rowError(error.code, error.message) };
    }
  });
}
