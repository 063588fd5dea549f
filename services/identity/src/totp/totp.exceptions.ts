import { DomainException, NotFoundException } from '@qiwei/platform';

export class TotpCodeInvalidException extends DomainException {
  constructor() {
    super('TOTP_CODE_INVALID', 403, 'The code is not right (or was already used).');
  }
}

export class TotpAlreadyActiveException extends DomainException {
  constructor() {
    super('TOTP_ALREADY_ACTIVE', 409, 'TOTP is already on; disable it before enrolling again.');
  }
}

export class TotpNotEnrolledException extends NotFoundException {
  constructor(state: 'enrolment' | 'active TOTP') {
    super('TOTP_NOT_ENROLLED', `There is no ${state} for this member.`);
  }
}

export class TotpRequiredByPolicyException extends DomainException {
  constructor(message: string) {
    super('TOTP_REQUIRED_BY_POLICY', 409, message);
  }
}
