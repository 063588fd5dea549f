import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Type } from 'class-transformer';
import type { AppMessageResult, ReceivedAppMessage } from '../app-messages.service';
import {
  MediaCaptionResponse,
  NewsArticleResponse,
  TemplateCardResponse,
  TextCardResponse,
} from '../../messages/dto/message.dto';

class AppMessageMediaResponse {
  @ApiProperty({ description: 'Download it with GET /v1/media/{mediaId}' }) mediaId!: string;
  @ApiProperty({ enum: ['image', 'voice', 'video', 'file'] }) kind!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() contentType!: string;
  @ApiProperty() size!: number;
  @ApiProperty() sha256!: string;
}

const INT32_MAX = 2_147_483_647;

export class SendAppMessageDto {
  @ApiPropertyOptional({ type: [String], description: 'Userids (at most 1,000)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(/^[A-Za-z0-9_@.-]{1,64}$/, {
    each: true,
    message: 'each userid must be 1–64 of A-Z a-z 0-9 _ @ . -',
  })
  touser?: string[];

  @ApiPropertyOptional({
    type: [Number],
    description: 'Department ids, with their subtrees (at most 100)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  toparty?: number[];

  @ApiPropertyOptional({ type: [Number], description: 'Tag ids (at most 100)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  totag?: number[];

  @ApiPropertyOptional({
    description: 'Everyone in the app’s range (@all); the lists are then ignored',
  })
  @IsOptional()
  @IsBoolean()
  all?: boolean;

  @ApiProperty({ enum: ['text', 'markdown'] })
  @IsIn(['text', 'markdown'])
  msgtype!: 'text' | 'markdown';

  @ApiProperty({ description: 'UTF-8, at most MESSAGE_TEXT_MAX_BYTES bytes' })
  @IsString()
  @MaxLength(1_048_576)
  @Matches(/\S/, { message: 'text must not be blank' })
  text!: string;

  @ApiPropertyOptional({
    description:
      'Do not send the same message to the same targets again within this many seconds (≤ 4 h)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(4 * 3600)
  duplicateCheckSeconds?: number;
}

export class AppMessageResultResponse {
  @ApiProperty() msgid!: string;
  @ApiProperty({ description: 'Members it was delivered to' }) recipients!: number;
  @ApiProperty({ type: [String] }) invaliduser!: string[];
  @ApiProperty({ type: [Number] }) invalidparty!: number[];
  @ApiProperty({ type: [Number] }) invalidtag!: number[];
  @ApiProperty({ type: [String], description: 'At the app’s limit for them: refused' })
  overquotauser!: string[];
  @ApiProperty({ description: 'Sent already within the duplicate-check interval' })
  duplicate!: boolean;

  static of(r: AppMessageResult): AppMessageResultResponse {
    return { ...r };
  }
}

class ReceivedAppMessageResponse {
  @ApiProperty() msgid!: string;
  @ApiProperty() agentid!: number;
  @ApiProperty({
    enum: [
      'text',
      'markdown',
      'image',
      'voice',
      'video',
      'file',
      'textcard',
      'news',
      'template_card',
    ],
  })
  msgtype!: string;
  @ApiProperty({ description: 'text and markdown; empty once recalled' }) text!: string;
  @ApiProperty({ type: AppMessageMediaResponse, nullable: true })
  media!: AppMessageMediaResponse | null;
  @ApiProperty({ type: MediaCaptionResponse, nullable: true })
  caption!: MediaCaptionResponse | null;
  @ApiProperty({ type: TextCardResponse, nullable: true }) textcard!: TextCardResponse | null;
  @ApiProperty({ type: TemplateCardResponse, nullable: true })
  templateCard!: TemplateCardResponse | null;
  @ApiProperty({ type: [NewsArticleResponse] }) articles!: NewsArticleResponse[];
  @ApiProperty({ description: 'Confidential: not to be forwarded' }) safe!: boolean;
  @ApiProperty() sentAt!: string;
  @ApiProperty({ nullable: true, type: String }) readAt!: string | null;
  @ApiProperty() recalled!: boolean;

  static of(m: ReceivedAppMessage): ReceivedAppMessageResponse {
    return {
      msgid: m.msgid,
      agentid: m.agentid,
      msgtype: m.msgtype,
      text: m.text,
      media: m.media && {
        mediaId: m.media.id,
        kind: m.media.kind,
        filename: m.media.filename,
        contentType: m.media.contentType,
        size: m.media.size,
        sha256: m.media.sha256,
      },
      caption: m.caption,
      textcard: m.textcard,
      templateCard: m.templateCard,
      articles: m.articles,
      safe: m.safe,
      sentAt: m.sentAt.toISOString(),
      readAt: m.readAt ? m.readAt.toISOString() : null,
      recalled: m.recalledAt !== null,
    };
  }
}

export class InboxResponse {
  @ApiProperty({ type: [ReceivedAppMessageResponse] }) items!: ReceivedAppMessageResponse[];
  @ApiProperty({ nullable: true, type: String, description: 'msgid to pass as `before`' })
  nextBefore!: string | null;

  static of(page: { items: ReceivedAppMessage[]; more: boolean }): InboxResponse {
    const last = page.items[page.items.length - 1];
    return {
      items: page.items.map((m) => ReceivedAppMessageResponse.of(m)),
      nextBefore: page.more && last ? last.msgid : null,
    };
  }
}

export class InboxQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextBefore of the previous page' })
  @IsOptional()
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: 'before must be a msgid',
  })
  before?: string;
}
