import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import type { MemberImport } from '../member-import.entity';
import { headerOf } from '../member-sheet';
import type { RowIssue } from '../member-rows';

export class MemberImportQuery {
  @ApiPropertyOptional({
    enum: ['add', 'overwrite'],
    default: 'add',
    description:
      '`add` (新增不存在的成员): new members only; rows of existing userids are skipped. ' +
      '`overwrite` (覆盖现有成员): existing members are updated too, and missing departments created.',
  })
  @IsOptional()
  @IsIn(['add', 'overwrite'])
  mode?: 'add' | 'overwrite';
}

export class TemplateQuery {
  @ApiPropertyOptional({ enum: ['xlsx', 'csv'], default: 'xlsx' })
  @IsOptional()
  @IsIn(['xlsx', 'csv'])
  format?: 'xlsx' | 'csv';
}

export class MemberExportQuery {
  @ApiPropertyOptional({
    description: 'Export this department’s whole subtree; the whole corp when absent',
    default: 1,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  departmentId?: number;
}

export class MemberImportResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['add', 'overwrite'] }) mode!: string;
  @ApiProperty({ enum: ['csv', 'xlsx'] }) format!: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed'] }) status!: string;
  @ApiProperty({ description: 'Member rows in the file (blank rows not counted)' })
  totalRows!: number;
  @ApiProperty({ description: 'Rows processed so far' }) processedRows!: number;
  @ApiProperty({ description: 'New members' }) created!: number;
  @ApiProperty({ description: 'Existing members changed (overwrite)' }) updated!: number;
  @ApiProperty({ description: 'Existing members the file left as they were (overwrite)' })
  unchanged!: number;
  @ApiProperty({ description: 'Existing members left alone (add)' }) skipped!: number;
  @ApiProperty({ description: 'Rows refused: see /rejections' }) rejected!: number;
  @ApiProperty() departmentsCreated!: number;
  @ApiProperty({ nullable: true, type: String, description: 'Why a failed job failed' })
  failure!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
}

export function memberImportSummary(job: MemberImport): MemberImportResponse {
  return {
    id: job.id,
    mode: job.mode,
    format: job.format,
    status: job.status,
    totalRows: job.totalRows,
    processedRows: job.processedRows,
    created: job.createdCount,
    updated: job.updatedCount,
    unchanged: job.unchangedCount,
    skipped: job.skippedCount,
    rejected: job.rejectedCount,
    departmentsCreated: job.departmentsCreated,
    failure: job.failure,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

export class MemberImportRowResponse {
  @ApiProperty({ description: 'The row as the spreadsheet numbers it (the header is row 1)' })
  row!: number;
  @ApiProperty({ enum: ['rejected', 'skipped'] }) outcome!: string;
  @ApiProperty({ enum: ['name', 'userid', 'mobile', 'email', 'departments', 'position'] })
  field!: string;
  @ApiProperty({ example: '手机', description: 'The column’s header' }) column!: string;
  @ApiProperty({ example: 'MOBILE_INVALID' }) code!: string;
  @ApiProperty() message!: string;

  static of(issue: RowIssue): MemberImportRowResponse {
    return {
      row: issue.row,
      outcome: issue.outcome,
      field: issue.field,
      column: headerOf(issue.field),
      code: issue.code,
      message: issue.message,
    };
  }
}

export class MemberImportRowsPage {
  @ApiProperty({ type: [MemberImportRowResponse] }) items!: MemberImportRowResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
