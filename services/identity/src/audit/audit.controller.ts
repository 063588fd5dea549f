import { Controller, Get, Header, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { DomainException } from '@qiwei/platform';
import { IsDateString, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { DataSource } from 'typeorm';
import { PageQuery } from '../pagination/cursor';

const EXPORT_LIMIT = 100_000;

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'member.disabled' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_.]{1,64}$/)
  action?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  actorId?: string;

  @ApiPropertyOptional({ example: 'member' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,32}$/)
  targetType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  targetId?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, inclusive' })
  @IsOptional()
  @IsDateString()
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, exclusive' })
  @IsOptional()
  @IsDateString()
  to?: string;

  /** The id of the last entry of the previous page (the generic cursor's checks, and digits only). */
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @Matches(/^[0-9]{1,19}$/, { message: 'cursor is the nextCursor of the previous page' })
  override cursor?: string;
}

class AuditEntryResponse {
  @ApiProperty() id!: string;
  @ApiProperty() at!: string;
  @ApiProperty({ enum: ['member', 'platform', 'anonymous'] }) actorType!: string;
  @ApiProperty({ nullable: true, type: String }) actorId!: string | null;
  @ApiProperty() action!: string;
  @ApiProperty() targetType!: string;
  @ApiProperty() targetId!: string;
  @ApiProperty({ nullable: true }) before!: unknown;
  @ApiProperty({ nullable: true }) after!: unknown;
  @ApiProperty({ nullable: true, type: String }) ip!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
}

class AuditPageResponse {
  @ApiProperty({ type: [AuditEntryResponse] }) items!: AuditEntryResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

interface AuditRow {
  id: string;
  at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  before: unknown;
  after: unknown;
  ip: string | null;
  request_id: string | null;
}

const toEntry = (r: AuditRow): AuditEntryResponse => ({
  id: r.id,
  at: r.at.toISOString(),
  actorType: r.actor_type,
  actorId: r.actor_id,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  before: r.before,
  after: r.after,
  ip: r.ip,
  requestId: r.request_id,
});

const csvCell = (value: unknown) => {
  const text =
    value === null || value === undefined
      ? ''
      : typeof value === 'string'
        ? value
        : JSON.stringify(value);
  // Quote everything; neutralise spreadsheet formulas.
  return `"${(/^[=+\-@]/.test(text) ? `'${text}` : text).replace(/"/g, '""')}"`;
};

/** The audit log, for super admins: every administrative and sensitive action, newest first. */
@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('super_admin')
@Controller('v1/audit-logs')
export class AuditController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'Query the audit log (newest first, cursor-paginated)' })
  @ApiOkResponse({ type: AuditPageResponse })
  async query(
    @CurrentPrincipal() principal: Principal,
    @Query() query: AuditQuery,
  ): Promise<AuditPageResponse> {
    const limit = query.limit ?? 100;
    const rows = await this.select(principal.corpId, query, limit + 1);
    const items = rows.slice(0, limit).map(toEntry);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  @Get('export')
  @Header('content-type', 'text/csv; charset=utf-8')
  @Header('content-disposition', 'attachment; filename="audit-log.csv"')
  @ApiProduces('text/csv')
  @ApiOperation({
    summary: `Export matching entries as CSV (at most ${EXPORT_LIMIT.toLocaleString('en-US')}; narrow with from/to)`,
  })
  async export(
    @CurrentPrincipal() principal: Principal,
    @Query() query: AuditQuery,
  ): Promise<string> {
    const rows = await this.select(
      principal.corpId,
      { ...query, cursor: undefined },
      EXPORT_LIMIT + 1,
    );
    if (rows.length > EXPORT_LIMIT) {
      throw new DomainException(
        'EXPORT_TOO_LARGE',
        422,
        `More than ${EXPORT_LIMIT} entries match: narrow the export with from/to.`,
      );
    }
    const header = [
      'id',
      'at',
      'actorType',
      'actorId',
      'action',
      'targetType',
      'targetId',
      'before',
      'after',
      'ip',
      'requestId',
    ];
    const lines = rows
      .map(toEntry)
      .map((e) =>
        [
          e.id,
          e.at,
          e.actorType,
          e.actorId,
          e.action,
          e.targetType,
          e.targetId,
          e.before,
          e.after,
          e.ip,
          e.requestId,
        ]
          .map(csvCell)
          .join(','),
      );
    // A BOM so spreadsheet software reads the Chinese text as UTF-8.
    return `\uFEFF${header.join(',')}\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
  }

  private select(corpId: string, query: AuditQuery, limit: number): Promise<AuditRow[]> {
    const where = ['corp_id = $1'];
    const params: unknown[] = [corpId];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (query.action) add('action = ?', query.action);
    if (query.actorId) add('actor_id = ?', query.actorId);
    if (query.targetType) add('target_type = ?', query.targetType);
    if (query.targetId) add('target_id = ?', query.targetId);
    if (query.from) add('at >= ?', query.from);
    if (query.to) add('at < ?', query.to);
    if (query.cursor) add('id < ?', query.cursor);
    params.push(limit);
    return this.dataSource.query<AuditRow[]>(
      `SELECT id, at, actor_type, actor_id, action, target_type, target_id, before, after, ip, request_id
         FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
  }
}
