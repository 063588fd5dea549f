import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { WecomTemplateCardDto } from './wecom-template-card.dto';
import { HTTP_URL, MaxBytes } from './wecom-validators';

const INT32_MAX = 2_147_483_647;

export const WECOM_MSGTYPES = [
  'text',
  'image',
  'voice',
  'video',
  'file',
  'textcard',
  'news',
  'markdown',
  'template_card',
] as const;
export type WecomMsgtype = (typeof WECOM_MSGTYPES)[number];

/** WeCom's 0/1 flags. */
const Flag = (description: string) =>
  applyDecorators(ApiPropertyOptional({ enum: [0, 1], description }), IsOptional(), IsIn([0, 1]));

/** A string field WeCom documents and Qiwei does not keep: type-checked, then ignored. */
const IgnoredString = (maxLength: number) =>
  applyDecorators(
    ApiPropertyOptional({ description: 'Accepted and ignored' }),
    IsOptional(),
    IsString(),
    MaxLength(maxLength),
  );

export class WecomTextDto {
  @ApiProperty({ description: 'UTF-8, at most WECOM_TEXT_MAX_BYTES bytes (2,048)' })
  @IsDefined()
  @IsString()
  @MaxLength(1_048_576)
  content!: string;
}

export class WecomMediaRefDto {
  @ApiProperty({ description: 'From /cgi-bin/media/upload, of the message’s type' })
  @IsDefined()
  @IsString()
  @MaxLength(128)
  media_id!: string;
}

export class WecomVideoDto extends WecomMediaRefDto {
  @ApiPropertyOptional({ description: 'At most 128 bytes' })
  @IsOptional()
  @IsString()
  @MaxBytes(128)
  title?: string;

  @ApiPropertyOptional({ description: 'At most 512 bytes' })
  @IsOptional()
  @IsString()
  @MaxBytes(512)
  description?: string;
}

export class WecomTextCardDto {
  @ApiProperty({ description: 'At most 128 bytes' })
  @IsDefined()
  @IsString()
  @MaxBytes(128)
  @Matches(/\S/, { message: 'title must not be blank' })
  title!: string;

  @ApiProperty({ description: 'At most 512 bytes' })
  @IsDefined()
  @IsString()
  @MaxBytes(512)
  @Matches(/\S/, { message: 'description must not be blank' })
  description!: string;

  @ApiProperty({ description: 'Where a click leads (http or https), at most 2,048 bytes' })
  @IsDefined()
  @IsString()
  @MaxBytes(2048)
  @Matches(HTTP_URL, { message: 'url must be an http(s) URL' })
  url!: string;

  @ApiPropertyOptional({ description: 'The button’s text, at most 4 characters (default 详情)' })
  @IsOptional()
  @IsString()
  @MaxLength(4)
  btntxt?: string;
}

export class WecomArticleDto {
  @ApiProperty({ description: 'At most 128 bytes' })
  @IsDefined()
  @IsString()
  @MaxBytes(128)
  @Matches(/\S/, { message: 'title must not be blank' })
  title!: string;

  @ApiPropertyOptional({ description: 'At most 512 bytes' })
  @IsOptional()
  @IsString()
  @MaxBytes(512)
  description?: string;

  @ApiProperty({ description: 'Where a click leads (http or https), at most 2,048 bytes' })
  @IsDefined()
  @IsString()
  @MaxBytes(2048)
  @Matches(HTTP_URL, { message: 'url must be an http(s) URL' })
  url!: string;

  @ApiPropertyOptional({ description: 'The picture (http or https)' })
  @IsOptional()
  @IsString()
  @MaxBytes(2048)
  @Matches(HTTP_URL, { message: 'picurl must be an http(s) URL' })
  picurl?: string;

  @IgnoredString(64) appid?: string;
  @IgnoredString(512) pagepath?: string;
}

export class WecomNewsDto {
  @ApiProperty({ type: [WecomArticleDto], description: '1 to 8 articles (errcode 45008)' })
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(8)
  @ValidateNested({ each: true })
  @Type(() => WecomArticleDto)
  articles!: WecomArticleDto[];
}

/** Of the typed objects, the one `msgtype` names is required; others given are checked too. */
const Body = (type: WecomMsgtype, dto: () => new () => object) =>
  applyDecorators(
    ApiPropertyOptional({ type: dto(), description: `msgtype ${type}` }),
    ValidateIf((o: WecomMessageBodyDto) => o.msgtype === type || o[type] !== undefined),
    IsDefined(),
    ValidateNested(),
    Type(dto),
  );

/** The message bodies message/send and appchat/send share. */
export class WecomMessageBodyDto {
  @ApiProperty({
    enum: WECOM_MSGTYPES,
    description: 'Others (mpnews, miniprogram_notice, interactive, …) answer errcode 40008',
  })
  @IsIn(WECOM_MSGTYPES)
  msgtype!: WecomMsgtype;

  @Body('text', () => WecomTextDto) text?: WecomTextDto;
  @Body('markdown', () => WecomTextDto) markdown?: WecomTextDto;
  @Body('image', () => WecomMediaRefDto) image?: WecomMediaRefDto;
  @Body('voice', () => WecomMediaRefDto) voice?: WecomMediaRefDto;
  @Body('video', () => WecomVideoDto) video?: WecomVideoDto;
  @Body('file', () => WecomMediaRefDto) file?: WecomMediaRefDto;
  @Body('textcard', () => WecomTextCardDto) textcard?: WecomTextCardDto;
  @Body('news', () => WecomNewsDto) news?: WecomNewsDto;
  @Body('template_card', () => WecomTemplateCardDto) template_card?: WecomTemplateCardDto;

  @Flag('Confidential (保密消息): carried as `safe` for clients and the archive')
  safe?: 0 | 1;
}

/** WeCom's id lists: `a|b|c` (SDKs also send a lone number for one department or tag). */
const IdList = (pattern: RegExp, description: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: String, description }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value,
    ),
    IsString(),
    MaxLength(70_000),
    Matches(pattern, { message: 'must be ids joined by |' }),
  );

const USERIDS = /^(|@all|[A-Za-z0-9_@.-]{1,64}(\|[A-Za-z0-9_@.-]{1,64})*)$/;
const INT_IDS = /^(|[1-9][0-9]{0,9}(\|[1-9][0-9]{0,9})*)$/;

export class WecomSendMessageDto extends WecomMessageBodyDto {
  @IdList(USERIDS, 'Userids joined by | (at most 1,000), or @all for everyone in the app’s range')
  touser?: string;

  @IdList(INT_IDS, 'Department ids joined by | (at most 100), with their subtrees')
  toparty?: string;

  @IdList(INT_IDS, 'Tag ids joined by | (at most 100)')
  totag?: string;

  @ApiProperty({ description: 'The app’s agentid: that of the access token (else 301002)' })
  @IsDefined()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  agentid!: number;

  @Flag('WeCom’s id translation: accepted and ignored') enable_id_trans?: 0 | 1;

  @Flag('Do not send the same message to the same targets again within the interval')
  enable_duplicate_check?: 0 | 1;

  @ApiPropertyOptional({ description: 'Seconds (default 1,800, at most 4 h)', default: 1800 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(4 * 3600)
  duplicate_check_interval?: number;
}

export class WecomSendMessageResponse {
  @ApiProperty({ example: 0 }) errcode!: number;
  @ApiProperty({ example: 'ok' }) errmsg!: string;
  @ApiProperty({
    description:
      'Userids not reached, joined by |: unknown, inactive, outside the app’s range — or over the per-member rate limit (also in overquotauser)',
  })
  invaliduser!: string;
  @ApiProperty({ description: 'Department ids unknown or outside the range, joined by |' })
  invalidparty!: string;
  @ApiProperty({ description: 'Tag ids unknown, joined by |' }) invalidtag!: string;
  @ApiProperty({ description: 'Always empty: Qiwei has no licences' }) unlicenseduser!: string;
  @ApiProperty({
    description:
      'Qiwei’s own: userids refused because the app had sent them its limit this minute or hour, joined by |',
  })
  overquotauser!: string;
  @ApiProperty({ description: 'For message/recall' }) msgid!: string;
}

export class WecomRecallDto {
  @ApiProperty({ description: 'The msgid message/send answered' })
  @IsDefined()
  @IsString()
  @MaxLength(128)
  msgid!: string;
}

export class WecomOkResponse {
  @ApiProperty({ example: 0 }) errcode!: number;
  @ApiProperty({ example: 'ok' }) errmsg!: string;
}

/** `?access_token=` (checked by the guard) and WeCom's `debug` flag (ignored). */
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
