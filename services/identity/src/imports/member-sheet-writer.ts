import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { MEMBER_SHEET_COLUMNS, MEMBER_SHEET_HEADERS } from './member-sheet';

export const XLSX_CONTENT_TYPE =
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A streaming member sheet: the template's header, then one row per member, into `out`. */
export function memberSheetWriter(out: Writable, notes?: string[][]) {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: false,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet('成员');
  sheet.columns = MEMBER_SHEET_COLUMNS.map((c) => ({
    key: c.field,
    width: c.field === 'departments' ? 40 : 16,
  }));
  sheet.addRow(MEMBER_SHEET_HEADERS).commit();
  return {
    add(cells: string[]): void {
      sheet.addRow(cells).commit();
    },
    async close(): Promise<void> {
      sheet.commit();
      if (notes) {
        const help = workbook.addWorksheet('填写说明');
        for (const line of notes) help.addRow(line).commit();
        help.commit();
      }
      await workbook.commit();
    },
  };
}

/** The CSV template: the header row only, with a BOM so spreadsheet software reads UTF-8. */
export const csvTemplate = (): string => `\uFEFF${MEMBER_SHEET_HEADERS.join(',')}\r\n`;
