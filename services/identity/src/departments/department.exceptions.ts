import { DomainException, NotFoundException } from '@qiwei/platform';

export class DepartmentNotFoundException extends NotFoundException {
  constructor(id: number) {
    super('DEPARTMENT_NOT_FOUND', `Department ${id} does not exist.`);
  }
}

export class ParentDepartmentNotFoundException extends DomainException {
  constructor(id: number) {
    super('PARENT_DEPARTMENT_NOT_FOUND', 422, `Parent department ${id} does not exist.`, [
      {
        field: 'parentId',
        code: 'PARENT_DEPARTMENT_NOT_FOUND',
        message: `Department ${id} does not exist.`,
      },
    ]);
  }
}

export class DepartmentNameInvalidException extends DomainException {
  constructor(reason: string) {
    super('DEPARTMENT_NAME_INVALID', 400, `Invalid department name: ${reason}`, [
      { field: 'name', code: 'DEPARTMENT_NAME_INVALID', message: reason },
    ]);
  }
}

export class DepartmentNameTakenException extends DomainException {
  constructor(name: string, parentId: number) {
    super(
      'DEPARTMENT_NAME_TAKEN',
      409,
      `Department ${parentId} already has a sub-department named "${name}".`,
    );
  }
}

export class DepartmentIdTakenException extends DomainException {
  constructor(id: number) {
    super('DEPARTMENT_ID_TAKEN', 409, `Department id ${id} is already used in this corp.`);
  }
}

export class DepartmentTooDeepException extends DomainException {
  constructor(maxDepth: number) {
    super(
      'DEPARTMENT_TOO_DEEP',
      422,
      `The department tree may be at most ${maxDepth} levels deep (the root is level 1).`,
    );
  }
}

export class DepartmentLimitReachedException extends DomainException {
  constructor(limit: number) {
    super('DEPARTMENT_LIMIT_REACHED', 422, `A corp may have at most ${limit} departments.`);
  }
}

export class RootDepartmentImmutableException extends DomainException {
  constructor(action: 'deleted' | 'moved') {
    super('ROOT_DEPARTMENT_IMMUTABLE', 422, `The root department cannot be ${action}.`);
  }
}

export class DepartmentHasChildrenException extends DomainException {
  constructor(id: number) {
    super(
      'DEPARTMENT_HAS_CHILDREN',
      409,
      `Department ${id} has sub-departments; delete or move them first.`,
    );
  }
}

export class DepartmentHasMembersException extends DomainException {
  constructor(id: number) {
    super('DEPARTMENT_HAS_MEMBERS', 409, `Department ${id} has members; move them out first.`);
  }
}

export class DepartmentMoveIntoOwnSubtreeException extends DomainException {
  constructor(id: number, parentId: number) {
    super(
      'DEPARTMENT_MOVE_INTO_OWN_SUBTREE',
      422,
      parentId === id
        ? `Department ${id} cannot be its own parent.`
        : `Department ${id} cannot move under ${parentId}, which is inside its own subtree.`,
    );
  }
}

export class DepartmentHasAdminsException extends DomainException {
  constructor(id: number) {
    super(
      'DEPARTMENT_HAS_ADMINS',
      409,
      `Department ${id} is in a department admin's scope; change that admin's scope first.`,
    );
  }
}

export class DepartmentVisibilityInvalidException extends DomainException {
  constructor(detail: string) {
    super('DEPARTMENT_VISIBILITY_INVALID', 422, detail);
  }
}

export class ScopeRootImmutableException extends DomainException {
  constructor(verb: 'moved' | 'deleted') {
    super(
      'SCOPE_ROOT_IMMUTABLE',
      403,
      `The top department of your admin scope cannot be ${verb} by you; ask a super admin.`,
    );
  }
}
