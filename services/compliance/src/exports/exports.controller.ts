import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { DEFAULT_PAGE_SIZE, PageQuery } from '@qiwei/platform';
import { archiveFilterOf } from '../archive/dto/archive.dto';
import { UuidPipe } from '../archive/uuid.pipe';
import {
  CreateExportDto,
  ExportDownloadResponse,
  ExportPageResponse,
  ExportResponse,
} from './dto/export.dto';
import { ExportsService } from './exports.service';

@ApiTags('archive exports')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('compliance_officer')
@Controller('v1/archive/exports')
export class ExportsController {
  constructor(private readonly exports: ExportsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Export what a search finds (within the officer’s coverage) as JSONL and CSV with media and a manifest of hashes and chain positions; produced in the background. Recorded',
  })
  @ApiAcceptedResponse({ type: ExportResponse })
  async create(
    @CurrentPrincipal() caller: Principal,
    @Body() body: CreateExportDto,
  ): Promise<ExportResponse> {
    const job = await this.exports.request(
      caller,
      { kind: 'search' },
      [archiveFilterOf(body.filter)],
      { formats: body.formats ?? ['jsonl', 'csv'], includeMedia: body.includeMedia ?? true },
    );
    return ExportResponse.of(job);
  }

  @Get()
  @ApiOperation({ summary: 'The caller’s exports, newest first' })
  @ApiOkResponse({ type: ExportPageResponse })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: PageQuery,
  ): Promise<ExportPageResponse> {
    const page = await this.exports.list(caller, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
    return { items: page.items.map((j) => ExportResponse.of(j)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'An export’s status and progress' })
  @ApiOkResponse({ type: ExportResponse })
  async get(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<ExportResponse> {
    return ExportResponse.of(await this.exports.get(caller, id));
  }

  @Post(':id/download')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A short-lived presigned URL of the finished zip (409 EXPORT_NOT_READY before). Recorded',
  })
  @ApiOkResponse({ type: ExportDownloadResponse })
  async download(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<ExportDownloadResponse> {
    const link = await this.exports.download(caller, id);
    return { ...link, expiresAt: link.expiresAt.toISOString() };
  }
}
