import {
  DomainException,
  ForbiddenException,
  NotFoundException,
  type FieldError,
} from '@qiwei/platform';

export class AnnouncementNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('ANNOUNCEMENT_NOT_FOUND', `There is no announcement ${id} for you.`);
  }
}

export class AnnouncementRoleRequiredException extends ForbiddenException {
  constructor() {
    super(
      'Announcements are published by super admins, and by department admins with `announcements:publish`.',
      'ROLE_REQUIRED',
    );
  }
}

export class AnnouncementPermissionRequiredException extends ForbiddenException {
  constructor() {
    super('Your admin scope does not include `announcements:publish`.', 'PERMISSION_REQUIRED');
  }
}

export class AnnouncementOutsideScopeException extends ForbiddenException {
  constructor(detail: string) {
    super(detail, 'OUTSIDE_ADMIN_SCOPE');
  }
}

export class AnnouncementManageForbiddenException extends ForbiddenException {
  constructor() {
    super(
      'Only the announcement’s publisher and super admins manage it and see its statistics.',
      'ANNOUNCEMENT_MANAGE_FORBIDDEN',
    );
  }
}

export class AnnouncementTargetsInvalidException extends DomainException {
  constructor(errors: FieldError[]) {
    super(
      'ANNOUNCEMENT_TARGETS_INVALID',
      422,
      'Some targets do not exist or are not active members: see `errors`.',
      errors,
    );
  }
}

export class AnnouncementNoRecipientsException extends DomainException {
  constructor() {
    super(
      'ANNOUNCEMENT_NO_RECIPIENTS',
      422,
      'The targets reach no active member (within your admin scope).',
    );
  }
}

export class AnnouncementBodyTooLargeException extends DomainException {
  constructor(limit: number) {
    super(
      'ANNOUNCEMENT_TOO_LARGE',
      413,
      `An announcement's body is at most ${limit} bytes (UTF-8).`,
    );
  }
}

export class AnnouncementBodyUnsafeException extends DomainException {
  constructor(errors: FieldError[]) {
    super(
      'ANNOUNCEMENT_BODY_UNSAFE',
      422,
      'The body is Markdown without raw HTML, and links and images are absolute http, https or mailto URLs.',
      errors,
    );
  }
}

export class AnnouncementScheduleInvalidException extends DomainException {
  constructor(field: string, message: string) {
    super('ANNOUNCEMENT_SCHEDULE_INVALID', 422, message, [
      { field, code: 'ANNOUNCEMENT_SCHEDULE_INVALID', message },
    ]);
  }
}

export class AnnouncementAttachmentInvalidException extends DomainException {
  constructor(mediaIds: string[]) {
    super(
      'ANNOUNCEMENT_ATTACHMENT_INVALID',
      422,
      `Attachments are ready uploads of yours; these are not: ${mediaIds.join(', ')}.`,
    );
  }
}

export class AnnouncementPublishedImmutableException extends DomainException {
  constructor(fields: string[]) {
    super(
      'ANNOUNCEMENT_PUBLISHED_IMMUTABLE',
      409,
      `A published announcement changes only pinned and expiresAt (not ${fields.join(', ')}): withdraw it and publish a corrected one.`,
    );
  }
}

export class AnnouncementStateException extends DomainException {
  constructor(code: string, message: string) {
    super(code, 409, message);
  }
}

export class AnnouncementRemindLimitedException extends DomainException {
  constructor(message: string) {
    super('ANNOUNCEMENT_REMIND_LIMITED', 429, message);
  }
}

export class NothingToRemindException extends DomainException {
  constructor(message: string) {
    super('NOTHING_TO_REMIND', 422, message);
  }
}

export class AnnouncementAttachmentNotFoundException extends NotFoundException {
  constructor(mediaId: string) {
    super('ATTACHMENT_NOT_FOUND', `This announcement has no attachment ${mediaId}.`);
  }
}
