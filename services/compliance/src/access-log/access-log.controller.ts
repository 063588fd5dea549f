import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { DEFAULT_PAGE_SIZE, PageQuery } from '@qiwei/platform';
import { IsOptional, Matches } from 'class-validator';
import { AccessLog, type AccessEntry } from './access-log';

export class AccessLogQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[A-Za-z0-9_@.-]{1,64}$/, { message: 'actor is a userid' })
  actor?: string;

  @ApiPropertyOptional({ description: 'e.g. archive.search' })
  @IsOptional()
  @Matches(/^[a-z_]{1,16}\.[a-z_]{1,32}$/, { message: 'action is like archive.search' })
  action?: string;
}

export class AccessEntryResponse {
  @ApiProperty() chainSeq!: number;
  @ApiProperty() actor!: string;
  @ApiProperty() action!: string;
  @ApiProperty({ type: Object, description: 'The query and filters, or what was decided' })
  query!: object;
  @ApiProperty() resultCount!: number;
  @ApiProperty() at!: string;
  @ApiProperty() hash!: string;

  static of(e: AccessEntry): AccessEntryResponse {
    return {
      chainSeq: e.chainSeq,
      actor: e.actor,
      action: e.action,
      query: e.query,
      resultCount: e.resultCount,
      at: e.at.toISOString(),
      hash: e.hash.toString('hex'),
    };
  }
}

export class AccessLogPageResponse {
  @ApiProperty({ type: [AccessEntryResponse] }) items!: AccessEntryResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

@ApiTags('access log')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('super_admin')
@Controller('v1/archive/access-log')
export class AccessLogController {
  constructor(private readonly accessLog: AccessLog) {}

  @Get()
  @ApiOperation({
    summary: 'Every search, view, verification and alert decision on the archive (super admins)',
  })
  @ApiOkResponse({ type: AccessLogPageResponse })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: AccessLogQuery,
  ): Promise<AccessLogPageResponse> {
    const page = await this.accessLog.list(caller.corpId, {
      actor: query.actor,
      action: query.action,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    });
    return { items: page.items.map((e) => AccessEntryResponse.of(e)), nextCursor: page.nextCursor };
  }
}
