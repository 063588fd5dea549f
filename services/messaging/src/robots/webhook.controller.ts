import { Body, Controller, HttpCode, Post, Query, Req } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { readMultipartMedia } from '../wecom/multipart-media';
import { WebhookMessageDto, WebhookResultResponse, WebhookUploadResponse } from './dto/webhook.dto';
import { RobotsService } from './robots.service';

/** WeCom's group robot webhook: no token, the key is the credential; WeCom's envelope. */
@ApiTags('group robots')
@Controller('cgi-bin/webhook')
export class WebhookController {
  constructor(private readonly robots: RobotsService) {}

  @Post('send')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A robot posts into its group (msgtype text, markdown, image, news, file); errors as {errcode, errmsg} with HTTP 200',
  })
  @ApiQuery({ name: 'key', description: 'The robot’s webhook key' })
  @ApiOkResponse({ type: WebhookResultResponse })
  async send(
    @Query('key') key: unknown,
    @Body() body: WebhookMessageDto,
  ): Promise<WebhookResultResponse> {
    await this.robots.send(typeof key === 'string' ? key : undefined, body);
    return { errcode: 0, errmsg: 'ok' };
  }

  @Post('upload_media')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A robot uploads a file (multipart field `media`, type=file, > 5 bytes, ≤ WECOM_MEDIA_MAX_FILE_BYTES) to send as msgtype file',
  })
  @ApiQuery({ name: 'key', description: 'The robot’s webhook key' })
  @ApiQuery({ name: 'type', enum: ['file'], description: 'Others answer errcode 40004' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['media'],
      properties: { media: { type: 'string', format: 'binary' } },
    },
  })
  @ApiOkResponse({ type: WebhookUploadResponse })
  async uploadMedia(
    @Query('key') key: unknown,
    @Query('type') type: unknown,
    @Req() request: FastifyRequest,
  ): Promise<WebhookUploadResponse> {
    const uploaded = await this.robots.uploadMedia(
      typeof key === 'string' ? key : undefined,
      typeof type === 'string' ? type : undefined,
      (limit) => readMultipartMedia(request, 'file', limit),
    );
    return {
      errcode: 0,
      errmsg: 'ok',
      type: 'file',
      media_id: uploaded.mediaId,
      created_at: String(Math.floor(uploaded.createdAt.getTime() / 1000)),
    };
  }
}
