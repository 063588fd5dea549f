import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsEmpty,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { HTTP_URL, MaxBytes } from './wecom-validators';

/**
 * WeCom's `template_card` (message/send, appchat/send): the notice cards `text_notice` and
 * `news_notice`. Cards that call the app back when clicked (`button_interaction`,
 * `vote_interaction`, `multiple_interaction`, and `action_menu`) are refused: Qiwei sends apps
 * no card callbacks. Lengths are bounded generously (WeCom's clients cut long texts for
 * display); URLs are http or https.
 */
export const TEMPLATE_CARD_TYPES = ['text_notice', 'news_notice'] as const;

const Text = (max: number, description?: string) =>
  applyDecorators(
    ApiPropertyOptional({ description: description ?? `At most ${max} bytes` }),
    IsOptional(),
    IsString(),
    MaxBytes(max),
  );

const RequiredText = (max: number, description?: string) =>
  applyDecorators(
    ApiProperty({ description: description ?? `At most ${max} bytes` }),
    IsDefined(),
    IsString(),
    MaxBytes(max),
    Matches(/\S/, { message: 'must not be blank' }),
  );

const Url = (description: string) =>
  applyDecorators(
    ApiPropertyOptional({ description }),
    IsOptional(),
    IsString(),
    MaxBytes(2048),
    Matches(HTTP_URL, { message: 'must be an http(s) URL' }),
  );

const Nested = <T>(dto: () => new () => T, description: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: dto(), description }),
    IsOptional(),
    ValidateNested(),
    Type(dto),
  );

const NestedList = <T>(dto: () => new () => T, max: number, description: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: [dto()], description: `${description} (at most ${max})` }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(max),
    ValidateNested({ each: true }),
    Type(dto),
  );

/** What a click leads to: the fields `LinkUrl` and `LinkAppid` depend on. */
interface Link {
  type?: number;
  url?: string;
  appid?: string;
}

/** A link's `url`: required with type 1, an http(s) URL whenever given. */
const LinkUrl = () =>
  applyDecorators(
    ApiPropertyOptional({ description: 'Required with type 1 (http or https)' }),
    ValidateIf((o: Link) => o.type === 1 || o.url !== undefined),
    IsDefined(),
    IsString(),
    MaxBytes(2048),
    Matches(HTTP_URL, { message: 'url must be an http(s) URL' }),
  );

/** A link's mini program `appid`: required with type 2. */
const LinkAppid = () =>
  applyDecorators(
    ApiPropertyOptional({ description: 'Required with type 2' }),
    ValidateIf((o: Link) => o.type === 2 || o.appid !== undefined),
    IsDefined(),
    IsString(),
    Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'appid must be 1–64 of A-Z a-z 0-9 _ -' }),
  );

/** `type` 0 nowhere, 1 `url`, 2 a mini program (`appid`, `pagepath`). */
class WecomCardLinkDto {
  @ApiPropertyOptional({ enum: [0, 1, 2], description: '0 none, 1 url, 2 mini program' })
  @IsOptional()
  @IsIn([0, 1, 2])
  type?: 0 | 1 | 2;

  @LinkUrl() url?: string;
  @LinkAppid() appid?: string;

  @Text(512) pagepath?: string;
}

export class WecomCardSourceDto {
  @Url('The source’s icon') icon_url?: string;
  @Text(128) desc?: string;

  @ApiPropertyOptional({ enum: [0, 1, 2, 3], description: '0 grey, 1 black, 2 red, 3 green' })
  @IsOptional()
  @IsIn([0, 1, 2, 3])
  desc_color?: 0 | 1 | 2 | 3;
}

export class WecomCardTitleDto {
  @Text(256) title?: string;
  @Text(1024) desc?: string;
}

export class WecomCardQuoteDto extends WecomCardLinkDto {
  @Text(256) title?: string;
  @Text(1024) quote_text?: string;
}

export class WecomCardHorizontalDto {
  @ApiPropertyOptional({
    enum: [0, 1, 3],
    description: '0 text, 1 a link (url), 3 a member (userid); 2 (attachments) is not supported',
  })
  @IsOptional()
  @IsIn([0, 1, 3], { message: 'type must be 0, 1 or 3 (attachments are sent as file messages)' })
  type?: 0 | 1 | 3;

  @RequiredText(128) keyname!: string;
  @Text(512) value?: string;

  @ApiPropertyOptional({ description: 'Required with type 1' })
  @ValidateIf((o: WecomCardHorizontalDto) => o.type === 1 || o.url !== undefined)
  @IsDefined()
  @IsString()
  @MaxBytes(2048)
  @Matches(HTTP_URL, { message: 'url must be an http(s) URL' })
  url?: string;

  @ApiPropertyOptional({ description: 'Required with type 3' })
  @ValidateIf((o: WecomCardHorizontalDto) => o.type === 3 || o.userid !== undefined)
  @IsDefined()
  @IsString()
  @Matches(/^[A-Za-z0-9_@.-]{1,64}$/, { message: 'userid must be a userid' })
  userid?: string;
}

export class WecomCardJumpDto extends WecomCardLinkDto {
  @RequiredText(256) title!: string;
}

export class WecomCardActionDto {
  @ApiProperty({ enum: [1, 2], description: '1 url, 2 mini program' })
  @IsDefined()
  @IsIn([1, 2])
  type!: 1 | 2;

  @LinkUrl() url?: string;
  @LinkAppid() appid?: string;

  @Text(512) pagepath?: string;
}

export class WecomCardImageDto {
  @ApiProperty({ description: 'http or https' })
  @IsDefined()
  @IsString()
  @MaxBytes(2048)
  @Matches(HTTP_URL, { message: 'url must be an http(s) URL' })
  url!: string;

  @ApiPropertyOptional({ description: 'Width / height, 1.3 to 2.25 (default 1.3)' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1.3)
  @Max(2.25)
  aspect_ratio?: number;
}

export class WecomCardImageTextDto extends WecomCardLinkDto {
  @Text(256) title?: string;
  @Text(1024) desc?: string;

  @ApiProperty({ description: 'http or https' })
  @IsDefined()
  @IsString()
  @MaxBytes(2048)
  @Matches(HTTP_URL, { message: 'image_url must be an http(s) URL' })
  image_url!: string;
}

export class WecomCardVerticalDto {
  @RequiredText(256) title!: string;
  @Text(1024) desc?: string;
}

export class WecomTemplateCardDto {
  @ApiProperty({
    enum: TEMPLATE_CARD_TYPES,
    description:
      'text_notice or news_notice; button_interaction, vote_interaction and multiple_interaction answer 40008',
  })
  @IsDefined()
  @IsIn(TEMPLATE_CARD_TYPES, {
    message:
      'card_type must be text_notice or news_notice (cards that call the app back are not supported)',
  })
  card_type!: (typeof TEMPLATE_CARD_TYPES)[number];

  @ApiPropertyOptional({ description: 'The app’s id for the card: 1–128 of A-Z a-z 0-9 _ - @' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_@-]{1,128}$/, { message: 'task_id must be 1–128 of A-Z a-z 0-9 _ - @' })
  task_id?: string;

  @ApiPropertyOptional({ description: 'Not supported: it calls the app back (40058)' })
  @IsEmpty({ message: 'action_menu calls the app back, which this server does not do' })
  action_menu?: unknown;

  @Nested(() => WecomCardSourceDto, 'The source line') source?: WecomCardSourceDto;
  @Nested(() => WecomCardTitleDto, 'text_notice: title or sub_title_text; news_notice: title')
  main_title?: WecomCardTitleDto;
  @Nested(() => WecomCardQuoteDto, 'A quoted area') quote_area?: WecomCardQuoteDto;
  @Nested(() => WecomCardTitleDto, 'text_notice: the emphasised figure (title) and its caption')
  emphasis_content?: WecomCardTitleDto;
  @Text(2048, 'text_notice: the secondary text, at most 2,048 bytes') sub_title_text?: string;
  @NestedList(() => WecomCardHorizontalDto, 6, 'Key/value lines')
  horizontal_content_list?: WecomCardHorizontalDto[];
  @NestedList(() => WecomCardJumpDto, 3, 'Links at the bottom') jump_list?: WecomCardJumpDto[];

  @ApiProperty({ type: WecomCardActionDto, description: 'Where a click on the card leads' })
  @IsDefined()
  @ValidateNested()
  @Type(() => WecomCardActionDto)
  card_action!: WecomCardActionDto;

  @Nested(() => WecomCardImageDto, 'news_notice: the picture (or image_text_area)')
  card_image?: WecomCardImageDto;
  @Nested(() => WecomCardImageTextDto, 'news_notice: a picture with text (or card_image)')
  image_text_area?: WecomCardImageTextDto;
  @NestedList(() => WecomCardVerticalDto, 4, 'news_notice: lines of title and description')
  vertical_content_list?: WecomCardVerticalDto[];
}
