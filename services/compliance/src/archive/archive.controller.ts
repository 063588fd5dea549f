import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import type { Canonical } from '../chain/hash-chain';
import { ArchiveService } from './archive.service';
import {
  archiveFilterOf,
  ArchivedRecordResponse,
  ChainReportResponse,
  ConversationContextResponse,
  ConversationQuery,
  SearchArchiveDto,
  SearchHitResponse,
  SearchPageResponse,
  VerifyResponse,
} from './dto/archive.dto';
import { UuidPipe } from './uuid.pipe';

@ApiTags('archive')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('compliance_officer')
@Controller('v1/archive')
export class ArchiveController {
  constructor(private readonly archive: ArchiveService) {}

  @Post('search')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Search the corp’s archive (compliance officers, within their department coverage): keywords, people, conversation, sender’s departments, type, attachments, time; by time or relevance. Recorded in the access log',
  })
  @ApiOkResponse({ type: SearchPageResponse })
  async search(
    @CurrentPrincipal() caller: Principal,
    @Body() body: SearchArchiveDto,
  ): Promise<SearchPageResponse> {
    const found = await this.archive.search(
      caller,
      {
        ...archiveFilterOf(body),
        sort: body.sort ?? 'time',
        limit: body.limit ?? 20,
        cursor: body.cursor,
      },
      JSON.parse(JSON.stringify(body)) as { [key: string]: Canonical },
    );
    return {
      items: found.items.map((hit) => SearchHitResponse.ofHit(hit)),
      nextCursor: found.nextCursor,
    };
  }

  @Get('conversations/:id')
  @ApiOperation({
    summary: 'A conversation’s archived records in order around a moment (context view). Recorded',
  })
  @ApiOkResponse({ type: ConversationContextResponse })
  async conversation(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Query() query: ConversationQuery,
  ): Promise<ConversationContextResponse> {
    const context = await this.archive.conversation(
      caller,
      id,
      query.around ? new Date(query.around) : undefined,
      query.limit ?? 50,
    );
    return {
      conversation: context.conversation,
      records: context.records.map((r) => ArchivedRecordResponse.of(r)),
    };
  }

  @Get('verify')
  @ApiOperation({
    summary:
      'Recompute the corp’s archive and access-log hash chains, check the signed heads, report the first broken link',
  })
  @ApiOkResponse({ type: VerifyResponse })
  async verify(@CurrentPrincipal() caller: Principal): Promise<VerifyResponse> {
    const report = await this.archive.verify(caller);
    return {
      ok: report.ok,
      archive: ChainReportResponse.of(report.archive),
      accessLog: ChainReportResponse.of(report.accessLog),
    };
  }
}
