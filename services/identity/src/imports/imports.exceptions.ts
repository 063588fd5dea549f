import { DomainException, NotFoundException } from '@qiwei/platform';

// Refusals of an uploaded file: no job is created.

export class ImportFileTypeUnsupportedException extends DomainException {
  constructor() {
    super(
      'IMPORT_FILE_TYPE_UNSUPPORTED',
      415,
      'Send the file itself as the body, with Content-Type text/csv or ' +
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.',
    );
  }
}

export class ImportFileNotSpreadsheetException extends DomainException {
  constructor(reason: string) {
    super('IMPORT_FILE_NOT_SPREADSHEET', 422, `Not a CSV or XLSX member sheet: ${reason}`);
  }
}

export class ImportFileEncodingException extends DomainException {
  constructor() {
    super(
      'IMPORT_FILE_ENCODING_INVALID',
      422,
      'The CSV is neither UTF-8 nor GB18030/GBK text (or holds control characters); save it as "CSV UTF-8".',
    );
  }
}

export class ImportHeaderInvalidException extends DomainException {
  constructor(reason: string) {
    super('IMPORT_HEADER_INVALID', 422, `The header row is not the template's: ${reason}`);
  }
}

export class ImportFileHasNoRowsException extends DomainException {
  constructor() {
    super('IMPORT_FILE_HAS_NO_ROWS', 422, 'The file has a header but no member rows.');
  }
}

export class ImportTooManyRowsException extends DomainException {
  constructor(limit: number) {
    super(
      'IMPORT_TOO_MANY_ROWS',
      422,
      `One import holds at most ${limit} member rows; split the file.`,
    );
  }
}

export class MemberImportNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('MEMBER_IMPORT_NOT_FOUND', `Member import ${id} does not exist.`);
  }
}
