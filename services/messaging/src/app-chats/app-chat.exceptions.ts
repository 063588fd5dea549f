import { DomainException, ForbiddenException, NotFoundException } from '@qiwei/platform';

/** No app chat of this corp has this chatid, or its group was disbanded (WeCom 86003). */
export class AppChatNotFoundException extends NotFoundException {
  constructor(chatid: string) {
    super('APP_CHAT_NOT_FOUND', `There is no app chat ${chatid}.`);
  }
}

/** An app manages and posts only into the chats it created (WeCom 86008). */
export class AppChatOfAnotherAppException extends ForbiddenException {
  constructor(chatid: string) {
    super(`App chat ${chatid} was created by another app.`, 'APP_CHAT_OF_ANOTHER_APP');
  }
}

/** WeCom 86215. */
export class AppChatIdTakenException extends DomainException {
  constructor(chatid: string) {
    super('APP_CHAT_ID_TAKEN', 409, `The chatid ${chatid} is taken in this corp.`);
  }
}

/** WeCom 86006. */
export class AppChatSizeInvalidException extends DomainException {
  constructor(count: number, limit: number) {
    super(
      'APP_CHAT_SIZE_INVALID',
      422,
      `An app chat has 2 to ${limit} members; this one would have ${count}.`,
    );
  }
}

/** WeCom 86005. */
export class AppChatOwnerInvalidException extends DomainException {
  constructor(detail: string) {
    super('APP_CHAT_OWNER_INVALID', 422, detail);
  }
}

/** Userids that are no active member of the corp (WeCom 86216). */
export class AppChatMembersInvalidException extends DomainException {
  constructor(userids: string[]) {
    super(
      'APP_CHAT_MEMBERS_INVALID',
      422,
      `Not active members of the corp: ${userids.join(', ')}.`,
    );
  }
}

/** Members outside the app's visibility range (WeCom 60011). */
export class AppChatMembersOutOfRangeException extends ForbiddenException {
  constructor(userids: string[]) {
    super(
      `Outside the app’s visibility range: ${userids.join(', ')}.`,
      'APP_CHAT_MEMBERS_OUT_OF_RANGE',
    );
  }
}

/**
 * Posting would take members of the chat over what they may receive from the app (WeCom 45009).
 * A group message reaches everyone in it, so it is refused whole, never dropped for some.
 */
export class AppChatRateLimitedException extends DomainException {
  constructor(userids: string[], perMinute: number, perDay: number) {
    const named = userids.slice(0, 20).join(', ') + (userids.length > 20 ? ', …' : '');
    super(
      'APP_CHAT_RATE_LIMITED',
      429,
      `A member receives at most ${perMinute} messages a minute and ${perDay} a day from an app in its chats; at the limit: ${named}. Nothing was posted.`,
    );
  }
}

/** The same userid both added and removed (WeCom 86007). */
export class AppChatMembersConflictException extends DomainException {
  constructor(userids: string[]) {
    super(
      'APP_CHAT_MEMBERS_CONFLICT',
      422,
      `Both in add_user_list and del_user_list: ${userids.join(', ')}.`,
    );
  }
}
