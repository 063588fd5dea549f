import { DomainException, NotFoundException } from '@qiwei/platform';

export class MediaNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('MEDIA_NOT_FOUND', `There is no media ${id} of yours.`);
  }
}

export class MediaTooLargeException extends DomainException {
  constructor(kind: string, limit: number) {
    super('MEDIA_TOO_LARGE', 413, `A ${kind} is at most ${limit} bytes.`);
  }
}

export class MediaTypeNotAllowedException extends DomainException {
  constructor(kind: string, contentType: string, allowed: readonly string[]) {
    super(
      'MEDIA_TYPE_NOT_ALLOWED',
      415,
      `A ${kind} cannot be ${contentType}; allowed: ${allowed.join(', ')}.`,
    );
  }
}

export class MediaNotUploadedException extends DomainException {
  constructor(detail: string) {
    super('MEDIA_NOT_UPLOADED', 422, detail);
  }
}

export class MediaMismatchException extends DomainException {
  constructor(code: 'MEDIA_SIZE_MISMATCH' | 'MEDIA_CHECKSUM_MISMATCH', detail: string) {
    super(code, 422, detail);
  }
}

export class MediaNotReadyException extends DomainException {
  constructor(id: string) {
    super(
      'MEDIA_NOT_READY',
      422,
      `Media ${id} has not been completed (POST /v1/media/uploads/${id}/complete) or is of another kind.`,
    );
  }
}
