import { DomainException, ForbiddenException, NotFoundException } from '@qiwei/platform';

export class AppTokenRequiredException extends ForbiddenException {
  constructor() {
    super(
      'Only an app (its access token from its secret) sends app messages.',
      'APP_TOKEN_REQUIRED',
    );
  }
}

/** Every user, department and tag named was unknown or outside the app's range (WeCom 81013). */
export class NoRecipientsException extends DomainException {
  constructor(invalid: { invaliduser: string[]; invalidparty: number[]; invalidtag: number[] }) {
    super(
      'APP_MESSAGE_NO_RECIPIENTS',
      422,
      `Nobody to send to: invalid users [${invalid.invaliduser.join('|')}], departments [${invalid.invalidparty.join('|')}], tags [${invalid.invalidtag.join('|')}].`,
    );
  }
}

/** Every recipient already had all the app may send them this minute or hour. */
export class AppMessageRateLimitedException extends DomainException {
  constructor(perMinute: number, perHour: number) {
    super(
      'APP_MESSAGE_RATE_LIMITED',
      429,
      `An app sends each member at most ${perMinute} messages a minute and ${perHour} an hour; every recipient is at the limit.`,
    );
  }
}

/** No app message of this corp has this msgid. */
export class AppMessageNotFoundException extends NotFoundException {
  constructor(msgid: string) {
    super('APP_MESSAGE_NOT_FOUND', `There is no app message ${msgid}.`);
  }
}

/** Only the app that sent a message recalls it (WeCom 301002). */
export class AppMessageOfAnotherAppException extends ForbiddenException {
  constructor(msgid: string) {
    super(`App message ${msgid} was sent by another app.`, 'APP_MESSAGE_OF_ANOTHER_APP');
  }
}

export class AppMessageAlreadyRecalledException extends DomainException {
  constructor(msgid: string) {
    super('APP_MESSAGE_ALREADY_RECALLED', 409, `App message ${msgid} was already recalled.`);
  }
}

export class AppMessageRecallExpiredException extends DomainException {
  constructor(minutes: number) {
    super(
      'APP_MESSAGE_RECALL_EXPIRED',
      422,
      `An app message can be recalled within ${minutes} minutes of sending.`,
    );
  }
}
