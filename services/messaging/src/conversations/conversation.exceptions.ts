import { DomainException, ForbiddenException, NotFoundException } from '@qiwei/platform';

export class ConversationNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('CONVERSATION_NOT_FOUND', `There is no conversation ${id} of yours.`);
  }
}

export class MembersUnknownException extends DomainException {
  constructor(userids: string[]) {
    super(
      'MEMBERS_UNKNOWN',
      422,
      `Not active members of the corp: ${userids.join(', ')}. (A member created moments ago may not have reached messaging yet.)`,
    );
  }
}

export class GroupFullException extends DomainException {
  constructor(limit: number) {
    super('GROUP_FULL', 422, `A group has at most ${limit} members.`);
  }
}

export class NotAGroupException extends DomainException {
  constructor() {
    super('NOT_A_GROUP', 422, 'A 1:1 conversation has no members, settings or owner to change.');
  }
}

export class SingleWithSelfException extends DomainException {
  constructor() {
    super('SINGLE_WITH_SELF', 422, 'A 1:1 conversation needs another member.');
  }
}

export class OwnerMustTransferException extends DomainException {
  constructor() {
    super(
      'OWNER_MUST_TRANSFER',
      409,
      'The owner cannot quit: transfer the group to another member first, or disband it.',
    );
  }
}

/** The caller's role in the group does not allow this. */
export class GroupRoleRequiredException extends ForbiddenException {
  constructor(what: string) {
    super(what, 'GROUP_ROLE_REQUIRED');
  }
}
