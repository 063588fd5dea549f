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

export class SignInChallengeInvalidException extends UnauthorizedException {
  constructor(code: 'SIGN_IN_CHALLENGE_INVALID' | 'SIGN_IN_CHALLENGE_EXPIRED') {
    super(
      code === 'SIGN_IN_CHALLENGE_EXPIRED'
        ? 'The sign-in challenge has expired; sign in again.'
        : 'The sign-in challenge is not valid (unknown or already used); sign in again.',
      code,
    );
  }
}

export class SecondFactorFailedException extends UnauthorizedException {
  constructor() {
    super('The code or recovery code is not right (or was already used).', 'SECOND_FACTOR_FAILED');
  }
}

export class PasswordIncorrectException extends DomainException {
  constructor() {
    super('PASSWORD_INCORRECT', 403, 'The current password is not right.', [
      { field: 'currentPassword', code: 'PASSWORD_INCORRECT', message: 'not right' },
    ]);
  }
}
