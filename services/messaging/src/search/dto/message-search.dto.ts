import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { MessageResponse, MESSAGE_TYPES } from '../../messages/dto/message.dto';
import type { FoundMessage } from '../../messages/messages.repository';

const SEARCHABLE_TYPES = [...MESSAGE_TYPES, 'news'] as const;

export class MessageSearchQuery {
  @ApiPropertyOptional({
    description:
      'Keywords separated by spaces, all of which must occur (Chinese found inside unspaced text; case-insensitive); at most 10 keywords, 200 characters',
    example: '理财 报价',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ description: 'Only messages of this sender (a userid or robot:<id>)' })
  @IsOptional()
  @IsString()
  @Matches(/^(robot:[0-9a-f-]{36}|[A-Za-z0-9_@.-]{1,64})$/, {
    message: 'sender must be a userid or robot:<robotId>',
  })
  sender?: string;

  @ApiPropertyOptional({ description: 'Only this conversation of yours' })
  @IsOptional()
  @IsUUID()
  conversationId?: string;

  @ApiPropertyOptional({ enum: SEARCHABLE_TYPES, description: 'Only messages of this type' })
  @IsOptional()
  @IsIn(SEARCHABLE_TYPES)
  type?: (typeof SEARCHABLE_TYPES)[number];

  @ApiPropertyOptional({
    description: 'Sent at or after (RFC 3339)',
    example: '2025-03-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Sent before (RFC 3339)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ default: 20, maximum: 100 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

class FoundConversationResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['single', 'group', 'external', 'department'] }) kind!: string;
  @ApiProperty({ description: 'Empty for 1:1 conversations' }) name!: string;
}

class HighlightResponse {
  @ApiProperty({ description: 'Start in `message.text` (UTF-16 code units)' }) start!: number;
  @ApiProperty({ description: 'End, exclusive' }) end!: number;
}

export class MessageSearchHitResponse {
  @ApiProperty({ type: FoundConversationResponse }) conversation!: FoundConversationResponse;
  @ApiProperty({ type: MessageResponse }) message!: MessageResponse;
  @ApiProperty({
    type: [HighlightResponse],
    description: 'Where the keywords occur literally in `message.text` (empty without keywords)',
  })
  highlights!: HighlightResponse[];

  static of(m: FoundMessage, highlights: HighlightResponse[]): MessageSearchHitResponse {
    return {
      conversation: { id: m.conversationId, kind: m.conversationKind, name: m.conversationName },
      message: MessageResponse.of(m),
      highlights,
    };
  }
}

export class MessageSearchPageResponse {
  @ApiProperty({ type: [MessageSearchHitResponse] }) items!: MessageSearchHitResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
