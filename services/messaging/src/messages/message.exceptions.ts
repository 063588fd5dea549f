import { DomainException, ForbiddenException, NotFoundException } from '@qiwei/platform';

export class MessageNotFoundException extends NotFoundException {
  constructor(seq: number) {
    super('MESSAGE_NOT_FOUND', `There is no message ${seq} in this conversation.`);
  }
}

export class MessageTooLargeException extends DomainException {
  constructor(limit: number) {
    super('MESSAGE_TOO_LARGE', 413, `A message's text is at most ${limit} bytes (UTF-8).`);
  }
}

export class GroupMutedException extends ForbiddenException {
  constructor() {
    super('Only the owner and admins may post in this group (全员禁言).', 'GROUP_MUTED');
  }
}

export class MentionInvalidException extends DomainException {
  constructor(detail: string) {
    super('MENTION_INVALID', 422, detail);
  }
}

export class QuoteInvalidException extends DomainException {
  constructor(seq: number, recalled = false) {
    super(
      'QUOTE_INVALID',
      422,
      recalled
        ? `Message ${seq} was recalled: it cannot be quoted.`
        : `Message ${seq} does not exist in this conversation.`,
    );
  }
}

/** The other side of a 1:1 conversation left the corp or is disabled: nothing reaches them. */
export class PeerInactiveException extends DomainException {
  constructor(userids: string[]) {
    super(
      'PEER_INACTIVE',
      422,
      `${userids.join(', ')} left the corp or is disabled: messages to them are not accepted.`,
    );
  }
}

export class ReadBeyondLastException extends DomainException {
  constructor(last: number) {
    super('READ_BEYOND_LAST', 422, `The conversation's newest message is ${last}.`);
  }
}

export class RecallNotAllowedException extends ForbiddenException {
  constructor(detail: string) {
    super(detail, 'RECALL_NOT_ALLOWED');
  }
}

export class MessageAlreadyRecalledException extends DomainException {
  constructor(seq: number) {
    super('MESSAGE_ALREADY_RECALLED', 409, `Message ${seq} was already recalled.`);
  }
}

export class ClientMsgIdReusedException extends DomainException {
  constructor() {
    super(
      'CLIENT_MSG_ID_REUSED',
      409,
      'This clientMsgId was already used for a different message in this conversation.',
    );
  }
}

export class ContactCardInvalidException extends DomainException {
  constructor(userid: string) {
    super('CONTACT_CARD_INVALID', 422, `${userid} is not an active member of the corp.`);
  }
}
