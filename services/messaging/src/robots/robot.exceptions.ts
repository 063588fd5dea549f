import { DomainException, NotFoundException } from '@qiwei/platform';

export class RobotNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('ROBOT_NOT_FOUND', `This group has no robot ${id}.`);
  }
}

/** The webhook's key names no robot (never created, rotated, deleted, or its group disbanded). */
export class WebhookKeyInvalidException extends DomainException {
  constructor() {
    super('WEBHOOK_KEY_INVALID', 404, 'The webhook key is not valid.');
  }
}

/** A robot sent its quota this minute: refused, never dropped (WeCom 130101). */
export class RobotRateLimitedException extends DomainException {
  constructor(perMinute: number) {
    super(
      'ROBOT_RATE_LIMITED',
      429,
      `A robot sends at most ${perMinute} messages a minute; try again next minute.`,
    );
  }
}

export class RobotContentEmptyException extends DomainException {
  constructor(field: string) {
    super('ROBOT_CONTENT_EMPTY', 422, `${field} is empty.`);
  }
}

export class RobotImageInvalidException extends DomainException {
  constructor(
    code: 'ROBOT_IMAGE_MD5_MISMATCH' | 'ROBOT_IMAGE_TYPE' | 'ROBOT_IMAGE_BASE64',
    detail: string,
  ) {
    super(code, 422, detail);
  }
}

export class RobotImageTooLargeException extends DomainException {
  constructor(limit: number) {
    super('ROBOT_IMAGE_TOO_LARGE', 413, `A robot's image is at most ${limit} bytes.`);
  }
}

/** webhook/upload_media takes `type=file` (WeCom 40004 for any other). */
export class RobotMediaTypeInvalidException extends DomainException {
  constructor(type: string) {
    super('MEDIA_TYPE_INVALID', 400, `A robot uploads type=file, not "${type}".`);
  }
}

/** WeCom's lower bound on uploads: more than 5 bytes (40006). */
export class RobotFileTooSmallException extends DomainException {
  constructor(size: number) {
    super('MEDIA_SIZE_INVALID', 400, `A file is more than 5 bytes; this one has ${size}.`, [
      { field: 'media', code: 'file', message: 'A file is more than 5 bytes.' },
    ]);
  }
}
