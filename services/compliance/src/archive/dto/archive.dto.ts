import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import type { ChainReport } from '../../chain/chain-verifier';
import type { ArchiveFilter } from '../../search/archive-index';
import type { ArchivedRecord } from '../archive-record';
import { ALL_RECORD_KINDS, RECORD_KINDS, type RecordKind } from '../archive-record';
import type { FoundRecord } from '../archive.service';

const USERID = /^[A-Za-z0-9_@.-]{1,64}$/;
/** An optional list of up to 10 keywords of 1–`maxLength` characters. */
const KeywordList = (description: string, maxLength = 100) =>
  applyDecorators(
    ApiPropertyOptional({ type: [String], maxItems: 10, description }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(10),
    IsString({ each: true }),
    MinLength(1, { each: true }),
    MaxLength(maxLength, { each: true }),
  );

export class KeywordsDto {
  @KeywordList('Every one must occur (Chinese words are found inside unspaced text)')
  all?: string[];

  @KeywordList('At least one must occur')
  any?: string[];

  @KeywordList('Each must occur exactly as written (case-insensitive)', 200)
  phrases?: string[];

  @KeywordList('None may occur')
  exclude?: string[];
}

/** What to find: shared by searches and exports. */
export class ArchiveFilterDto {
  @ApiPropertyOptional({ type: KeywordsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => KeywordsDto)
  keywords?: KeywordsDto;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 50,
    description: 'Said by any of these userids',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(USERID, { each: true, message: 'each sender is a userid' })
  senders?: string[];

  @ApiPropertyOptional({ description: 'A userid that was in the conversation at the time' })
  @IsOptional()
  @IsString()
  @Matches(USERID, { message: 'participant is a userid' })
  participant?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  conversationId?: string;

  @ApiPropertyOptional({
    type: [Number],
    maxItems: 50,
    description:
      'Department ids: the sender was in one of these subtrees when the record was archived',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(2_147_483_647, { each: true })
  senderDepartments?: number[];

  @ApiPropertyOptional({ description: 'Only records with (true) or without (false) media' })
  @IsOptional()
  @IsBoolean()
  hasAttachment?: boolean;

  @ApiPropertyOptional({
    enum: ALL_RECORD_KINDS,
    isArray: true,
    description:
      'Record kinds; none named: message, recall and conversation (what people said and did). `media`: copies of media verified or faulty; `tombstone`: what retention purges removed',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(ALL_RECORD_KINDS.length)
  @IsIn(ALL_RECORD_KINDS, { each: true })
  kinds?: RecordKind[];

  @ApiPropertyOptional({
    type: [String],
    description:
      'Types: text, markdown, image, voice, video, file, news, textcard, location, link, contact_card, announcement, recall, conversation.<happened>, media.archived, media.fault, retention.purge',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @Matches(/^[a-z][a-z._]{0,47}$/, { each: true, message: 'each type is like text or recall' })
  types?: string[];

  @ApiPropertyOptional({ description: 'Sent at or after (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Sent before (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

/** The filter of a request as the index takes it. */
export function archiveFilterOf(body: ArchiveFilterDto): ArchiveFilter {
  return {
    keywords: {
      all: body.keywords?.all ?? [],
      any: body.keywords?.any ?? [],
      phrases: body.keywords?.phrases ?? [],
      exclude: body.keywords?.exclude ?? [],
    },
    senders: body.senders ?? [],
    participant: body.participant,
    conversationId: body.conversationId?.toLowerCase(),
    senderDepartments: body.senderDepartments ?? [],
    hasAttachment: body.hasAttachment,
    kinds: body.kinds?.length ? [...new Set(body.kinds)] : [...RECORD_KINDS],
    types: body.types ?? [],
    from: body.from ? new Date(body.from) : undefined,
    to: body.to ? new Date(body.to) : undefined,
  };
}

export class SearchArchiveDto extends ArchiveFilterDto {
  @ApiPropertyOptional({ enum: ['time', 'relevance'], default: 'time' })
  @IsOptional()
  @IsIn(['time', 'relevance'])
  sort?: 'time' | 'relevance';

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page (same query)' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export class ConversationQuery {
  @ApiPropertyOptional({
    description: 'Centre the view on this moment (ISO 8601); default: the end',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  around?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class ArchivedRecordResponse {
  @ApiProperty({ description: 'Position in the corp’s hash chain' }) chainSeq!: number;
  @ApiProperty({ enum: ALL_RECORD_KINDS }) kind!: string;
  @ApiProperty({ nullable: true, type: String }) messageId!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'A recall: the recalled message' })
  preMessageId!: string | null;
  @ApiProperty() conversationId!: string;
  @ApiProperty() conversationKind!: string;
  @ApiProperty() sender!: string;
  @ApiProperty() type!: string;
  @ApiProperty({ description: 'The text or markdown as sent (an announcement’s body)' })
  text!: string;
  @ApiProperty({ type: [String] }) mentions!: string[];
  @ApiProperty() quoteSeq!: number;
  @ApiProperty() seq!: number;
  @ApiProperty({ type: [String], description: 'In the conversation at the time' })
  participants!: string[];
  @ApiProperty({
    type: Object,
    description:
      'The rest of what was sent, by kind: a message’s title (announcements), textcard, articles, link, location, contactCard, caption, safe, clientMsgId, agentid (app messages), externalParticipants and consentStates; a recall’s recalledBy; a conversation’s settings and group notice',
  })
  details!: object;
  @ApiProperty({
    type: [Object],
    description:
      'Media as sent (mediaId, kind, filename, contentType, size, sha256) and where the archive copies them (archiveBucket, archiveKey); the copy’s outcome is a `media` record',
  })
  media!: object[];
  @ApiProperty({
    enum: ['not_required', 'agreed', 'withheld'],
    description:
      'External contacts’ consent: `withheld` records keep only that the message existed',
  })
  consent!: string;
  @ApiProperty() sentAt!: string;
  @ApiProperty() recordedAt!: string;
  @ApiProperty({ description: 'SHA-256 of the record and the previous hash (hex)' }) hash!: string;

  static of(r: ArchivedRecord): ArchivedRecordResponse {
    return {
      chainSeq: r.chainSeq,
      kind: r.kind,
      messageId: r.messageId,
      preMessageId: r.preMessageId,
      conversationId: r.conversationId,
      conversationKind: r.conversationKind,
      sender: r.sender,
      type: r.type,
      text: r.text,
      mentions: r.mentions,
      quoteSeq: r.quoteSeq,
      seq: r.seq,
      participants: r.participants,
      details: r.details,
      media: r.media as object[],
      consent: r.consent,
      sentAt: r.sentAt.toISOString(),
      recordedAt: r.recordedAt.toISOString(),
      hash: r.hash.toString('hex'),
    };
  }
}

export class SearchHitResponse extends ArchivedRecordResponse {
  @ApiProperty({ nullable: true, type: Number, description: 'When sorted by relevance' })
  score!: number | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'HTML-escaped snippet with hits in <em>',
  })
  highlight!: string | null;

  static ofHit(hit: FoundRecord): SearchHitResponse {
    return { ...ArchivedRecordResponse.of(hit.record), score: hit.score, highlight: hit.highlight };
  }
}

export class SearchPageResponse {
  @ApiProperty({ type: [SearchHitResponse] }) items!: SearchHitResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

class ArchivedConversationResponse {
  @ApiProperty() id!: string;
  @ApiProperty() kind!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [String] }) participants!: string[];
}

export class ConversationContextResponse {
  @ApiProperty({ type: ArchivedConversationResponse }) conversation!: ArchivedConversationResponse;
  @ApiProperty({ type: [ArchivedRecordResponse] }) records!: ArchivedRecordResponse[];
}

class BrokenLinkResponse {
  @ApiProperty() chainSeq!: number;
  @ApiProperty() reason!: string;
}

export class ChainReportResponse {
  @ApiProperty({ enum: ['archive', 'access'] }) chain!: string;
  @ApiProperty() ok!: boolean;
  @ApiProperty() records!: number;
  @ApiProperty({ nullable: true, type: String }) headHash!: string | null;
  @ApiProperty({ description: 'Positions removed by retention purges (walked with tombstones)' })
  purged!: number;
  @ApiProperty() signedHeadsChecked!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Signed heads read back from object storage and checked against the chain',
  })
  storedHeadsChecked!: number | null;
  @ApiProperty({ nullable: true, type: Number }) lastSignedSeq!: number | null;
  @ApiProperty({ nullable: true, type: BrokenLinkResponse })
  firstBroken!: BrokenLinkResponse | null;

  static of(r: ChainReport): ChainReportResponse {
    return { ...r };
  }
}

export class VerifyResponse {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ type: ChainReportResponse }) archive!: ChainReportResponse;
  @ApiProperty({ type: ChainReportResponse }) accessLog!: ChainReportResponse;
}
