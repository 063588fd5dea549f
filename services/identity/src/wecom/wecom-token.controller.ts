import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppsService } from '../apps/apps.service';
import { GetTokenQuery, GetTokenResponse, wecomOk } from './dto/wecom.dto';

/** WeCom's gettoken over the apps use case's token exchange. */
@ApiTags('wecom')
@Controller('cgi-bin')
export class WecomTokenController {
  constructor(private readonly apps: AppsService) {}

  @Get('gettoken')
  @ApiOperation({
    summary: 'An app’s access token from its corp id and secret (errcode 40013 / 40001)',
  })
  @ApiOkResponse({ type: GetTokenResponse })
  async getToken(@Query() query: GetTokenQuery): Promise<GetTokenResponse> {
    const issued = await this.apps.exchange(query.corpid, query.corpsecret);
    return wecomOk({ access_token: issued.accessToken, expires_in: issued.expiresIn });
  }
}
