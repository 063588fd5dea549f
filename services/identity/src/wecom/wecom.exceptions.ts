import { DomainException, UnauthorizedException } from '@qiwei/platform';

/** A /cgi-bin call without `?access_token=` (WeCom errcode 41001). */
export class AccessTokenMissingException extends UnauthorizedException {
  constructor() {
    super('Pass the app’s token as ?access_token=.', 'ACCESS_TOKEN_MISSING');
  }
}

/** /cgi-bin takes an app’s token (from gettoken), never a member’s (WeCom errcode 40014). */
export class AppTokenRequiredException extends UnauthorizedException {
  constructor() {
    super(
      'This is not an app’s access token: get one with /cgi-bin/gettoken.',
      'APP_TOKEN_REQUIRED',
    );
  }
}

/** Every member and department named is unknown or outside the app’s range (WeCom errcode 40070). */
export class TagTargetsAllInvalidException extends DomainException {
  constructor() {
    super(
      'TAG_TARGETS_ALL_INVALID',
      422,
      'None of the members or departments exist or are visible to this app; nothing was changed.',
    );
  }
}
