import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Client } from 'minio';
import type { StorageConfig } from './storage-config';

export interface ObjectInfo {
  size: number;
  etag: string;
  contentType: string | null;
  /** User metadata (`x-amz-meta-*`), lower-case names without the prefix; ASCII values. */
  metadata: Record<string, string>;
}

/** A multipart upload the client performs itself, part by part, with presigned URLs. */
export interface PresignedMultipart {
  uploadId: string;
  parts: { partNumber: number; url: string }[];
}

/**
 * The object store every service uses (media, archive copies, exports): a small adapter over
 * the `minio` client, so MinIO in production and s3rver on one machine run the same code.
 */
export class ObjectStorage {
  private readonly client: Client;

  constructor(config: StorageConfig) {
    const url = new URL(config.S3_ENDPOINT);
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      useSSL: url.protocol === 'https:',
      accessKey: config.S3_ACCESS_KEY,
      secretKey: config.S3_SECRET_KEY,
      region: config.S3_REGION,
      pathStyle: true,
    });
  }

  async ensureBucket(bucket: string): Promise<void> {
    if (!(await this.client.bucketExists(bucket))) {
      try {
        await this.client.makeBucket(bucket);
      } catch (error) {
        // Another instance made it first.
        if ((error as { code?: string }).code !== 'BucketAlreadyOwnedByYou') throw error;
      }
    }
  }

  /** A URL the client PUTs the object to, valid for `expirySeconds`. */
  presignedPut(bucket: string, key: string, expirySeconds: number): Promise<string> {
    return this.client.presignedPutObject(bucket, key, expirySeconds);
  }

  /** A URL to GET the object, valid for `expirySeconds`, optionally downloading as `filename`. */
  presignedGet(
    bucket: string,
    key: string,
    expirySeconds: number,
    filename?: string,
  ): Promise<string> {
    return this.client.presignedGetObject(
      bucket,
      key,
      expirySeconds,
      filename
        ? {
            'response-content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
          }
        : {},
    );
  }

  /** Starts a multipart upload and presigns a URL for each part (1-based part numbers). */
  async presignedMultipart(
    bucket: string,
    key: string,
    partCount: number,
    expirySeconds: number,
  ): Promise<PresignedMultipart> {
    const uploadId = await this.client.initiateNewMultipartUpload(bucket, key, {});
    const parts = await Promise.all(
      Array.from({ length: partCount }, async (_, i) => ({
        partNumber: i + 1,
        url: await this.client.presignedUrl('PUT', bucket, key, expirySeconds, {
          partNumber: String(i + 1),
          uploadId,
        }),
      })),
    );
    return { uploadId, parts };
  }

  async completeMultipart(
    bucket: string,
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void> {
    await this.client.completeMultipartUpload(
      bucket,
      key,
      uploadId,
      parts.map((p) => ({ part: p.partNumber, etag: p.etag })),
    );
  }

  /** The object's size and type, or null when there is no such object. */
  async stat(bucket: string, key: string): Promise<ObjectInfo | null> {
    try {
      const stat = await this.client.statObject(bucket, key);
      const raw = (stat.metaData ?? {}) as Record<string, unknown>;
      const metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(raw)) {
        const lower = name.toLowerCase();
        if (typeof value !== 'string' || lower === 'content-type') continue;
        metadata[lower.startsWith('x-amz-meta-') ? lower.slice('x-amz-meta-'.length) : lower] =
          value;
      }
      return {
        size: stat.size,
        etag: stat.etag,
        contentType: (raw['content-type'] as string | undefined) ?? null,
        metadata,
      };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'NotFound' || code === 'NoSuchKey') return null;
      throw error;
    }
  }

  /** SHA-256 (hex) of the object's bytes, streamed: objects of any size. */
  async sha256(bucket: string, key: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of await this.client.getObject(bucket, key))
      hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  /** Writes an object; `metadata` becomes `x-amz-meta-*` (names and values must be ASCII). */
  async put(
    bucket: string,
    key: string,
    body: Buffer | Readable,
    size?: number,
    contentType?: string,
    metadata: Record<string, string> = {},
  ): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value;
    if (contentType) headers['Content-Type'] = contentType;
    await this.client.putObject(bucket, key, body, size, headers);
  }

  get(bucket: string, key: string): Promise<Readable> {
    return this.client.getObject(bucket, key);
  }

  /** The whole object in memory (small objects: manifests, signed heads). */
  async read(bucket: string, key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.client.getObject(bucket, key))
      chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Every object whose key starts with `prefix`, in key order, page by page. */
  async *list(bucket: string, prefix: string): AsyncGenerator<{ key: string; size: number }> {
    for await (const item of this.client.listObjectsV2(bucket, prefix, true)) {
      const { name, size } = item as { name?: string; size?: number };
      if (name) yield { key: name, size: size ?? 0 };
    }
  }

  /** Server-side copy (the archive keeps its own copy of media). */
  async copy(fromBucket: string, fromKey: string, toBucket: string, toKey: string): Promise<void> {
    await this.client.copyObject(toBucket, toKey, `/${fromBucket}/${fromKey}`);
  }

  async remove(bucket: string, key: string): Promise<void> {
    await this.client.removeObject(bucket, key);
  }
}
