import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { ObjectStorage } from '@qiwei/storage';
import type { WecomMedia } from '@qiwei/wecom';
import { DataSource, type EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import {
  MediaMismatchException,
  MediaNotFoundException,
  MediaNotReadyException,
  MediaNotUploadedException,
  MediaTooLargeException,
  MediaTypeNotAllowedException,
} from './media.exceptions';

export const MEDIA_KINDS = ['image', 'voice', 'video', 'file'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** Content types per kind (a file may be anything). */
const ALLOWED_TYPES: Record<Exclude<MediaKind, 'file'>, readonly string[]> = {
  image: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'],
  voice: ['audio/amr', 'audio/mpeg', 'audio/ogg', 'audio/aac', 'audio/mp4'],
  video: ['video/mp4', 'video/quicktime', 'video/webm'],
};

/**
 * Whose media: a member, a group robot (`robot:<robotId>`) for webhook images, or an app
 * (`app:<agentid>`) for the WeCom media it sends.
 */
type Uploader = Pick<Principal, 'corpId' | 'userId'>;

export interface UploadRequest {
  kind: MediaKind;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}

export interface MediaRecord {
  corpId: string;
  id: string;
  uploader: string;
  kind: MediaKind;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  bucket: string;
  objectKey: string;
  status: 'pending' | 'ready';
}

export interface UploadInstructions {
  media: MediaRecord;
  /** One PUT of the whole object, or one PUT per part (then complete with their ETags). */
  upload:
    | { method: 'PUT'; url: string }
    | { method: 'MULTIPART'; partSize: number; parts: { partNumber: number; url: string }[] };
  expiresInSeconds: number;
}

interface MediaRow {
  corp_id: string;
  id: string;
  uploader: string;
  kind: MediaKind;
  filename: string;
  content_type: string;
  size: string;
  sha256: string;
  object_key: string;
  multipart_upload_id: string | null;
  part_count: number;
  status: 'pending' | 'ready';
}

/**
 * Media of messages: the client asks for an upload (declaring kind, type, size and SHA-256),
 * uploads straight to object storage with presigned URLs (in parts when large), then completes
 * it; messaging checks the object's size and SHA-256 once, on completion. Only ready media can be
 * sent, and only by their uploader; participants of a conversation that carries it may download.
 */
@Injectable()
export class MediaService implements OnModuleInit {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly dataSource: DataSource,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.storage.ensureBucket(this.config.MEDIA_BUCKET);
  }

  async requestUpload(caller: Principal, input: UploadRequest): Promise<UploadInstructions> {
    const limit = this.limitOf(input.kind);
    if (input.size > limit) throw new MediaTooLargeException(input.kind, limit);
    if (input.kind !== 'file' && !ALLOWED_TYPES[input.kind].includes(input.contentType))
      throw new MediaTypeNotAllowedException(
        input.kind,
        input.contentType,
        ALLOWED_TYPES[input.kind],
      );
    const id = randomUUID();
    const objectKey = `${caller.corpId}/${id}`;
    const bucket = this.config.MEDIA_BUCKET;
    const expires = this.config.MEDIA_URL_EXPIRY_SECONDS;
    const partSize = this.config.MEDIA_PART_BYTES;
    const multipart = input.size > partSize;
    const partCount = multipart ? Math.ceil(input.size / partSize) : 1;
    const presigned = multipart
      ? await this.storage.presignedMultipart(bucket, objectKey, partCount, expires)
      : undefined;
    await this.dataSource.query(
      `INSERT INTO media_uploads (corp_id, id, uploader, kind, filename, content_type, size, sha256,
                                  object_key, multipart_upload_id, part_count)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        caller.corpId,
        id,
        caller.userId,
        input.kind,
        input.filename,
        input.contentType,
        input.size,
        input.sha256.toLowerCase(),
        objectKey,
        presigned?.uploadId ?? null,
        partCount,
      ],
    );
    const media = (await this.find(this.dataSource.manager, caller, id)) as MediaRecord;
    return {
      media,
      upload: presigned
        ? { method: 'MULTIPART', partSize, parts: presigned.parts }
        : { method: 'PUT', url: await this.storage.presignedPut(bucket, objectKey, expires) },
      expiresInSeconds: expires,
    };
  }

  /** Assembles the parts (if any), then checks size and SHA-256 against what was declared. */
  async complete(
    caller: Principal,
    id: string,
    parts: { partNumber: number; etag: string }[] = [],
  ): Promise<MediaRecord> {
    const row = await this.row(caller, id);
    if (row.status === 'ready') return this.toRecord(row);
    const bucket = this.config.MEDIA_BUCKET;
    if (row.multipart_upload_id) {
      const numbers = parts.map((p) => p.partNumber).sort((a, b) => a - b);
      if (numbers.length !== row.part_count || numbers.some((n, i) => n !== i + 1))
        throw new MediaNotUploadedException(
          `Give the ETag of each of the ${row.part_count} parts (partNumber 1–${row.part_count}).`,
        );
      try {
        await this.storage.completeMultipart(
          bucket,
          row.object_key,
          row.multipart_upload_id,
          parts,
        );
      } catch (error) {
        throw new MediaNotUploadedException(
          `The parts could not be assembled: ${(error as Error).message}`,
        );
      }
    }
    const stat = await this.storage.stat(bucket, row.object_key);
    if (!stat) throw new MediaNotUploadedException('Nothing has been uploaded to the URL yet.');
    if (stat.size !== Number(row.size)) {
      await this.storage.remove(bucket, row.object_key);
      throw new MediaMismatchException(
        'MEDIA_SIZE_MISMATCH',
        `Declared ${row.size} bytes, uploaded ${stat.size}: upload it again.`,
      );
    }
    const sha256 = await this.storage.sha256(bucket, row.object_key);
    if (sha256 !== row.sha256) {
      await this.storage.remove(bucket, row.object_key);
      throw new MediaMismatchException(
        'MEDIA_CHECKSUM_MISMATCH',
        'The uploaded bytes do not have the declared SHA-256: upload them again.',
      );
    }
    await this.dataSource.query(
      `UPDATE media_uploads SET status = 'ready', completed_at = now() WHERE corp_id = $1 AND id = $2`,
      [caller.corpId, id],
    );
    return { ...this.toRecord(row), status: 'ready' };
  }

  /** Ready media of the sender's, of the message's kind, for a message being sent. */
  async forMessage(
    em: EntityManager,
    caller: Uploader,
    id: string,
    kind: MediaKind,
  ): Promise<MediaRecord> {
    const media = await this.find(em, caller, id);
    if (!media) throw new MediaNotFoundException(id);
    if (media.status !== 'ready' || media.kind !== kind) throw new MediaNotReadyException(id);
    return media;
  }

  /** Ready uploads of the caller's, of any kind, among `ids` (announcement attachments). */
  async readyOf(em: EntityManager, caller: Uploader, ids: string[]): Promise<MediaRecord[]> {
    if (!ids.length) return [];
    const rows = await em.query<MediaRow[]>(
      `SELECT * FROM media_uploads
        WHERE corp_id = $1 AND id = ANY($2::uuid[]) AND uploader = $3 AND status = 'ready'`,
      [caller.corpId, ids, caller.userId],
    );
    return rows.map((r) => this.toRecord(r));
  }

  /** A presigned download URL of any object of the media bucket (callers check who may). */
  presignedDownload(objectKey: string, filename: string): Promise<string> {
    return this.storage.presignedGet(
      this.config.MEDIA_BUCKET,
      objectKey,
      this.config.MEDIA_URL_EXPIRY_SECONDS,
      filename,
    );
  }

  /**
   * Bytes a group robot's webhook brought (already checked by its caller), stored as a ready
   * upload of the robot's inside `em`: rolled back with the message if that is refused. The
   * object is written first; `discard` removes it when the transaction does not commit.
   */
  async storeBytes(
    uploader: Uploader,
    input: { kind: MediaKind; filename: string; contentType: string; bytes: Buffer },
  ): Promise<{
    record: (em: EntityManager) => Promise<string>;
    discard: () => Promise<void>;
  }> {
    const limit = this.limitOf(input.kind);
    if (input.bytes.length > limit) throw new MediaTooLargeException(input.kind, limit);
    const id = randomUUID();
    const objectKey = `${uploader.corpId}/${id}`;
    const bucket = this.config.MEDIA_BUCKET;
    await this.storage.put(bucket, objectKey, input.bytes, input.bytes.length, input.contentType);
    return {
      record: async (em) => {
        await em.query(
          `INSERT INTO media_uploads (corp_id, id, uploader, kind, filename, content_type, size,
                                      sha256, object_key, multipart_upload_id, part_count, status,
                                      completed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, 1, 'ready', now())`,
          [
            uploader.corpId,
            id,
            uploader.userId,
            input.kind,
            input.filename,
            input.contentType,
            input.bytes.length,
            createHash('sha256').update(input.bytes).digest('hex'),
            objectKey,
          ],
        );
        return id;
      },
      discard: () => this.storage.remove(bucket, objectKey),
    };
  }

  /**
   * A WeCom temporary media (media/upload) as the sender's ready media, the first time the
   * sender sends it: the object is copied from the WeCom bucket into the media bucket (so the
   * message outlives the media_id's three days), its size and SHA-256 checked against what the
   * upload recorded, and the upload row written with the media_id. Later sends of the same
   * media_id by the same sender reuse that row. Two first sends at once: one row wins, the
   * other's copy is removed.
   */
  async fromWecom(uploader: Uploader, wecom: WecomMedia): Promise<MediaRecord> {
    const known = await this.adopted(uploader, wecom.mediaId);
    if (known) return known;
    const limit = this.limitOf(wecom.type);
    if (wecom.size > limit) throw new MediaTooLargeException(wecom.type, limit);
    const id = randomUUID();
    const objectKey = `${uploader.corpId}/${id}`;
    const bucket = this.config.MEDIA_BUCKET;
    await this.storage.copy(wecom.bucket, wecom.objectKey, bucket, objectKey);
    let inserted: { id: string }[] = [];
    try {
      const copied = await this.storage.stat(bucket, objectKey);
      if (copied?.size !== wecom.size)
        throw new MediaMismatchException(
          'MEDIA_SIZE_MISMATCH',
          `The stored media is ${copied?.size ?? 0} bytes, not the ${wecom.size} uploaded: upload it again.`,
        );
      if ((await this.storage.sha256(bucket, objectKey)) !== wecom.sha256)
        throw new MediaMismatchException(
          'MEDIA_CHECKSUM_MISMATCH',
          'The stored media does not have the SHA-256 of its upload: upload it again.',
        );
      inserted = await this.dataSource.query<{ id: string }[]>(
        `INSERT INTO media_uploads (corp_id, id, uploader, kind, filename, content_type, size,
                                    sha256, object_key, multipart_upload_id, part_count, status,
                                    completed_at, wecom_media_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, 1, 'ready', now(), $10)
         ON CONFLICT (corp_id, uploader, wecom_media_id) WHERE wecom_media_id IS NOT NULL
         DO NOTHING
         RETURNING id`,
        [
          uploader.corpId,
          id,
          uploader.userId,
          wecom.type,
          wecom.filename,
          wecom.contentType,
          wecom.size,
          wecom.sha256,
          objectKey,
          wecom.mediaId,
        ],
      );
    } finally {
      if (!inserted.length) await this.storage.remove(bucket, objectKey);
    }
    const record = await this.adopted(uploader, wecom.mediaId);
    if (!record) throw new MediaNotFoundException(wecom.mediaId);
    return record;
  }

  /**
   * A download URL, for the uploader, a participant of a conversation that carries it, or a
   * recipient of an app message that carries it (until it is recalled).
   */
  async downloadUrl(caller: Principal, id: string): Promise<{ media: MediaRecord; url: string }> {
    const [row] = await this.dataSource.query<MediaRow[]>(
      `SELECT u.* FROM media_uploads u
        WHERE u.corp_id = $1 AND u.id = $2 AND u.status = 'ready'
          AND (u.uploader = $3 OR EXISTS (
                SELECT 1 FROM messages m
                  JOIN conversation_members cm
                    ON cm.corp_id = m.corp_id AND cm.conversation_id = m.conversation_id
                 WHERE m.corp_id = u.corp_id AND m.media_id = u.id AND cm.userid = $3)
            OR EXISTS (
                SELECT 1 FROM app_messages a
                  JOIN app_message_recipients r ON r.corp_id = a.corp_id AND r.message_id = a.id
                 WHERE a.corp_id = u.corp_id AND a.media_id = u.id AND a.recalled_at IS NULL
                   AND r.userid = $3))`,
      [caller.corpId, id, caller.userId],
    );
    if (!row) throw new MediaNotFoundException(id);
    const media = this.toRecord(row);
    return {
      media,
      url: await this.storage.presignedGet(
        media.bucket,
        media.objectKey,
        this.config.MEDIA_URL_EXPIRY_SECONDS,
        media.filename,
      ),
    };
  }

  private limitOf(kind: MediaKind): number {
    return {
      image: this.config.MEDIA_MAX_IMAGE_BYTES,
      voice: this.config.MEDIA_MAX_VOICE_BYTES,
      video: this.config.MEDIA_MAX_VIDEO_BYTES,
      file: this.config.MEDIA_MAX_FILE_BYTES,
    }[kind];
  }

  private async find(em: EntityManager, caller: Uploader, id: string): Promise<MediaRecord | null> {
    const row = await this.uploaded(em, caller, id);
    return row ? this.toRecord(row) : null;
  }

  private async adopted(uploader: Uploader, wecomMediaId: string): Promise<MediaRecord | null> {
    const [row] = await this.dataSource.query<MediaRow[]>(
      `SELECT * FROM media_uploads
        WHERE corp_id = $1 AND uploader = $2 AND wecom_media_id = $3 AND status = 'ready'`,
      [uploader.corpId, uploader.userId, wecomMediaId],
    );
    return row ? this.toRecord(row) : null;
  }

  private async row(caller: Principal, id: string): Promise<MediaRow> {
    const row = await this.uploaded(this.dataSource.manager, caller, id);
    if (!row) throw new MediaNotFoundException(id);
    return row;
  }

  /** The caller's own upload (nobody else's is visible to them as an uploader). */
  private async uploaded(
    em: EntityManager,
    caller: Uploader,
    id: string,
  ): Promise<MediaRow | null> {
    const [row] = await em.query<MediaRow[]>(
      'SELECT * FROM media_uploads WHERE corp_id = $1 AND id = $2 AND uploader = $3',
      [caller.corpId, id, caller.userId],
    );
    return row ?? null;
  }

  private toRecord(row: MediaRow): MediaRecord {
    return {
      corpId: row.corp_id,
      id: row.id,
      uploader: row.uploader,
      kind: row.kind,
      filename: row.filename,
      contentType: row.content_type,
      size: Number(row.size),
      sha256: row.sha256,
      bucket: this.config.MEDIA_BUCKET,
      objectKey: row.object_key,
      status: row.status,
    };
  }
}
