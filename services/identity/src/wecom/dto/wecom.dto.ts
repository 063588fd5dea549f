import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsOptional, IsString, MaxLength } from 'class-validator';

export const INT32_MAX = 2_147_483_647;

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
