import { DomainException, NotFoundException } from '@qiwei/platform';

export class TagNotFoundException extends NotFoundException {
  constructor(id: number) {
    super('TAG_NOT_FOUND', `Tag ${id} does not exist.`);
  }
}

export class TagNameTakenException extends DomainException {
  constructor(name: string) {
    super('TAG_NAME_TAKEN', 409, `A tag named "${name}" already exists in this corp.`);
  }
}

export class TagIdTakenException extends DomainException {
  constructor(id: number) {
    super('TAG_ID_TAKEN', 409, `Tag id ${id} is already used in this corp.`);
  }
}

/** All or nothing: unknown members or departments change nothing and are listed. */
export class TagTargetsNotFoundException extends DomainException {
  constructor(userids: string[], departmentIds: number[]) {
    super(
      'TAG_TARGETS_NOT_FOUND',
      422,
      'Some members or departments do not exist; nothing was changed.',
      [
        ...userids.map((u) => ({ field: 'userids', code: 'MEMBER_NOT_FOUND', message: u })),
        ...departmentIds.map((d) => ({
          field: 'departmentIds',
          code: 'DEPARTMENT_NOT_FOUND',
          message: String(d),
        })),
      ],
    );
  }
}
