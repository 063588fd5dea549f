import { DomainException, NotFoundException } from '@qiwei/platform';

export class ExportNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('EXPORT_NOT_FOUND', `You have no export ${id}.`);
  }
}

export class ExportNotReadyException extends DomainException {
  constructor(status: string) {
    super('EXPORT_NOT_READY', 409, `The export is ${status}; it can be downloaded once completed.`);
  }
}
