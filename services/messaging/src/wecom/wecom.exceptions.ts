import { DomainException, ForbiddenException, UnauthorizedException } from '@qiwei/platform';
import type { WecomMediaType } from '@qiwei/wecom';

/** A /cgi-bin call without `?access_token=` (WeCom errcode 41001). */
export class AccessTokenMissingException extends UnauthorizedException {
  constructor() {
    super('Pass the app’s token as ?access_token=.', 'ACCESS_TOKEN_MISSING');
  }
}

/** /cgi-bin takes an app's token (identity's gettoken), never a member's (WeCom 40014). */
export class AppAccessTokenRequiredException extends UnauthorizedException {
  constructor() {
    super(
      'This is not an app’s access token: get one with /cgi-bin/gettoken.',
      'APP_TOKEN_REQUIRED',
    );
  }
}

/** The body's agentid is not the app whose token this is (WeCom 301002). */
export class AgentidMismatchException extends ForbiddenException {
  constructor(given: number, own: number) {
    super(
      `agentid ${given} is not the app of this access token (${own}): an app sends as itself.`,
      'AGENTID_MISMATCH',
    );
  }
}

/** A text or markdown message with nothing in it (WeCom 44004). */
export class ContentEmptyException extends DomainException {
  constructor(field: string) {
    super('CONTENT_EMPTY', 422, `${field} is empty.`);
  }
}

/** The media_id names media of another type than the message (WeCom 40007). */
export class MediaKindMismatchException extends DomainException {
  constructor(mediaId: string, type: string, msgtype: string) {
    super(
      'MEDIA_KIND_MISMATCH',
      422,
      `Media ${mediaId} is a ${type}; a ${msgtype} message needs a ${msgtype} media_id.`,
    );
  }
}

/** media/upload without a `media` file part, or with an empty one (WeCom 44001). */
export class MediaMissingException extends DomainException {
  constructor(detail: string) {
    super('MEDIA_MISSING', 400, detail);
  }
}

/** media/upload whose body is not multipart/form-data, or is broken (WeCom 47001). */
export class MalformedMultipartException extends DomainException {
  constructor(detail: string) {
    super('MALFORMED_MULTIPART', 400, detail);
  }
}

/**
 * An upload outside its type's size range: 40006 in WeCom, 40009 for an image and 40011 for a
 * video — the type travels as the field error's code so the errcode table can tell them apart.
 */
export class WecomMediaSizeException extends DomainException {
  constructor(type: WecomMediaType, status: number, detail: string) {
    super('MEDIA_SIZE_INVALID', status, detail, [{ field: 'media', code: type, message: detail }]);
  }
}
