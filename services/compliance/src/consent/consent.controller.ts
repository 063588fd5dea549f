import { Body, Controller, Get, Param, Put, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { DEFAULT_PAGE_SIZE, PageQuery, ValidationFailedException } from '@qiwei/platform';
import { IsIn, IsOptional, Matches } from 'class-validator';
import {
  CONSENT_STATUSES,
  ConsentService,
  type ConsentState,
  type ConsentStatus,
} from './consent.service';

const USERID = /^[A-Za-z0-9_@.-]{1,64}$/;

export class SetConsentDto {
  @ApiProperty({
    enum: CONSENT_STATUSES,
    description:
      '`agree` and `default_agree` let messages be archived in full; `disagree` does not',
  })
  @IsIn(CONSENT_STATUSES)
  status!: ConsentStatus;

  @ApiPropertyOptional({
    description:
      'The member this consent is towards (their one-to-one chat); omit for every member of the corp',
  })
  @IsOptional()
  @Matches(USERID, { message: 'userid is a member userid' })
  userid?: string;
}

export class ConsentQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(USERID, { message: 'externalUserid is an external userid' })
  externalUserid?: string;

  @ApiPropertyOptional({ description: 'Only pair states towards this member' })
  @IsOptional()
  @Matches(USERID, { message: 'userid is a member userid' })
  userid?: string;
}

export class ConsentResponse {
  @ApiProperty() externalUserid!: string;
  @ApiProperty({ nullable: true, type: String, description: 'null: towards every member' })
  userid!: string | null;
  @ApiProperty({ enum: CONSENT_STATUSES }) status!: string;
  @ApiProperty({ enum: ['api', 'event'] }) source!: string;
  @ApiProperty() changedBy!: string;
  @ApiProperty() changedAt!: string;

  static of(s: ConsentState): ConsentResponse {
    return {
      externalUserid: s.externalUserid,
      userid: s.userid,
      status: s.status,
      source: s.source,
      changedBy: s.changedBy,
      changedAt: s.changedAt.toISOString(),
    };
  }
}

export class ConsentPageResponse {
  @ApiProperty({ type: [ConsentResponse] }) items!: ConsentResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

@ApiTags('consent')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('compliance_officer', 'super_admin')
@Controller('v1/archive/consents')
export class ConsentController {
  constructor(private readonly consent: ConsentService) {}

  @Put(':externalUserid')
  @ApiOperation({
    summary:
      'Set an external contact’s archiving consent (officers, super admins; recorded in the access log). Applies to messages archived from now on',
  })
  @ApiOkResponse({ type: ConsentResponse })
  async set(
    @CurrentPrincipal() caller: Principal,
    @Param('externalUserid') externalUserid: string,
    @Body() body: SetConsentDto,
  ): Promise<ConsentResponse> {
    if (!USERID.test(externalUserid))
      throw new ValidationFailedException([
        {
          field: 'externalUserid',
          code: 'EXTERNAL_USERID_INVALID',
          message: 'externalUserid is an external userid (1–64 of A-Z a-z 0-9 _ @ . -)',
        },
      ]);
    const { state } = await this.consent.set(caller, {
      externalUserid,
      userid: body.userid ?? null,
      status: body.status,
    });
    return ConsentResponse.of(state);
  }

  @Get()
  @ApiOperation({ summary: 'External contacts’ archiving consent states' })
  @ApiOkResponse({ type: ConsentPageResponse })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: ConsentQuery,
  ): Promise<ConsentPageResponse> {
    const page = await this.consent.list(caller.corpId, {
      externalUserid: query.externalUserid,
      userid: query.userid,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    });
    return { items: page.items.map((s) => ConsentResponse.of(s)), nextCursor: page.nextCursor };
  }
}
