import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsString, MaxLength } from 'class-validator';
import { WECOM_MEDIA_TYPES } from '@qiwei/wecom';
import { WecomQuery } from './wecom-message.dto';

export class WecomUploadQuery extends WecomQuery {
  @ApiProperty({ enum: WECOM_MEDIA_TYPES, description: 'Others answer errcode 40004' })
  @IsDefined()
  @IsString()
  @MaxLength(16)
  type!: string;
}

export class WecomMediaQuery extends WecomQuery {
  @ApiProperty({ description: 'From media/upload (errcode 41006 missing, 40007 unknown)' })
  @IsDefined()
  @IsString()
  @MaxLength(128)
  media_id!: string;
}

export class WecomUploadResponse {
  @ApiProperty({ example: 0 }) errcode!: number;
  @ApiProperty({ example: 'ok' }) errmsg!: string;
  @ApiProperty({ enum: WECOM_MEDIA_TYPES }) type!: string;
  @ApiProperty({ description: 'Valid three days, within the corp' }) media_id!: string;
  @ApiProperty({ description: 'Unix seconds, as a string (as WeCom)' }) created_at!: string;
}
