import type {} from '@fastify/multipart';
import { Controller, Get, HttpCode, Post, Query, Req, StreamableFile } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '@qiwei/auth';
import {
  WECOM_MEDIA_TYPES,
  WecomMediaSizeInvalidException,
  WecomMediaStore,
  WecomMediaTypeInvalidException,
  type WecomMediaType,
} from '@qiwei/wecom';
import type { FastifyRequest } from 'fastify';
import { WecomMediaQuery, WecomUploadQuery, WecomUploadResponse } from './dto/wecom-media.dto';
import { WecomApi } from './wecom-api';
import { readMultipartMedia } from './multipart-media';
import { WecomMediaSizeException } from './wecom.exceptions';

const isMediaType = (type: string): type is WecomMediaType =>
  (WECOM_MEDIA_TYPES as readonly string[]).includes(type);

/**
 * WeCom's temporary media (临时素材): media/upload stores a file for three days under a
 * media_id in the bucket shared with identity; media/get returns it. An app reads its corp's
 * media, whichever app uploaded it; another corp's media_id is not found.
 */
@WecomApi()
@Controller('cgi-bin/media')
export class WecomMediaController {
  constructor(private readonly store: WecomMediaStore) {}

  @Post('upload')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Upload temporary media (multipart field `media`): image (jpg/png), voice (amr), video (mp4) or file; valid 3 days',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['media'],
      properties: { media: { type: 'string', format: 'binary' } },
    },
  })
  @ApiOkResponse({ type: WecomUploadResponse })
  async upload(
    @CurrentPrincipal() caller: Principal,
    @Query() query: WecomUploadQuery,
    @Req() request: FastifyRequest,
  ): Promise<WecomUploadResponse> {
    if (!isMediaType(query.type)) throw new WecomMediaTypeInvalidException(query.type);
    const type = query.type;
    const limit = this.store.limitOf(type);
    const { filename, contentType, bytes } = await readMultipartMedia(request, type, limit);
    try {
      const media = await this.store.put(caller.corpId, {
        type,
        filename,
        contentType,
        bytes,
        uploader: caller.userId,
      });
      return {
        errcode: 0,
        errmsg: 'ok',
        type: media.type,
        media_id: media.mediaId,
        created_at: String(Math.floor(media.createdAt.getTime() / 1000)),
      };
    } catch (error) {
      if (error instanceof WecomMediaSizeInvalidException)
        throw new WecomMediaSizeException(type, error.status, error.message);
      throw error;
    }
  }

  @Get('get')
  @ApiOperation({
    summary: 'The bytes of a temporary media of the corp, with its content type and filename',
  })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({
    description: 'The file; errors are WeCom’s JSON envelope (HTTP 200, errcode)',
  })
  async get(
    @CurrentPrincipal() caller: Principal,
    @Query() query: WecomMediaQuery,
  ): Promise<StreamableFile> {
    const { media, body } = await this.store.open(caller.corpId, query.media_id);
    return new StreamableFile(body, {
      type: media.contentType,
      length: media.size,
      disposition: contentDisposition(media.filename),
    });
  }
}

/** `attachment` with the filename for old clients (ASCII) and new ones (UTF-8, RFC 6266). */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
