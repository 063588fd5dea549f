import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard } from '@qiwei/auth';
import { PositiveIntPipe, ValidationFailedException } from '@qiwei/platform';
import type { Access } from '../access/access';
import { CurrentAccess } from '../access/current-access';
import { decodeCursor, encodeCursor, isIdCursor, PageQuery } from '../pagination/cursor';
import { AppsService, type AppWithSecret } from './apps.service';
import {
  AppPageResponse,
  AppResponse,
  AppTokenRequestDto,
  AppTokenResponse,
  AppWithSecretResponse,
  CreateAppDto,
  UpdateAppDto,
} from './dto/app.dto';

const withSecret = ({ app, secret }: AppWithSecret): AppWithSecretResponse => ({
  ...AppResponse.of(app),
  secret,
});

@ApiTags('apps')
@Controller('v1/apps')
export class AppsController {
  constructor(private readonly apps: AppsService) {}

  @Post('token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'An app exchanges its corp id and secret for an access token carrying its range',
  })
  @ApiOkResponse({ type: AppTokenResponse })
  async token(@Body() body: AppTokenRequestDto): Promise<AppTokenResponse> {
    const issued = await this.apps.exchange(body.corpId, body.secret);
    return {
      accessToken: issued.accessToken,
      tokenType: issued.tokenType,
      expiresIn: issued.expiresIn,
      agentid: issued.app.agentId,
    };
  }

  @Post()
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  // Not @Idempotent(): a replayed response would have to keep the secret, and only its hash is kept.
  @ApiOperation({
    summary:
      'Create an app (super admin, or department admin with apps:manage for a range inside the scope); the secret is shown once',
  })
  @ApiCreatedResponse({ type: AppWithSecretResponse })
  async create(@CurrentAccess() access: Access, @Body() body: CreateAppDto) {
    return withSecret(await this.apps.create(access, body));
  }

  @Get()
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The apps the caller may manage, by agentid' })
  @ApiOkResponse({ type: AppPageResponse })
  async list(@CurrentAccess() access: Access, @Query() query: PageQuery): Promise<AppPageResponse> {
    const after = decodeCursor(query.cursor, isIdCursor);
    const page = await this.apps.list(access, after?.id ?? 0, query.limit ?? 100);
    const last = page.items[page.items.length - 1];
    return {
      items: page.items.map((a) => AppResponse.of(a)),
      nextCursor: page.more && last ? encodeCursor({ id: last.agentId }) : null,
    };
  }

  @Get(':agentid')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Read an app' })
  @ApiOkResponse({ type: AppResponse })
  async get(
    @CurrentAccess() access: Access,
    @Param('agentid', PositiveIntPipe) agentId: number,
  ): Promise<AppResponse> {
    return AppResponse.of(await this.apps.get(access, agentId));
  }

  @Patch(':agentid')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Rename, describe or change the range of an app' })
  @ApiOkResponse({ type: AppResponse })
  async update(
    @CurrentAccess() access: Access,
    @Param('agentid', PositiveIntPipe) agentId: number,
    @Body() body: UpdateAppDto,
  ): Promise<AppResponse> {
    if (Object.values(body).every((v) => v === undefined)) {
      throw new ValidationFailedException([
        {
          field: '(body)',
          code: 'NOTHING_TO_UPDATE',
          message: 'Give at least one of name, description, range.',
        },
      ]);
    }
    return AppResponse.of(await this.apps.update(access, agentId, body));
  }

  @Post(':agentid/secret')
  @HttpCode(200)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Rotate the secret: the old one and every token issued with it stop working now',
  })
  @ApiOkResponse({ type: AppWithSecretResponse })
  async rotate(
    @CurrentAccess() access: Access,
    @Param('agentid', PositiveIntPipe) agentId: number,
  ): Promise<AppWithSecretResponse> {
    return withSecret(await this.apps.rotateSecret(access, agentId));
  }

  @Delete(':agentid')
  @HttpCode(204)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Delete an app; its tokens stop working' })
  @ApiNoContentResponse()
  async remove(
    @CurrentAccess() access: Access,
    @Param('agentid', PositiveIntPipe) agentId: number,
  ): Promise<void> {
    await this.apps.remove(access, agentId);
  }
}
