import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DomainException, NotFoundException } from '@qiwei/platform';
import type { ObjectStorage } from '@qiwei/storage';

/**
 * WeCom's temporary media (临时素材): `media/upload?type=` stores a file for three days under a
 * `media_id` that other calls reference — `message/send` (image, voice, video, file),
 * `batch/syncuser` (the CSV). Messaging serves `media/upload` and `media/get`; identity reads the
 * batch CSVs. They share no database, so the store is the contract: one bucket, the object key
 * `<corpId>/<mediaId>`, the description in the object's metadata. A media id is only ever looked
 * up under the caller's corp, so another corp's id is simply not found.
 */
export const WECOM_MEDIA_TYPES = ['image', 'voice', 'video', 'file'] as const;
export type WecomMediaType = (typeof WECOM_MEDIA_TYPES)[number];

/** WeCom's limits (reference/wecom-api.md); each can be overridden by configuration. */
export const DEFAULT_WECOM_MEDIA_LIMITS: Readonly<Record<WecomMediaType, number>> = {
  image: 10 * 1024 * 1024,
  voice: 2 * 1024 * 1024,
  video: 10 * 1024 * 1024,
  file: 20 * 1024 * 1024,
};

/** WeCom: "大于5个字节". */
export const WECOM_MEDIA_MIN_BYTES = 6;
export const DEFAULT_WECOM_MEDIA_TTL_SECONDS = 3 * 24 * 3600;

/** File extensions WeCom accepts per type (any for `file`). */
const EXTENSIONS: Readonly<Record<Exclude<WecomMediaType, 'file'>, readonly string[]>> = {
  image: ['jpg', 'jpeg', 'png'],
  voice: ['amr'],
  video: ['mp4'],
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  amr: 'audio/amr',
  mp4: 'video/mp4',
  csv: 'text/csv',
  txt: 'text/plain',
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

const MEDIA_ID = /^[A-Za-z0-9_-]{16,128}$/;

export interface WecomMediaStoreOptions {
  bucket: string;
  ttlSeconds?: number;
  limits?: Partial<Record<WecomMediaType, number>>;
}

export interface WecomMediaUpload {
  type: WecomMediaType;
  filename: string;
  bytes: Buffer;
  /** As the client declared it; otherwise derived from the extension. */
  contentType?: string;
  /** Who uploaded it: `app:<agentid>` or a member's userid (kept for audit). */
  uploader: string;
}

export interface WecomMedia {
  mediaId: string;
  corpId: string;
  type: WecomMediaType;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  uploader: string;
  createdAt: Date;
  expiresAt: Date;
  bucket: string;
  objectKey: string;
}

/** 40004 in WeCom: not one of image, voice, video, file. */
export class WecomMediaTypeInvalidException extends DomainException {
  constructor(type: string) {
    super(
      'MEDIA_TYPE_INVALID',
      400,
      `The media type must be one of ${WECOM_MEDIA_TYPES.join(', ')}, not "${type}".`,
    );
  }
}

/** 40005 in WeCom: the file's extension does not fit its media type. */
export class WecomMediaFileTypeInvalidException extends DomainException {
  constructor(type: WecomMediaType, filename: string) {
    const allowed = type === 'file' ? [] : EXTENSIONS[type];
    super(
      'MEDIA_FILE_TYPE_INVALID',
      415,
      `A ${type} must be a ${allowed.map((e) => `.${e}`).join(' or ')} file; "${filename}" is not.`,
    );
  }
}

/** 40006 in WeCom (40009 for an image, 40011 for a video). */
export class WecomMediaSizeInvalidException extends DomainException {
  constructor(type: WecomMediaType, size: number, limit: number) {
    super(
      'MEDIA_SIZE_INVALID',
      size > limit ? 413 : 400,
      `A ${type} must be ${WECOM_MEDIA_MIN_BYTES} to ${limit} bytes; this one is ${size}.`,
    );
  }
}

/** 40007 in WeCom: unknown, expired, or another corp's media id. */
export class WecomMediaNotFoundException extends NotFoundException {
  constructor(mediaId: string) {
    super('MEDIA_ID_INVALID', `There is no media "${mediaId}" in this corp, or it has expired.`);
  }
}

export class WecomMediaStore {
  private readonly ttlSeconds: number;
  private readonly limits: Record<WecomMediaType, number>;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly options: WecomMediaStoreOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_WECOM_MEDIA_TTL_SECONDS;
    this.limits = { ...DEFAULT_WECOM_MEDIA_LIMITS, ...options.limits };
  }

  get bucket(): string {
    return this.options.bucket;
  }

  limitOf(type: WecomMediaType): number {
    return this.limits[type];
  }

  async ensureBucket(): Promise<void> {
    await this.storage.ensureBucket(this.options.bucket);
  }

  /** Checks the upload against WeCom's rules, then stores it; nothing is stored on refusal. */
  async put(corpId: string, upload: WecomMediaUpload, now = new Date()): Promise<WecomMedia> {
    if (!(WECOM_MEDIA_TYPES as readonly string[]).includes(upload.type))
      throw new WecomMediaTypeInvalidException(upload.type);
    const filename = cleanFilename(upload.filename);
    const extension = extensionOf(filename);
    if (upload.type !== 'file' && !EXTENSIONS[upload.type].includes(extension))
      throw new WecomMediaFileTypeInvalidException(upload.type, filename);
    const limit = this.limits[upload.type];
    if (upload.bytes.length < WECOM_MEDIA_MIN_BYTES || upload.bytes.length > limit)
      throw new WecomMediaSizeInvalidException(upload.type, upload.bytes.length, limit);

    const media: WecomMedia = {
      mediaId: randomBytes(32).toString('base64url'),
      corpId,
      type: upload.type,
      filename,
      contentType:
        upload.type === 'file' && upload.contentType
          ? upload.contentType
          : (CONTENT_TYPES[extension] ?? 'application/octet-stream'),
      size: upload.bytes.length,
      sha256: createHash('sha256').update(upload.bytes).digest('hex'),
      uploader: upload.uploader,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.ttlSeconds * 1000),
      bucket: this.options.bucket,
      objectKey: '',
    };
    media.objectKey = objectKeyOf(corpId, media.mediaId);
    await this.storage.put(
      this.options.bucket,
      media.objectKey,
      upload.bytes,
      media.size,
      media.contentType,
      {
        'qiwei-type': media.type,
        'qiwei-filename': encodeURIComponent(media.filename),
        'qiwei-sha256': media.sha256,
        'qiwei-uploader': encodeURIComponent(media.uploader),
        'qiwei-created-at': media.createdAt.toISOString(),
      },
    );
    return media;
  }

  /** The media's description; refused when unknown, expired or not of `corpId`. */
  async describe(corpId: string, mediaId: string, now = new Date()): Promise<WecomMedia> {
    if (!MEDIA_ID.test(mediaId)) throw new WecomMediaNotFoundException(mediaId);
    const objectKey = objectKeyOf(corpId, mediaId);
    const info = await this.storage.stat(this.options.bucket, objectKey);
    const createdAt = new Date(info?.metadata['qiwei-created-at'] ?? Number.NaN);
    const type = info?.metadata['qiwei-type'] as WecomMediaType | undefined;
    if (!info || !type || Number.isNaN(createdAt.getTime()))
      throw new WecomMediaNotFoundException(mediaId);
    const expiresAt = new Date(createdAt.getTime() + this.ttlSeconds * 1000);
    if (expiresAt <= now) throw new WecomMediaNotFoundException(mediaId);
    return {
      mediaId,
      corpId,
      type,
      filename: decodeURIComponent(info.metadata['qiwei-filename'] ?? mediaId),
      contentType: info.contentType ?? 'application/octet-stream',
      size: info.size,
      sha256: info.metadata['qiwei-sha256'] ?? '',
      uploader: decodeURIComponent(info.metadata['qiwei-uploader'] ?? ''),
      createdAt,
      expiresAt,
      bucket: this.options.bucket,
      objectKey,
    };
  }

  /** The media and its bytes as a stream. */
  async open(
    corpId: string,
    mediaId: string,
    now = new Date(),
  ): Promise<{ media: WecomMedia; body: Readable }> {
    const media = await this.describe(corpId, mediaId, now);
    return { media, body: await this.storage.get(this.options.bucket, media.objectKey) };
  }

  /** The whole media in memory (for files bounded by the type's limit, such as batch CSVs). */
  async read(
    corpId: string,
    mediaId: string,
    now = new Date(),
  ): Promise<{ media: WecomMedia; bytes: Buffer }> {
    const { media, body } = await this.open(corpId, mediaId, now);
    return { media, bytes: await bufferOf(body) };
  }
}

function objectKeyOf(corpId: string, mediaId: string): string {
  return `${corpId}/${mediaId}`;
}

/** The last path segment, without control characters; at most 255 characters. */
function cleanFilename(filename: string): string {
  // eslint-disable-next-line no-control-regex
  const base = (filename.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (base || 'media').slice(0, 255);
}

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? '' : filename.slice(dot + 1).toLowerCase();
}

/** A stream's bytes, in memory. */
export async function bufferOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
