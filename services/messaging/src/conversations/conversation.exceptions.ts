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

/** A department group is created only for a subtree that fits the member limit. */
export class DepartmentGroupTooLargeException extends DomainException {
  constructor(departmentId: number, members: number, limit: number) {
    super(
      'DEPARTMENT_GROUP_TOO_LARGE',
      422,
      `Department ${departmentId} and the departments below it have ${members} active members; a department group has at most ${limit} (GROUP_MEMBER_LIMIT).`,
    );
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

/** The operation belongs to another kind of group (e.g. external contacts outside an external group). */
export class GroupKindNotAllowedException extends DomainException {
  constructor(detail: string) {
    super('GROUP_KIND_NOT_ALLOWED', 422, detail);
  }
}

export class DepartmentGroupManagedException extends DomainException {
  constructor() {
    super(
      'DEPARTMENT_GROUP_MANAGED',
      422,
      'A department group’s members follow its department: nobody is added, removed, quits or is limited by hand.',
    );
  }
}

export class MemberLimitInvalidException extends DomainException {
  constructor(detail: string) {
    super('MEMBER_LIMIT_INVALID', 422, detail);
  }
}

export class ExternalContactsUnknownException extends DomainException {
  constructor(externalUserids: string[]) {
    super(
      'EXTERNAL_CONTACTS_UNKNOWN',
      422,
      `Not external contacts of this group: ${externalUserids.join(', ')}.`,
    );
  }
}

export class DepartmentUnknownException extends DomainException {
  constructor(id: number) {
    super(
      'DEPARTMENT_UNKNOWN',
      422,
      `There is no department ${id}. (A department created moments ago may not have reached messaging yet.)`,
    );
  }
}

export class DepartmentGroupExistsException extends DomainException {
  constructor(id: number, conversationId: string) {
    super(
      'DEPARTMENT_GROUP_EXISTS',
      409,
      `Department ${id} already has its department group (${conversationId}).`,
    );
  }
}

export class DepartmentGroupNotAllowedException extends ForbiddenException {
  constructor() {
    super(
      'Department groups are created by super admins, department admins whose scope covers the department, and leaders of the department or a department above it.',
      'DEPARTMENT_GROUP_NOT_ALLOWED',
    );
  }
}

export class OwnerNotInDepartmentException extends DomainException {
  constructor(userid: string, departmentId: number) {
    super(
      'OWNER_NOT_IN_DEPARTMENT',
      422,
      `${userid} is not an active member of department ${departmentId} or a department below it; a department group's owner must be (name another with \`owner\`).`,
    );
  }
}
