import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  StreamableFile,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import type { FastifyReply } from 'fastify';
import { ROOT_DEPARTMENT_ID } from '../departments/department.entity';
import { PageQuery } from '../pagination/cursor';
import {
  MemberExportQuery,
  MemberImportQuery,
  MemberImportResponse,
  MemberImportRowsPage,
  TemplateQuery,
} from './dto/member-import.dto';
import type { Access } from '../access/access';
import { CurrentAccess } from '../access/current-access';
import { ExportMembersUseCase } from './export-members.usecase';
import { ImportFileTypeUnsupportedException } from './imports.exceptions';
import { MemberImportsService } from './member-imports.service';
import { csvTemplate, XLSX_CONTENT_TYPE } from './member-sheet-writer';

/** Content types an upload may declare; what the bytes really are is sniffed from them. */
export const SHEET_CONTENT_TYPES = [
  'text/csv',
  'application/csv',
  XLSX_CONTENT_TYPE,
  'application/vnd.ms-excel', // what Windows browsers call a .csv file
  'application/octet-stream',
];

/** An ASCII name for old clients, the Chinese one (RFC 5987) for the others. */
const attachment = (ascii: string, name: string) =>
  `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;

@ApiTags('member import and export')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('super_admin')
@Controller('v1')
export class MemberImportsController {
  constructor(
    private readonly imports: MemberImportsService,
    private readonly exporter: ExportMembersUseCase,
  ) {}

  @Post('member-imports')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Upload a member sheet (CSV or XLSX) to import in the background',
    description:
      'The body is the file itself (not multipart), with its Content-Type. The file is refused ' +
      'whole, creating no job, when it is not CSV/XLSX, its first row is not the template header, ' +
      'it has more rows than IMPORT_MAX_ROWS or more bytes than IMPORT_MAX_FILE_BYTES (413). ' +
      'Poll the returned job (Location) for progress and results.',
  })
  @ApiConsumes(...SHEET_CONTENT_TYPES)
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiAcceptedResponse({ type: MemberImportResponse })
  async upload(
    @CurrentPrincipal() principal: Principal,
    @Query() query: MemberImportQuery,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MemberImportResponse> {
    if (!Buffer.isBuffer(body) || body.length === 0) throw new ImportFileTypeUnsupportedException();
    const job = await this.imports.upload(principal.corpId, query.mode ?? 'add', body);
    void reply.header('location', `/v1/member-imports/${job.id}`);
    return job;
  }

  @Get('member-imports/template')
  @ApiOperation({ summary: 'The member sheet template (XLSX, or CSV with a BOM)' })
  @ApiProduces(XLSX_CONTENT_TYPE, 'text/csv')
  async template(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TemplateQuery,
  ): Promise<StreamableFile> {
    if (query.format === 'csv') {
      return new StreamableFile(Buffer.from(csvTemplate()), {
        type: 'text/csv; charset=utf-8',
        disposition: attachment('member-template.csv', '成员导入模板.csv'),
      });
    }
    return new StreamableFile(await this.imports.xlsxTemplate(principal.corpId), {
      type: XLSX_CONTENT_TYPE,
      disposition: attachment('member-template.xlsx', '成员导入模板.xlsx'),
    });
  }

  @Get('member-imports/:id')
  @ApiOperation({ summary: 'An import job: status, progress and counts' })
  @ApiOkResponse({ type: MemberImportResponse })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<MemberImportResponse> {
    return this.imports.get(principal.corpId, id);
  }

  @Get('member-imports/:id/rejections')
  @ApiOperation({
    summary: 'The rows an import did not apply, by row: field, reason code and message',
  })
  @ApiOkResponse({ type: MemberImportRowsPage })
  rejections(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: PageQuery,
  ): Promise<MemberImportRowsPage> {
    return this.imports.rows(principal.corpId, id, query.limit ?? 100, query.cursor);
  }

  @Get('member-export')
  // Department admins too: the use case needs `data:export` on the whole subtree exported.
  @RequireRoles('super_admin', 'department_admin')
  @ApiOperation({
    summary: 'Export members of a department’s subtree (the whole corp by default) as XLSX',
    description: 'The columns of the import template, so the file can be imported again.',
  })
  @ApiProduces(XLSX_CONTENT_TYPE)
  async export(
    @CurrentAccess() access: Access,
    @Query() query: MemberExportQuery,
  ): Promise<StreamableFile> {
    const stream = await this.exporter.execute(access, query.departmentId ?? ROOT_DEPARTMENT_ID);
    return new StreamableFile(stream, {
      type: XLSX_CONTENT_TYPE,
      disposition: attachment('members.xlsx', '成员.xlsx'),
    });
  }
}
