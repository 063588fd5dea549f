import { DomainException, NotFoundException } from '@qiwei/platform';

export class MemberNotFoundException extends NotFoundException {
  constructor(userid: string) {
    super('MEMBER_NOT_FOUND', `Member ${userid} does not exist.`);
  }
}

export class MemberUseridTakenException extends DomainException {
  constructor(userid: string) {
    super('MEMBER_USERID_TAKEN', 409, `Userid ${userid} is already used in this corp.`);
  }
}

export class MemberMobileTakenException extends DomainException {
  constructor() {
    super('MEMBER_MOBILE_TAKEN', 409, 'Another member of this corp has this mobile number.');
  }
}

export class MemberLimitReachedException extends DomainException {
  constructor(limit: number) {
    super('MEMBER_LIMIT_REACHED', 422, `A corp may have at most ${limit} members.`);
  }
}

export class MemberDepartmentNotFoundException extends DomainException {
  constructor(ids: number[]) {
    super('MEMBER_DEPARTMENT_NOT_FOUND', 422, `Department(s) ${ids.join(', ')} do not exist.`, [
      {
        field: 'departments',
        code: 'MEMBER_DEPARTMENT_NOT_FOUND',
        message: `unknown: ${ids.join(', ')}`,
      },
    ]);
  }
}

export class MainDepartmentNotAMembershipException extends DomainException {
  constructor(id: number) {
    super(
      'MAIN_DEPARTMENT_NOT_A_MEMBERSHIP',
      422,
      `The main department ${id} is not one of the member's departments.`,
      [
        {
          field: 'mainDepartmentId',
          code: 'MAIN_DEPARTMENT_NOT_A_MEMBERSHIP',
          message: 'must be one of departments',
        },
      ],
    );
  }
}

export class DirectLeaderInvalidException extends DomainException {
  constructor(reason: string) {
    super('DIRECT_LEADER_INVALID', 422, reason, [
      { field: 'directLeaders', code: 'DIRECT_LEADER_INVALID', message: reason },
    ]);
  }
}

export class LastSuperAdminException extends DomainException {
  constructor() {
    super('LAST_SUPER_ADMIN', 422, 'A corp always keeps at least one active super admin.');
  }
}

export class MemberStatusTransitionException extends DomainException {
  constructor(from: string, to: string) {
    super('MEMBER_STATUS_TRANSITION_INVALID', 422, `A member who is ${from} cannot become ${to}.`);
  }
}

export class AdminScopeInvalidException extends DomainException {
  constructor(detail: string) {
    super('ADMIN_SCOPE_INVALID', 422, detail);
  }
}
