import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, PlatformAdminGuard, type Principal } from '@qiwei/auth';
import { asCorpId, CORP_ID_PATTERN, Idempotent } from '@qiwei/persistence';
import { DomainException, NotFoundException, ValidationFailedException } from '@qiwei/platform';
import { DataSource } from 'typeorm';
import { Member } from '../members/member.entity';
import { AccessTokensService } from '../tokens/access-tokens.service';
import { Corp } from './corp.entity';
import { CreateCorpUseCase } from './create-corp.usecase';
import {
  AccessTokenResponse,
  CorpResponse,
  CreateCorpDto,
  CreatedCorpResponse,
  IssueAdminTokenDto,
} from './dto/corp.dto';

class CorpNotFoundException extends NotFoundException {
  constructor(corpId: string) {
    super('CORP_NOT_FOUND', `Corp ${corpId} does not exist.`);
  }
}

@ApiTags('corps')
@ApiBearerAuth()
@Controller('v1/corps')
export class CorpsController {
  constructor(
    private readonly createCorp: CreateCorpUseCase,
    private readonly dataSource: DataSource,
    private readonly tokens: AccessTokensService,
  ) {}

  @Post()
  @UseGuards(PlatformAdminGuard)
  @Idempotent()
  @ApiOperation({
    summary: 'Create a corp with its root department and first super admin (platform admin token)',
  })
  @ApiCreatedResponse({ type: CreatedCorpResponse })
  create(@Body() body: CreateCorpDto): Promise<CreatedCorpResponse> {
    return this.createCorp.execute(body);
  }

  @Get('current')
  @UseGuards(BearerAuthGuard)
  @ApiOperation({ summary: "The caller's corp" })
  @ApiOkResponse({ type: CorpResponse })
  async current(@CurrentPrincipal() principal: Principal): Promise<CorpResponse> {
    const corp = await this.dataSource.getRepository(Corp).findOneBy({ corpId: principal.corpId });
    if (!corp) throw new CorpNotFoundException(principal.corpId);
    return { corpId: corp.corpId, name: corp.name, createdAt: corp.createdAt.toISOString() };
  }

  /** The operator's way back in for a corp's super admin until member sign-in exists. */
  @Post(':corpId/admin-tokens')
  @HttpCode(201)
  @UseGuards(PlatformAdminGuard)
  @ApiOperation({
    summary: 'Issue an access token for a super admin of a corp (platform admin token)',
  })
  @ApiCreatedResponse({ type: AccessTokenResponse })
  async issueAdminToken(@Param('corpId') corpIdParam: string, @Body() body: IssueAdminTokenDto) {
    if (!CORP_ID_PATTERN.test(corpIdParam)) {
      throw new ValidationFailedException([
        {
          field: 'corpId',
          code: 'CORP_ID_INVALID',
          message: 'corpId is `ww` followed by 16 hex digits',
        },
      ]);
    }
    const corpId = asCorpId(corpIdParam);
    const member = await this.dataSource
      .getRepository(Member)
      .findOneBy({ corpId, userid: body.userid });
    if (!member) {
      if (!(await this.dataSource.getRepository(Corp).existsBy({ corpId })))
        throw new CorpNotFoundException(corpId);
      throw new NotFoundException(
        'MEMBER_NOT_FOUND',
        `Member ${body.userid} does not exist in corp ${corpId}.`,
      );
    }
    if (member.status !== 'active' || !member.roles.includes('super_admin')) {
      throw new DomainException(
        'NOT_AN_ACTIVE_SUPER_ADMIN',
        422,
        `Member ${body.userid} is not an active super admin.`,
      );
    }
    return this.tokens.issue({ corpId, userId: member.userid, roles: member.roles });
  }
}
