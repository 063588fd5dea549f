import { Controller, Get, Injectable, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { DEFAULT_PAGE_SIZE, PageQuery, decodeCursor, encodeCursor } from '@qiwei/platform';
import { IsIn, IsOptional } from 'class-validator';
import { DataSource } from 'typeorm';
import { Coverage } from '../coverage/coverage';
import type { MediaJobRow, MediaStatus } from './media-archiver';

const STATUSES: MediaStatus[] = ['pending', 'archived', 'fault', 'purging', 'purged'];

type Cursor = { s: number; m: string };
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' &&
  v !== null &&
  Number.isSafeInteger((v as Cursor).s) &&
  typeof (v as Cursor).m === 'string';

/** The archive's copies of message media and how each fared. */
@Injectable()
export class ArchivedMedia {
  constructor(
    private readonly dataSource: DataSource,
    private readonly coverage: Coverage,
  ) {}

  /**
   * The copies of the media of messages within the officer's coverage (whose sender was in one
   * of the officer's department subtrees when archived; the whole corp for an unscoped officer).
   */
  async list(
    caller: Pick<Principal, 'corpId' | 'userId'>,
    filter: { status?: MediaStatus; limit: number; cursor?: string },
  ): Promise<{ items: MediaJobRow[]; nextCursor: string | null }> {
    const cursor = decodeCursor(filter.cursor, isCursor);
    const coverage = await this.coverage.of(caller.corpId, caller.userId);
    const rows = await this.dataSource.query<MediaJobRow[]>(
      `SELECT m.* FROM archive_media m
        WHERE m.corp_id = $1 AND ($2::text IS NULL OR m.status = $2)
          AND ($3::bigint IS NULL OR (m.record_seq, m.media_id) < ($3, $4))
          AND ${Coverage.condition(coverage, '$6', { corpId: 'm.corp_id', chainSeq: 'm.record_seq' })}
        ORDER BY m.record_seq DESC, m.media_id DESC LIMIT $5`,
      [
        caller.corpId,
        filter.status ?? null,
        cursor?.s ?? null,
        cursor?.m ?? '',
        filter.limit + 1,
        coverage,
      ],
    );
    const items = rows.slice(0, filter.limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor:
        rows.length > filter.limit
          ? encodeCursor({ s: Number(last.record_seq), m: last.media_id })
          : null,
    };
  }
}

export class ArchivedMediaQuery extends PageQuery {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: MediaStatus;
}

export class ArchivedMediaResponse {
  @ApiProperty({ description: 'Chain position of the message record' }) recordSeq!: number;
  @ApiProperty() messageId!: string;
  @ApiProperty() mediaId!: string;
  @ApiProperty({
    enum: STATUSES,
    description:
      '`pending` (being copied or retried: see lastError), `archived` (copy verified), `fault` (recorded: no verified copy), `purging`/`purged` (retention)',
  })
  status!: string;
  @ApiProperty() verified!: boolean;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty() sourceBucket!: string;
  @ApiProperty() sourceKey!: string;
  @ApiProperty() archiveBucket!: string;
  @ApiProperty() archiveKey!: string;
  @ApiProperty() expectedSize!: number;
  @ApiProperty() expectedSha256!: string;
  @ApiProperty({ nullable: true, type: Number }) size!: number | null;
  @ApiProperty({ nullable: true, type: String }) sha256!: string | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Chain position of the media.archived / media.fault record',
  })
  resultSeq!: number | null;
  @ApiProperty() updatedAt!: string;

  static of(r: MediaJobRow): ArchivedMediaResponse {
    return {
      recordSeq: Number(r.record_seq),
      messageId: r.message_id,
      mediaId: r.media_id,
      status: r.status,
      verified: r.status === 'archived',
      attempts: r.attempts,
      lastError: r.last_error,
      sourceBucket: r.source_bucket,
      sourceKey: r.source_key,
      archiveBucket: r.archive_bucket,
      archiveKey: r.archive_key,
      expectedSize: Number(r.expected_size),
      expectedSha256: r.expected_sha256,
      size: r.copied_size === null ? null : Number(r.copied_size),
      sha256: r.copied_sha256,
      resultSeq: r.result_seq === null ? null : Number(r.result_seq),
      updatedAt: r.updated_at.toISOString(),
    };
  }
}

export class ArchivedMediaPageResponse {
  @ApiProperty({ type: [ArchivedMediaResponse] }) items!: ArchivedMediaResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

@ApiTags('archive')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('compliance_officer')
@Controller('v1/archive/media')
export class ArchivedMediaController {
  constructor(private readonly media: ArchivedMedia) {}

  @Get()
  @ApiOperation({
    summary:
      'The archive’s copies of message media within the officer’s coverage: verified, pending (with the last error) or faulted (source missing, size or SHA-256 mismatch)',
  })
  @ApiOkResponse({ type: ArchivedMediaPageResponse })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: ArchivedMediaQuery,
  ): Promise<ArchivedMediaPageResponse> {
    const page = await this.media.list(caller, {
      status: query.status,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    });
    return {
      items: page.items.map((r) => ArchivedMediaResponse.of(r)),
      nextCursor: page.nextCursor,
    };
  }
}
