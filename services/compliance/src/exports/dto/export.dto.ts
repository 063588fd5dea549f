import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  ValidateNested,
} from 'class-validator';
import { ArchiveFilterDto } from '../../archive/dto/archive.dto';
import { EXPORT_FORMATS, type ExportFormat, type ExportJob } from '../export-job';

/** What to put in the bundle: shared by exports of a search and of a legal matter. */
export class ExportOptionsDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, isArray: true, default: ['jsonl', 'csv'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2)
  @IsIn(EXPORT_FORMATS, { each: true })
  formats?: ExportFormat[];

  @ApiPropertyOptional({ default: true, description: 'Bundle the records’ archived media' })
  @IsOptional()
  @IsBoolean()
  includeMedia?: boolean;
}

export class CreateExportDto extends ExportOptionsDto {
  @ApiProperty({
    type: ArchiveFilterDto,
    description: 'The search filter (as for /v1/archive/search, without sort and paging)',
  })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => ArchiveFilterDto)
  filter!: ArchiveFilterDto;
}

class ExportProgressResponse {
  @ApiProperty({ description: 'Records written so far' }) records!: number;
  @ApiProperty({ description: 'Steps done (pages of EXPORT_CHUNK_SIZE records)' }) chunks!: number;
  @ApiProperty({ description: 'Filters of the source finished' }) filtersDone!: number;
  @ApiProperty() filtersTotal!: number;
}

export class ExportResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['queued', 'running', 'completed', 'failed'] }) status!: string;
  @ApiProperty({ type: Object, description: '{"kind":"search"} or {"kind":"matter","matterId"}' })
  source!: object;
  @ApiProperty({ type: [Object], description: 'The search filters exported' })
  filters!: object[];
  @ApiProperty({ nullable: true, type: [Number], description: 'Department coverage; null: corp' })
  coverage!: number[] | null;
  @ApiProperty({ enum: EXPORT_FORMATS, isArray: true }) formats!: string[];
  @ApiProperty() includeMedia!: boolean;
  @ApiProperty({ type: ExportProgressResponse }) progress!: ExportProgressResponse;
  @ApiProperty({ nullable: true, type: Number, description: 'Media files in the bundle' })
  mediaFiles!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'SHA-256 of the zip (hex)' })
  sha256!: string | null;
  @ApiProperty({ nullable: true, type: Number }) bytes!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why it failed (or last retry)' })
  error!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) completedAt!: string | null;

  static of(job: ExportJob): ExportResponse {
    return {
      id: job.id,
      status: job.status,
      source: job.source,
      filters: job.filters.map((f) => JSON.parse(JSON.stringify(f)) as object),
      coverage: job.coverage,
      formats: job.formats,
      includeMedia: job.includeMedia,
      progress: {
        records: job.records,
        chunks: job.chunks,
        filtersDone: Math.min(job.filterIndex, job.filters.length),
        filtersTotal: job.filters.length,
      },
      mediaFiles: job.mediaFiles,
      sha256: job.sha256,
      bytes: job.bytes,
      error: job.error,
      createdAt: job.createdAt.toISOString(),
      completedAt: job.completedAt?.toISOString() ?? null,
    };
  }
}

export class ExportPageResponse {
  @ApiProperty({ type: [ExportResponse] }) items!: ExportResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class ExportDownloadResponse {
  @ApiProperty({ description: 'Presigned GET URL of the zip' }) url!: string;
  @ApiProperty() expiresAt!: string;
  @ApiProperty() filename!: string;
  @ApiProperty({ description: 'SHA-256 of the zip (hex)' }) sha256!: string;
  @ApiProperty() bytes!: number;
}
