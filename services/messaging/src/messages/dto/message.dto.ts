import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { registerFastValidation } from '@qiwei/platform';
import type { MessageType, StoredMessage } from '../messages.repository';

export const MESSAGE_TYPES = [
  'text',
  'markdown',
  'image',
  'voice',
  'video',
  'file',
  'location',
  'link',
  'contact_card',
] as const;
const MEDIA_TYPES: readonly string[] = ['image', 'voice', 'video', 'file'];
const HTTP_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };
const HTTP_URL_MESSAGE = 'must be an http or https URL';

export class LocationDto {
  @ApiProperty({ minimum: -90, maximum: 90, description: 'WGS-84 latitude' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-90)
  @Max(90)
  latitude!: number;

  @ApiProperty({ minimum: -180, maximum: 180, description: 'WGS-84 longitude' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  longitude!: number;

  @ApiProperty({ description: 'The place’s name, 1–128 characters' })
  @IsString()
  @Length(1, 128)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiPropertyOptional({ description: 'Its address, at most 256 characters', default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  address?: string;
}

export class LinkDto {
  @ApiProperty({ description: '1–128 characters' })
  @IsString()
  @Length(1, 128)
  @Matches(/\S/, { message: 'title must not be blank' })
  title!: string;

  @ApiPropertyOptional({ description: 'At most 512 characters', default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  description?: string;

  @ApiProperty({ description: 'http or https, at most 2,048 characters' })
  @IsString()
  @MaxLength(2048)
  @IsUrl(HTTP_URL, { message: `url ${HTTP_URL_MESSAGE}` })
  url!: string;

  @ApiPropertyOptional({ description: 'The picture: http or https, at most 2,048 characters' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @IsUrl(HTTP_URL, { message: `picUrl ${HTTP_URL_MESSAGE}` })
  picUrl?: string;
}

export class ContactCardDto {
  @ApiProperty({ description: 'An active member of the corp' })
  @IsString()
  @Matches(/^[A-Za-z0-9_@.-]{1,64}$/, { message: 'userid must be 1–64 of A-Z a-z 0-9 _ @ . -' })
  userid!: string;
}

const INT32_MAX = 2_147_483_647;
// Shared by the decorators below and the send DTO's fast path (registerFastValidation).
const CLIENT_MSG_ID = /^[A-Za-z0-9_-]{1,64}$/;
const NOT_BLANK = /\S/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MENTION = /^(@all|[A-Za-z0-9_@.-]{1,64})$/;
const TEXT_MAX_LENGTH = 1_048_576;
const MENTIONS_MAX = 100;

export class SendMessageDto {
  @ApiProperty({
    description:
      'The sender’s own id for this message (1–64 of A-Z a-z 0-9 _ -): resending it is safe',
  })
  @IsString()
  @Matches(CLIENT_MSG_ID, { message: 'clientMsgId must be 1–64 of A-Z a-z 0-9 _ -' })
  clientMsgId!: string;

  @ApiProperty({ enum: MESSAGE_TYPES })
  @IsIn(MESSAGE_TYPES)
  type!: MessageType;

  @ApiPropertyOptional({
    description:
      'text and markdown (required there, refused otherwise): UTF-8, at most MESSAGE_TEXT_MAX_BYTES bytes',
  })
  @ValidateIf(
    (o: SendMessageDto) => o.type === 'text' || o.type === 'markdown' || o.text !== undefined,
  )
  @IsString()
  @MaxLength(TEXT_MAX_LENGTH)
  @Matches(NOT_BLANK, { message: 'text must not be blank' })
  text?: string;

  @ApiPropertyOptional({
    description:
      'image, voice, video and file (required there, refused otherwise): a completed upload of yours',
  })
  @ValidateIf((o: SendMessageDto) => MEDIA_TYPES.includes(o.type) || o.mediaId !== undefined)
  @IsString()
  @Matches(UUID, { message: 'mediaId must be a UUID' })
  mediaId?: string;

  @ApiPropertyOptional({ type: [String], description: 'Userids in the conversation, or @all' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MENTIONS_MAX)
  @Matches(MENTION, {
    each: true,
    message: 'each mention is a userid or @all',
  })
  mentions?: string[];

  @ApiPropertyOptional({ description: 'The seq of the message this one quotes (replies to)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  quoteSeq?: number;

  @ApiPropertyOptional({ type: LocationDto, description: 'location (required there only)' })
  @ValidateIf((o: SendMessageDto) => o.type === 'location' || o.location !== undefined)
  @IsObject()
  @ValidateNested()
  @Type(() => LocationDto)
  location?: LocationDto;

  @ApiPropertyOptional({ type: LinkDto, description: 'link (required there only)' })
  @ValidateIf((o: SendMessageDto) => o.type === 'link' || o.link !== undefined)
  @IsObject()
  @ValidateNested()
  @Type(() => LinkDto)
  link?: LinkDto;

  @ApiPropertyOptional({
    type: ContactCardDto,
    description: 'contact_card (名片; required there only): a member of the corp',
  })
  @ValidateIf((o: SendMessageDto) => o.type === 'contact_card' || o.contactCard !== undefined)
  @IsObject()
  @ValidateNested()
  @Type(() => ContactCardDto)
  contactCard?: ContactCardDto;
}

/** The fields of a text, markdown or media message: what the send fast path handles. */
const FAST_SEND_FIELDS = new Set([
  'clientMsgId',
  'type',
  'text',
  'mediaId',
  'mentions',
  'quoteSeq',
]);

/**
 * The send DTO's fast path (see registerFastValidation): text, markdown and media messages whose
 * fields are all valid, checked as the decorators above check them, become a SendMessageDto
 * as class-transformer would make it. Anything else — other types (their nested objects),
 * unknown or null fields, any invalid value — is declined and goes through class-validator,
 * which writes every error. `send-message-fast-path.spec.ts` holds the two to the same answers.
 */
export function fastSendMessage(value: unknown): SendMessageDto | undefined {
  if (
    typeof value !== 'object' ||
    value === null ||
    Object.getPrototypeOf(value) !== Object.prototype
  )
    return undefined;
  for (const key of Object.keys(value)) if (!FAST_SEND_FIELDS.has(key)) return undefined;
  const body = value as Record<string, unknown>;
  const { clientMsgId, type, text, mediaId, mentions, quoteSeq } = body;
  if (typeof clientMsgId !== 'string' || !CLIENT_MSG_ID.test(clientMsgId)) return undefined;
  if (typeof type !== 'string') return undefined;
  const textType = type === 'text' || type === 'markdown';
  const mediaType = MEDIA_TYPES.includes(type);
  if (!textType && !mediaType) return undefined;
  // class-validator's MaxLength counts a surrogate pair as one: length is never less.
  if (
    (textType || text !== undefined) &&
    (typeof text !== 'string' || text.length > TEXT_MAX_LENGTH || !NOT_BLANK.test(text))
  )
    return undefined;
  if ((mediaType || mediaId !== undefined) && (typeof mediaId !== 'string' || !UUID.test(mediaId)))
    return undefined;
  if (mentions !== undefined) {
    if (!Array.isArray(mentions) || mentions.length > MENTIONS_MAX) return undefined;
    for (const mention of mentions as unknown[])
      if (typeof mention !== 'string' || !MENTION.test(mention)) return undefined;
  }
  if (
    quoteSeq !== undefined &&
    (typeof quoteSeq !== 'number' ||
      !Number.isInteger(quoteSeq) ||
      quoteSeq < 1 ||
      quoteSeq > INT32_MAX)
  )
    return undefined;
  return Object.assign(new SendMessageDto(), body);
}
registerFastValidation(SendMessageDto, fastSendMessage);

export class ReadDto {
  @ApiProperty({ description: 'Everything up to this seq has been read' })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  seq!: number;
}

export class MessagesQuery {
  @ApiPropertyOptional({ description: 'Messages after this seq (0: from the first)', default: 0 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(0)
  @Max(INT32_MAX)
  afterSeq?: number;

  @ApiPropertyOptional({ default: 100, maximum: 500 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class NewsArticleResponse {
  @ApiProperty() title!: string;
  @ApiProperty() description!: string;
  @ApiProperty() url!: string;
  @ApiProperty() picurl!: string;
}

export class LocationResponse {
  @ApiProperty() latitude!: number;
  @ApiProperty() longitude!: number;
  @ApiProperty() name!: string;
  @ApiProperty() address!: string;
}

export class LinkResponse {
  @ApiProperty() title!: string;
  @ApiProperty() description!: string;
  @ApiProperty() url!: string;
  @ApiProperty() picUrl!: string;
}

export class ContactCardResponse {
  @ApiProperty() userid!: string;
  @ApiProperty({ description: 'The member’s name when the card was sent' }) name!: string;
}

export class TextCardResponse {
  @ApiProperty() title!: string;
  @ApiProperty() description!: string;
  @ApiProperty() url!: string;
  @ApiProperty() btntxt!: string;
}

class CardActionResponse {
  @ApiProperty({ description: '0 nowhere, 1 url, 2 a mini program (appid, pagepath)' })
  type!: number;
  @ApiProperty() url!: string;
  @ApiProperty() appid!: string;
  @ApiProperty() pagepath!: string;
}

class CardTitleResponse {
  @ApiProperty() title!: string;
  @ApiProperty() desc!: string;
}

class CardSourceResponse {
  @ApiProperty() iconUrl!: string;
  @ApiProperty() desc!: string;
  @ApiProperty({ description: '0 grey, 1 black, 2 red, 3 green' }) descColor!: number;
}

class CardQuoteResponse {
  @ApiProperty({ type: CardActionResponse }) action!: CardActionResponse;
  @ApiProperty() title!: string;
  @ApiProperty() quoteText!: string;
}

class CardHorizontalResponse {
  @ApiProperty({ description: '0 text, 1 a link (url), 3 a member (userid)' }) type!: number;
  @ApiProperty() keyname!: string;
  @ApiProperty() value!: string;
  @ApiProperty() url!: string;
  @ApiProperty() userid!: string;
}

class CardJumpResponse {
  @ApiProperty({ type: CardActionResponse }) action!: CardActionResponse;
  @ApiProperty() title!: string;
}

class CardImageResponse {
  @ApiProperty() url!: string;
  @ApiProperty({ description: 'Width / height' }) aspectRatio!: number;
}

class CardImageTextResponse {
  @ApiProperty({ type: CardActionResponse }) action!: CardActionResponse;
  @ApiProperty() title!: string;
  @ApiProperty() desc!: string;
  @ApiProperty() imageUrl!: string;
}

/** WeCom's template_card (apps): a text_notice or news_notice card. */
export class TemplateCardResponse {
  @ApiProperty({ enum: ['text_notice', 'news_notice'] }) cardType!: string;
  @ApiProperty() taskId!: string;
  @ApiProperty({ type: CardSourceResponse, nullable: true }) source!: CardSourceResponse | null;
  @ApiProperty({ type: CardTitleResponse, nullable: true }) mainTitle!: CardTitleResponse | null;
  @ApiProperty({ type: CardQuoteResponse, nullable: true }) quoteArea!: CardQuoteResponse | null;
  @ApiProperty({ type: CardTitleResponse, nullable: true, description: 'text_notice' })
  emphasisContent!: CardTitleResponse | null;
  @ApiProperty({ description: 'text_notice' }) subTitleText!: string;
  @ApiProperty({ type: [CardHorizontalResponse] })
  horizontalContentList!: CardHorizontalResponse[];
  @ApiProperty({ type: [CardJumpResponse] }) jumpList!: CardJumpResponse[];
  @ApiProperty({ type: CardActionResponse }) cardAction!: CardActionResponse;
  @ApiProperty({ type: CardImageResponse, nullable: true, description: 'news_notice' })
  cardImage!: CardImageResponse | null;
  @ApiProperty({ type: CardImageTextResponse, nullable: true, description: 'news_notice' })
  imageTextArea!: CardImageTextResponse | null;
  @ApiProperty({ type: [CardTitleResponse], description: 'news_notice' })
  verticalContentList!: CardTitleResponse[];
}

export class MediaCaptionResponse {
  @ApiProperty() title!: string;
  @ApiProperty() description!: string;
}

export class MessageResponse {
  @ApiProperty() conversationId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty() id!: string;
  @ApiProperty({
    description:
      'A member’s userid, `robot:<robotId>` for a group robot, or `app:<agentid>` for an app in a group it created',
  })
  sender!: string;
  @ApiProperty() clientMsgId!: string;
  @ApiProperty({ enum: [...MESSAGE_TYPES, 'news', 'textcard', 'template_card'] }) type!: string;
  @ApiProperty({ description: 'Empty once recalled' }) text!: string;
  @ApiProperty({ type: [String] }) mentions!: string[];
  @ApiProperty() quoteSeq!: number;
  @ApiProperty({
    nullable: true,
    description: 'image/voice/video/file: {mediaId, kind, filename, contentType, size, sha256}',
  })
  media!: {
    mediaId: string;
    kind: string;
    filename: string;
    contentType: string;
    size: number;
    sha256: string;
  } | null;
  @ApiProperty({
    type: [NewsArticleResponse],
    description: 'news (group robots): the articles; empty otherwise',
  })
  articles!: NewsArticleResponse[];
  @ApiProperty({ nullable: true, type: LocationResponse }) location!: LocationResponse | null;
  @ApiProperty({ nullable: true, type: LinkResponse }) link!: LinkResponse | null;
  @ApiProperty({ nullable: true, type: ContactCardResponse })
  contactCard!: ContactCardResponse | null;
  @ApiProperty({
    type: TextCardResponse,
    nullable: true,
    description: 'textcard (apps): the card; null otherwise',
  })
  textcard!: TextCardResponse | null;
  @ApiProperty({
    type: TemplateCardResponse,
    nullable: true,
    description: 'template_card (apps): the card; null otherwise',
  })
  templateCard!: TemplateCardResponse | null;
  @ApiProperty({
    type: MediaCaptionResponse,
    nullable: true,
    description: 'video of an app: its title and description, if given',
  })
  caption!: MediaCaptionResponse | null;
  @ApiProperty({ description: 'Confidential (WeCom’s `safe`): clients do not let it be forwarded' })
  safe!: boolean;
  @ApiProperty() sentAt!: string;
  @ApiProperty() recalled!: boolean;
  @ApiProperty({ nullable: true, type: String }) recalledBy!: string | null;

  static of(m: StoredMessage): MessageResponse {
    return {
      conversationId: m.conversationId,
      seq: m.seq,
      id: m.id,
      sender: m.sender,
      clientMsgId: m.clientMsgId,
      type: m.type,
      text: m.text,
      mentions: m.mentions,
      quoteSeq: m.quoteSeq,
      media: m.media && {
        mediaId: m.media.id,
        kind: m.media.kind,
        filename: m.media.filename,
        contentType: m.media.contentType,
        size: m.media.size,
        sha256: m.media.sha256,
      },
      articles: m.articles,
      location: m.location,
      link: m.link,
      contactCard: m.contactCard,
      textcard: m.textcard,
      templateCard: m.templateCard,
      caption: m.caption,
      safe: m.safe,
      sentAt: m.sentAt.toISOString(),
      recalled: m.recalledAt !== null,
      recalledBy: m.recalledBy,
    };
  }
}

export class MessagePageResponse {
  @ApiProperty({ type: [MessageResponse] }) items!: MessageResponse[];
  @ApiProperty({ description: 'Seq of the conversation’s newest message' }) lastSeq!: number;
}

export class ReceiptsResponse {
  @ApiProperty() seq!: number;
  @ApiProperty() readCount!: number;
  @ApiProperty() unreadCount!: number;
  @ApiProperty({ type: [String] }) read!: string[];
  @ApiProperty({ type: [String] }) unread!: string[];
}
