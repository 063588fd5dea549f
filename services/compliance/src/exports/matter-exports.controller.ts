import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { UuidPipe } from '../archive/uuid.pipe';
import { ExportOptionsDto, ExportResponse } from './dto/export.dto';
import { ExportsService } from './exports.service';

/**
 * Export of a legal matter: officers only (an export is scoped by the officer's coverage), the
 * job followed and downloaded like any export (`/v1/archive/exports/{id}`).
 */
@ApiTags('archive exports')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('compliance_officer')
@Controller('v1/archive/matters')
export class MatterExportsController {
  constructor(private readonly exports: ExportsService) {}

  @Post(':id/exports')
  @HttpCode(202)
  @ApiParam({ name: 'id', format: 'uuid', description: 'The legal matter' })
  @ApiOperation({
    summary:
      'Export what a legal matter holds (its custodians’ conversations, conversations and time range; within the officer’s coverage) as JSONL and CSV with media and a manifest; produced in the background, followed at /v1/archive/exports/{id}. Recorded',
  })
  @ApiAcceptedResponse({ type: ExportResponse })
  async create(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: ExportOptionsDto,
  ): Promise<ExportResponse> {
    const job = await this.exports.requestMatter(caller, id, {
      formats: body.formats ?? ['jsonl', 'csv'],
      includeMedia: body.includeMedia ?? true,
    });
    return ExportResponse.of(job);
  }
}
