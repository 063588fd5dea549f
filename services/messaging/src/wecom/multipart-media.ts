import type {} from '@fastify/multipart';
import type { WecomMediaType } from '@qiwei/wecom';
import type { FastifyRequest } from 'fastify';
import {
  MalformedMultipartException,
  MediaMissingException,
  WecomMediaSizeException,
} from './wecom.exceptions';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The `media` file part of a WeCom upload (media/upload, webhook/upload_media), read whole and
 * bounded by the type's limit: 47001 when not multipart or broken, 44001 without a file or with
 * an empty one, the type's size errcode when over the limit.
 */
export async function readMultipartMedia(
  request: FastifyRequest,
  type: WecomMediaType,
  limit: number,
): Promise<{ filename: string; contentType: string; bytes: Buffer }> {
  if (!request.isMultipart())
    throw new MalformedMultipartException(
      'Send the media as multipart/form-data, in the field `media`.',
    );
  let part;
  try {
    part = await request.file({ limits: { fileSize: limit, files: 1 } });
  } catch (error) {
    throw new MalformedMultipartException(`The multipart body is malformed: ${messageOf(error)}`);
  }
  if (!part || part.fieldname !== 'media')
    throw new MediaMissingException('The upload has no file in the field `media`.');
  let bytes: Buffer;
  try {
    bytes = await part.toBuffer();
  } catch (error) {
    if ((error as { code?: unknown }).code === 'FST_REQ_FILE_TOO_LARGE')
      throw new WecomMediaSizeException(
        type,
        413,
        `A ${type} is at most ${limit} bytes; this one is larger.`,
      );
    throw new MalformedMultipartException(`The multipart body is malformed: ${messageOf(error)}`);
  }
  if (!bytes.length) throw new MediaMissingException('The file in `media` is empty.');
  return { filename: part.filename, contentType: part.mimetype, bytes };
}
