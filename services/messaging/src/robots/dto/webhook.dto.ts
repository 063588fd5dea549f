import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

export const WEBHOOK_MSGTYPES = ['text', 'markdown', 'image', 'news', 'file'] as const;
export type WebhookMsgtype = (typeof WEBHOOK_MSGTYPES)[number];

export class WebhookTextDto {
  @ApiProperty({ description: 'UTF-8, at most MESSAGE_TEXT_MAX_BYTES bytes' })
  @IsString()
  @MaxLength(1_048_576)
  content!: string;

  @ApiPropertyOptional({ type: [String], description: 'Userids in the group, or "@all"' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(/^(@all|[A-Za-z0-9_@.-]{1,64})$/, {
    each: true,
    message: 'each of mentioned_list is a userid or @all',
  })
  mentioned_list?: string[];

  @ApiPropertyOptional({
    type: [String],
    description:
      'Mobiles, or "@all" (which mentions everyone). Messaging keeps no mobiles, so other entries are accepted and ignored.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(/^(@all|\+?[0-9][0-9 -]{2,30})$/, {
    each: true,
    message: 'each of mentioned_mobile_list is a mobile number or @all',
  })
  mentioned_mobile_list?: string[];
}

export class WebhookMarkdownDto {
  @ApiProperty({ description: 'Markdown, UTF-8, at most MESSAGE_TEXT_MAX_BYTES bytes' })
  @IsString()
  @MaxLength(1_048_576)
  content!: string;
}

export class WebhookImageDto {
  @ApiProperty({ description: 'The image (JPG or PNG, at most ROBOT_IMAGE_MAX_BYTES), base64' })
  @IsString()
  base64!: string;

  @ApiProperty({ description: 'Hex MD5 of the image’s bytes (before base64)' })
  @IsString()
  @Matches(/^[0-9a-fA-F]{32}$/, { message: 'md5 must be 32 hex digits' })
  md5!: string;
}

export class WebhookArticleDto {
  @ApiProperty({ description: 'At most 128 characters' })
  @IsString()
  @MaxLength(128)
  @Matches(/\S/, { message: 'title must not be blank' })
  title!: string;

  @ApiPropertyOptional({ description: 'At most 512 characters' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  description?: string;

  @ApiProperty({ description: 'Where a click leads (http or https)' })
  @IsString()
  @MaxLength(2048)
  @Matches(/^https?:\/\/\S+$/i, { message: 'url must be an http(s) URL' })
  url!: string;

  @ApiPropertyOptional({ description: 'The picture (http or https)' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @Matches(/^https?:\/\/\S+$/i, { message: 'picurl must be an http(s) URL' })
  picurl?: string;
}

export class WebhookNewsDto {
  @ApiProperty({ type: [WebhookArticleDto], description: '1 to 8 articles' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(8)
  @ValidateNested({ each: true })
  @Type(() => WebhookArticleDto)
  articles!: WebhookArticleDto[];
}

export class WebhookFileDto {
  @ApiProperty({ description: 'From webhook/upload_media of this robot (errcode 40007 otherwise)' })
  @IsDefined()
  @IsString()
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: 'media_id must come from webhook/upload_media',
  })
  media_id!: string;
}

/** WeCom's group robot message: `msgtype` names which one of the others is given. */
export class WebhookMessageDto {
  @ApiProperty({ enum: WEBHOOK_MSGTYPES })
  @IsIn(WEBHOOK_MSGTYPES)
  msgtype!: WebhookMsgtype;

  @ApiPropertyOptional({ type: WebhookTextDto })
  @ValidateIf((o: WebhookMessageDto) => o.msgtype === 'text' || o.text !== undefined)
  @IsDefined()
  @ValidateNested()
  @Type(() => WebhookTextDto)
  text?: WebhookTextDto;

  @ApiPropertyOptional({ type: WebhookMarkdownDto })
  @ValidateIf((o: WebhookMessageDto) => o.msgtype === 'markdown' || o.markdown !== undefined)
  @IsDefined()
  @ValidateNested()
  @Type(() => WebhookMarkdownDto)
  markdown?: WebhookMarkdownDto;

  @ApiPropertyOptional({ type: WebhookImageDto })
  @ValidateIf((o: WebhookMessageDto) => o.msgtype === 'image' || o.image !== undefined)
  @IsDefined()
  @ValidateNested()
  @Type(() => WebhookImageDto)
  image?: WebhookImageDto;

  @ApiPropertyOptional({ type: WebhookNewsDto })
  @ValidateIf((o: WebhookMessageDto) => o.msgtype === 'news' || o.news !== undefined)
  @IsDefined()
  @ValidateNested()
  @Type(() => WebhookNewsDto)
  news?: WebhookNewsDto;

  @ApiPropertyOptional({ type: WebhookFileDto })
  @ValidateIf((o: WebhookMessageDto) => o.msgtype === 'file' || o.file !== undefined)
  @IsDefined()
  @ValidateNested()
  @Type(() => WebhookFileDto)
  file?: WebhookFileDto;
}

export class WebhookUploadResponse {
  @ApiProperty({ example: 0 }) errcode!: number;
  @ApiProperty({ example: 'ok' }) errmsg!: string;
  @ApiProperty({ enum: ['file'] }) type!: string;
  @ApiProperty({ description: 'For file.media_id of this robot’s webhook/send' }) media_id!: string;
  @ApiProperty({ description: 'Unix seconds, as a string (as WeCom)' }) created_at!: string;
}

export class WebhookResultResponse {
  @ApiProperty({ description: '0 when the message was posted' }) errcode!: number;
  @ApiProperty() errmsg!: string;
}
