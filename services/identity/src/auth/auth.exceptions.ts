import { DomainException, UnauthorizedException } from '@qiwei/platform';

/** One answer for unknown member, wrong password, no password and inactive member. */
export class SignInFailedException extends UnauthorizedException {
  constructor() {
    super('The corp id, userid or password is not right.', 'SIGN_IN_FAILED');
  }
}

export class AccountLockedException extends DomainException {
  constructor(until: Date) {
    super('ACCOUNT_LOCKED', 423, `Too many failed sign-ins: locked until ${until.toISOString()}.`);
  }
}

export class RefreshTokenInvalidException extends UnauthorizedException {
  constructor(
    code: 'REFRESH_TOKEN_INVALID' | 'REFRESH_TOKEN_EXPIRED' | 'REFRESH_TOKEN_REUSED',
    message: string,
  ) {
    super(message, code);
  }
}

export class WeakPasswordException extends DomainException {
  constructor(reason: string) {
    super('PASSWORD_TOO_WEAK', 400, reason, [
      { field: 'password', code: 'PASSWORD_TOO_WEAK', message: reason },
    ]);
  }
}
