import ExcelJS from 'exceljs';
import {
  ImportFileEncodingException,
  ImportFileHasNoRowsException,
  ImportFileNotSpreadsheetException,
  ImportHeaderInvalidException,
  ImportTooManyRowsException,
} from './imports.exceptions';

/**
 * The member sheet: the columns of the import template and of the export, in this order.
 * `aliases` are other spellings people type (账号 is the newer form of 帐号).
 */
export const MEMBER_SHEET_COLUMNS = [
  { field: 'name', header: '姓名', aliases: [] },
  { field: 'userid', header: '帐号', aliases: ['账号'] },
  { field: 'mobile', header: '手机', aliases: [] },
  { field: 'email', header: '邮箱', aliases: [] },
  { field: 'departments', header: '部门', aliases: [] },
  { field: 'position', header: '职务', aliases: [] },
] as const;

export type SheetField = (typeof MEMBER_SHEET_COLUMNS)[number]['field'];
export const MEMBER_SHEET_HEADERS = MEMBER_SHEET_COLUMNS.map((c) => c.header);
export const headerOf = (field: SheetField): string =>
  MEMBER_SHEET_COLUMNS.find((c) => c.field === field)?.header ?? field;

/** Departments in the 部门 cell are separated by `;` (or the full-width `；`). */
export const DEPARTMENT_SEPARATOR = ';';
/** Levels of a department path: `总部/销售部/华东区`. */
export const PATH_SEPARATOR = '/';

export type SheetFormat = 'csv' | 'xlsx';

/** A data row, numbered as the spreadsheet shows it (the header is row 1). */
export interface SheetRow {
  row: number;
  cells: Record<SheetField, string>;
}

export interface MemberSheet {
  format: SheetFormat;
  rows: SheetRow[];
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]); // the legacy .xls format
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
// Decoded text may hold tabs and line breaks, nothing else below U+0020, and no U+FFFD.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const GARBAGE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/;

/** What the bytes are, from their content (the declared Content-Type is not trusted). */
export function sniffFormat(file: Buffer): SheetFormat {
  if (file.subarray(0, 4).equals(ZIP_MAGIC)) return 'xlsx';
  if (file.subarray(0, 4).equals(OLE_MAGIC)) {
    throw new ImportFileNotSpreadsheetException(
      'this is a legacy .xls workbook; save it as .xlsx or CSV (UTF-8).',
    );
  }
  return 'csv';
}

/**
 * Reads an uploaded member sheet: CSV (UTF-8 with or without BOM, or GB18030/GBK as Excel
 * saves it on Chinese Windows) or XLSX (the first worksheet). The first row must be the
 * template's header; blank rows are skipped; more than `maxRows` data rows is refused.
 */
export async function readMemberSheet(file: Buffer, maxRows: number): Promise<MemberSheet> {
  const { format, records } = await readSheetRecords(file, maxRows);
  const header = records.shift();
  if (!header)
    throw new ImportHeaderInvalidException('the file is empty; the first row must be the header.');
  const columns = headerColumns(header.cells);
  const rows = records.map(({ row, cells }) => ({
    row,
    cells: Object.fromEntries(
      MEMBER_SHEET_COLUMNS.map((c) => [c.field, (cells[columns[c.field]] ?? '').trim()]),
    ) as Record<SheetField, string>,
  }));
  if (rows.length === 0) throw new ImportFileHasNoRowsException();
  return { format, rows };
}

/** A non-blank row of a sheet, numbered as the spreadsheet shows it (from 1). */
export interface SheetRecord {
  row: number;
  cells: string[];
}

/**
 * The non-blank rows of a CSV (UTF-8 with or without BOM, or GB18030/GBK) or XLSX (the first
 * worksheet), the header among them; more than `maxRows` rows besides the header is refused. The
 * one reader of uploaded sheets: member imports and WeCom's batch jobs.
 */
export async function readSheetRecords(
  file: Buffer,
  maxRows: number,
): Promise<{ format: SheetFormat; records: SheetRecord[] }> {
  const format = sniffFormat(file);
  const records = format === 'xlsx' ? await xlsxRecords(file, maxRows) : csvRecords(file, maxRows);
  return { format, records };
}

/** Where each template column is; the header must hold each exactly once and nothing else. */
function headerColumns(header: string[]): Record<SheetField, number> {
  const cells = header.map((h) => h.replace(/^\uFEFF/, '').trim());
  const columns: Partial<Record<SheetField, number>> = {};
  const unknown: string[] = [];
  cells.forEach((cell, index) => {
    if (cell === '') return;
    const column = MEMBER_SHEET_COLUMNS.find(
      (c) => c.header === cell || (c.aliases as readonly string[]).includes(cell),
    );
    if (!column) unknown.push(cell);
    else if (columns[column.field] !== undefined) {
      throw new ImportHeaderInvalidException(`the column ${column.header} appears twice.`);
    } else columns[column.field] = index;
  });
  const missing = MEMBER_SHEET_COLUMNS.filter((c) => columns[c.field] === undefined);
  if (missing.length || unknown.length) {
    throw new ImportHeaderInvalidException(
      [
        missing.length ? `missing ${missing.map((c) => c.header).join(', ')}` : '',
        unknown.length
          ? `unknown ${unknown.map((u) => JSON.stringify(u.slice(0, 32))).join(', ')}`
          : '',
      ]
        .filter(Boolean)
        .join('; ') + `. The first row must be: ${MEMBER_SHEET_HEADERS.join(', ')}.`,
    );
  }
  return columns as Record<SheetField, number>;
}

const isBlank = (cells: string[]) => cells.every((c) => c.trim() === '');

function tooMany(records: SheetRecord[], maxRows: number): void {
  // The header is one of the records.
  if (records.length > maxRows + 1) throw new ImportTooManyRowsException(maxRows);
}

function decodeText(file: Buffer): string {
  if (file.includes(0)) {
    throw new ImportFileNotSpreadsheetException('the file is binary, not CSV or XLSX.');
  }
  const bytes = file.subarray(0, 3).equals(UTF8_BOM) ? file.subarray(3) : file;
  let text: string | undefined;
  for (const encoding of ['utf-8', 'gb18030']) {
    try {
      text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
      break;
    } catch {
      // not this encoding
    }
  }
  if (text === undefined || GARBAGE.test(text)) throw new ImportFileEncodingException();
  return text;
}

/** RFC 4180: comma-separated, `"` quotes (doubled inside), CRLF or LF line ends. */
export function parseCsv(text: string, onRecord: (cells: string[]) => void): void {
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    cells.push(cell);
    onRecord(cells);
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else cell += ch;
    i++;
  }
  if (cell !== '' || cells.length) endRecord();
}

function csvRecords(file: Buffer, maxRows: number): SheetRecord[] {
  const records: SheetRecord[] = [];
  let row = 0;
  parseCsv(decodeText(file), (cells) => {
    row++;
    if (isBlank(cells)) return;
    records.push({ row, cells });
    tooMany(records, maxRows);
  });
  return records;
}

/** A cell as the text a person sees: numbers without exponent, rich text joined, formulas' results. */
export function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? BigInt(value).toString() : String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('text' in value && typeof value.text === 'string') return value.text;
  if ('result' in value) return cellText(value.result);
  return '';
}

/**
 * The first worksheet's non-blank rows. The whole archive is read at once (files are at most
 * IMPORT_MAX_FILE_BYTES): exceljs's streaming WorkbookReader intermittently drops zip entries on
 * Node ≥ 18 (exceljs#3064), which turned valid workbooks into refusals now and then.
 */
async function xlsxRecords(file: Buffer, maxRows: number): Promise<SheetRecord[]> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(file as unknown as ArrayBuffer);
  } catch {
    throw new ImportFileNotSpreadsheetException('the file is not a readable XLSX workbook.');
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new ImportFileNotSpreadsheetException('the workbook has no worksheet.');
  const records: SheetRecord[] = [];
  for (let n = 1; n <= sheet.rowCount; n++) {
    const row = sheet.getRow(n);
    const values = Array.isArray(row.values) ? row.values.slice(1) : [];
    const cells = Array.from(values, (v) => cellText((v ?? null) as ExcelJS.CellValue));
    if (isBlank(cells)) continue;
    records.push({ row: n, cells });
    tooMany(records, maxRows);
  }
  return records;
}
