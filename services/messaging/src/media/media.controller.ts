import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, type Principal } from '@qiwei/auth';
import { Inject } from '@nestjs/common';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { UuidPipe } from '../http/uuid.pipe';
import {
  CompleteUploadDto,
  DownloadResponse,
  MediaResponse,
  RequestUploadDto,
  UploadResponse,
} from './dto/media.dto';
import { MediaService } from './media.service';

@ApiTags('media')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/media')
export class MediaController {
  constructor(
    private readonly media: MediaService,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  @Post('uploads')
  @ApiOperation({
    summary:
      'Ask to upload media: presigned URL(s) to PUT the bytes to object storage (in parts when large)',
  })
  @ApiCreatedResponse({ type: UploadResponse })
  async request(
    @CurrentPrincipal() caller: Principal,
    @Body() body: RequestUploadDto,
  ): Promise<UploadResponse> {
    const instructions = await this.media.requestUpload(caller, body);
    return {
      ...MediaResponse.of(instructions.media),
      upload: instructions.upload,
      expiresInSeconds: instructions.expiresInSeconds,
    };
  }

  @Post('uploads/:id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Finish an upload: size and SHA-256 are checked, then it can be sent' })
  @ApiOkResponse({ type: MediaResponse })
  async complete(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: CompleteUploadDto,
  ): Promise<MediaResponse> {
    return MediaResponse.of(await this.media.complete(caller, id, body.parts));
  }

  @Get(':id')
  @ApiOperation({
    summary: 'A download URL: for the uploader and participants of a conversation carrying it',
  })
  @ApiOkResponse({ type: DownloadResponse })
  async download(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<DownloadResponse> {
    const { media, url } = await this.media.downloadUrl(caller, id);
    return {
      ...MediaResponse.of(media),
      url,
      expiresInSeconds: this.config.MEDIA_URL_EXPIRY_SECONDS,
    };
  }
}
