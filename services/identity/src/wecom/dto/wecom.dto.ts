import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

const INT32_MAX = 2_147_483_647;

/** A required id (1 … 2^31-1); `fromQuery`: converted from the query string's text first. */
export const RequiredId = (fromQuery = false) =>
  applyDecorators(
    IsDefined(),
    ...(fromQuery ? [Type(() => Number)] : []),
    IsInt(),
    Min(1),
    Max(INT32_MAX),
  );

/** An optional integer from `min` to 2^31-1; `fromQuery`: converted from text first. */
export const OptionalInt = (min: number, fromQuery = false) =>
  applyDecorators(
    IsOptional(),
    ...(fromQuery ? [Type(() => Number)] : []),
    IsInt(),
    Min(min),
    Max(INT32_MAX),
  );

/** An array of at most `maxSize` integers from `min` to 2^31-1. */
export const IntList = (maxSize: number, min: number) =>
  applyDecorators(
    IsArray(),
    ArrayMaxSize(maxSize),
    IsInt({ each: true }),
    Min(min, { each: true }),
    Max(INT32_MAX, { each: true }),
  );

/** A string field WeCom documents and Qiwei does not keep: type-checked, then ignored. */
export const IgnoredString = (maxLength: number) =>
  applyDecorators(
    ApiPropertyOptional({ description: 'Accepted and ignored' }),
    IsOptional(),
    IsString(),
    MaxLength(maxLength),
  );

/** The envelope every /cgi-bin answer carries; errors come with HTTP 200 too. */
export class WecomResponse {
  @ApiProperty({ example: 0, description: '0 on success; see the README for the errcode table' })
  errcode!: number;
  @ApiProperty({ example: 'ok' })
  errmsg!: string;
}

/** A success in WeCom's envelope. */
export const wecomOk = <T extends object>(body: T, errmsg = 'ok'): T & WecomResponse => ({
  errcode: 0,
  errmsg,
  ...body,
});

/**
 * `?access_token=` (checked by the guard before validation, documented by `WecomApi`) and
 * WeCom's `debug` flag (ignored).
 */
export class WecomQuery {
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  access_token?: string;

  @ApiPropertyOptional({ description: 'WeCom’s debug mode: accepted and ignored' })
  @IsOptional()
  @IsString()
  @MaxLength(8)
  debug?: string;
}

export class GetTokenQuery {
  @ApiProperty({ description: 'The corp id (ww…)' })
  @IsDefined()
  @IsString()
  @MaxLength(64)
  corpid!: string;

  @ApiProperty({ description: 'The app’s secret' })
  @IsDefined()
  @IsString()
  @MaxLength(256)
  corpsecret!: string;
}

export class GetTokenResponse extends WecomResponse {
  @ApiProperty() access_token!: string;
  @ApiProperty({ example: 7200 }) expires_in!: number;
}
