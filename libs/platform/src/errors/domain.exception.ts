export interface FieldError {
  /** Dotted path of the offending field in the request, e.g. `admin.userid`. */
  field: string;
  code: string;
  message: string;
}

/**
 * A refusal the domain understands, with a stable machine-readable code. The HTTP filter maps
 * it to problem+json; consumers map it to skip / dead-letter. Subclass it per rule.
 */
export class DomainException extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailedException extends DomainException {
  constructor(errors: FieldError[]) {
    super(
      'VALIDATION_FAILED',
      400,
      'The request is not valid: see `errors` for each field.',
      errors,
    );
  }
}

export class NotFoundException extends DomainException {
  constructor(code: string, message: string) {
    super(code, 404, message);
  }
}

export class UnauthorizedException extends DomainException {
  constructor(message = 'A valid bearer token is required.', code = 'UNAUTHORIZED') {
    super(code, 401, message);
  }
}

export class ForbiddenException extends DomainException {
  constructor(message = 'You are not allowed to do this.', code = 'FORBIDDEN') {
    super(code, 403, message);
  }
}
