import { DomainException, NotFoundException, UnauthorizedException } from '@qiwei/platform';

export class AppNotFoundException extends NotFoundException {
  constructor(agentId: number) {
    super('APP_NOT_FOUND', `There is no app ${agentId} in this corp.`);
  }
}

export class AppNameTakenException extends DomainException {
  constructor(name: string) {
    super('APP_NAME_TAKEN', 409, `The corp already has an app named “${name}”.`);
  }
}

export class AppRangeInvalidException extends DomainException {
  constructor(unknown: { departmentIds: number[]; userids: string[]; tagIds: number[] }) {
    const parts = [
      unknown.departmentIds.length ? `departments ${unknown.departmentIds.join(', ')}` : '',
      unknown.userids.length ? `members ${unknown.userids.join(', ')}` : '',
      unknown.tagIds.length ? `tags ${unknown.tagIds.join(', ')}` : '',
    ].filter(Boolean);
    super('APP_RANGE_INVALID', 422, `The visibility range names unknown ${parts.join('; ')}.`);
  }
}

/** The corp id of a token exchange does not exist (WeCom errcode 40013). */
export class AppCorpInvalidException extends UnauthorizedException {
  constructor() {
    super('The corp id is not valid.', 'CORP_ID_INVALID');
  }
}

/** No app of the corp has this secret (WeCom errcode 40001). */
export class AppSecretInvalidException extends UnauthorizedException {
  constructor() {
    super('The app secret is not valid.', 'APP_SECRET_INVALID');
  }
}
