import { Body, Controller, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { WebhookMessageDto, WebhookResultResponse } from './dto/webhook.dto';
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
      'A robot posts into its group (msgtype text, markdown, image, news); errors as {errcode, errmsg} with HTTP 200',
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
}
