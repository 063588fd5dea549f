import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  MEDIA_KINDS,
  type MediaKind,
  type MediaRecord,
  type UploadInstructions,
} from '../media.service';

export class RequestUploadDto {
  @ApiProperty({ enum: MEDIA_KINDS })
  @IsIn(MEDIA_KINDS)
  kind!: MediaKind;

  @ApiProperty({ example: '季度报告.pdf' })
  @IsString()
  @Length(1, 255)
  @Matches(/^[^/\\\0]+$/, { message: 'filename must not contain / \\ or NUL' })
  filename!: string;

  @ApiProperty({ example: 'application/pdf' })
  @IsString()
  @MaxLength(127)
  @Matches(/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i, { message: 'contentType must be a MIME type' })
  contentType!: string;

  @ApiProperty({ description: 'Bytes; limits per kind (MEDIA_MAX_*_BYTES)' })
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  size!: number;

  @ApiProperty({ description: 'Hex SHA-256 of the bytes, checked on completion' })
  @IsString()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'sha256 must be 64 hex digits' })
  sha256!: string;
}

class PartDto {
  @ApiProperty()
  @IsInt()
  @Min(1)
  @Max(10_000)
  partNumber!: number;

  @ApiProperty({ description: 'The ETag header the part’s PUT answered' })
  @IsString()
  @Length(1, 128)
  etag!: string;
}

export class CompleteUploadDto {
  @ApiPropertyOptional({ type: [PartDto], description: 'Multipart uploads: every part' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10_000)
  @ValidateNested({ each: true })
  @Type(() => PartDto)
  parts?: PartDto[];
}

export class MediaResponse {
  @ApiProperty() mediaId!: string;
  @ApiProperty({ enum: MEDIA_KINDS }) kind!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() contentType!: string;
  @ApiProperty() size!: number;
  @ApiProperty() sha256!: string;
  @ApiProperty({ enum: ['pending', 'ready'] }) status!: string;

  static of(m: MediaRecord): MediaResponse {
    return {
      mediaId: m.id,
      kind: m.kind,
      filename: m.filename,
      contentType: m.contentType,
      size: m.size,
      sha256: m.sha256,
      status: m.status,
    };
  }
}

export class UploadResponse extends MediaResponse {
  @ApiProperty({
    description:
      '`{method: "PUT", url}`, or `{method: "MULTIPART", partSize, parts: [{partNumber, url}]}`',
  })
  upload!: UploadInstructions['upload'];
  @ApiProperty() expiresInSeconds!: number;
}

export class DownloadResponse extends MediaResponse {
  @ApiProperty({ description: 'Presigned GET URL' }) url!: string;
  @ApiProperty() expiresInSeconds!: number;
}
