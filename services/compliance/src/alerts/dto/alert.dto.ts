import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageQuery } from '@qiwei/platform';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { CONVERSATION_KINDS } from '../../archive/archive-record';
import type { Alert } from '../alert';
import type { AlertRule } from '../alert-rule';
import { REGEX_MAX_LENGTH } from '../bounded-regex';

/** A rule's scope: conversation kinds, external chats only, senders' departments. */
const ScopeKinds = (description: string) =>
  applyDecorators(
    ApiPropertyOptional({ enum: CONVERSATION_KINDS, isArray: true, description }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(CONVERSATION_KINDS.length),
    ArrayUnique(),
    IsIn(CONVERSATION_KINDS, { each: true }),
  );
const ScopeExternalOnly = () =>
  applyDecorators(
    ApiPropertyOptional({
      description:
        'Only chats with external contacts: external groups, and any conversation external contacts were in when the message was archived',
    }),
    IsOptional(),
    IsBoolean(),
  );
const ScopeDepartments = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: [Number],
      maxItems: 50,
      description:
        'Department ids: only messages whose sender was in one of these subtrees when archived (apps and robots are in none); empty: every sender',
    }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(50),
    IsInt({ each: true }),
    Min(1, { each: true }),
    Max(2_147_483_647, { each: true }),
  );

export class CreateAlertRuleDto {
  @ApiProperty({ minLength: 1, maxLength: 64 })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiProperty({ enum: ['keyword', 'regex'] })
  @IsIn(['keyword', 'regex'])
  kind!: 'keyword' | 'regex';

  @ApiPropertyOptional({ type: [String], description: 'kind keyword: any of these (1–100)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(100, { each: true })
  keywords?: string[];

  @ApiPropertyOptional({
    maxLength: REGEX_MAX_LENGTH,
    description: 'kind regex: run in linear time (no back-references or look-around)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(REGEX_MAX_LENGTH)
  pattern?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  caseInsensitive?: boolean;

  @ScopeKinds(
    'Only these conversation kinds (`app`: app messages, `announcement`: announcements); empty: all',
  )
  conversationKinds?: string[];

  @ScopeExternalOnly()
  externalOnly?: boolean;

  @ScopeDepartments()
  departments?: number[];
}

export class UpdateAlertRuleDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 64 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(100, { each: true })
  keywords?: string[];

  @ApiPropertyOptional({ maxLength: REGEX_MAX_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(REGEX_MAX_LENGTH)
  pattern?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  caseInsensitive?: boolean;

  @ScopeKinds('Only these conversation kinds; empty: all')
  conversationKinds?: string[];

  @ScopeExternalOnly()
  externalOnly?: boolean;

  @ScopeDepartments()
  departments?: number[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class AlertRuleResponse {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['keyword', 'regex'] }) kind!: string;
  @ApiProperty({ type: [String] }) keywords!: string[];
  @ApiProperty() pattern!: string;
  @ApiProperty() caseInsensitive!: boolean;
  @ApiProperty({ enum: CONVERSATION_KINDS, isArray: true })
  conversationKinds!: string[];
  @ApiProperty({ description: 'Only chats with external contacts' }) externalOnly!: boolean;
  @ApiProperty({ type: [Number], description: 'Senders’ department subtrees; empty: all' })
  departments!: number[];
  @ApiProperty() enabled!: boolean;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static of(r: AlertRule): AlertRuleResponse {
    return {
      id: r.id,
      name: r.name,
      kind: r.kind,
      keywords: r.keywords,
      pattern: r.pattern,
      caseInsensitive: r.caseInsensitive,
      conversationKinds: r.conversationKinds,
      externalOnly: r.externalOnly,
      departments: r.departments,
      enabled: r.enabled,
      createdBy: r.createdBy,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    };
  }
}

export class AlertRuleListResponse {
  @ApiProperty({ type: [AlertRuleResponse] }) items!: AlertRuleResponse[];
}

export class AlertsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['open', 'assigned', 'closed'] })
  @IsOptional()
  @IsIn(['open', 'assigned', 'closed'])
  status?: 'open' | 'assigned' | 'closed';

  @ApiPropertyOptional({ format: 'uuid', description: 'The hits of one rule' })
  @IsOptional()
  @IsUUID()
  ruleId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[A-Za-z0-9_@.-]{1,64}$/, { message: 'assignee is a userid' })
  assignee?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[A-Za-z0-9_@.-]{1,64}$/, { message: 'sender is a userid' })
  sender?: string;
}

export class AssignAlertDto {
  @ApiProperty({ description: 'An active compliance officer of the corp' })
  @IsString()
  @Matches(/^[A-Za-z0-9_@.-]{1,64}$/, { message: 'assignee is a userid' })
  assignee!: string;
}

export class CloseAlertDto {
  @ApiProperty({ minLength: 1, maxLength: 2000 })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  @Matches(/\S/, { message: 'note must not be blank' })
  note!: string;
}

export class AlertResponse {
  @ApiProperty() id!: string;
  @ApiProperty() ruleId!: string;
  @ApiProperty() ruleName!: string;
  @ApiProperty() ruleKind!: string;
  @ApiProperty({ description: 'The record’s position in the archive chain' }) archiveSeq!: number;
  @ApiProperty() messageId!: string;
  @ApiProperty() conversationId!: string;
  @ApiProperty() conversationKind!: string;
  @ApiProperty() sender!: string;
  @ApiProperty() matchedText!: string;
  @ApiProperty() sentAt!: string;
  @ApiProperty({ enum: ['open', 'assigned', 'closed'] }) status!: string;
  @ApiProperty({ nullable: true, type: String }) assignee!: string | null;
  @ApiProperty({ nullable: true, type: String }) note!: string | null;
  @ApiProperty({ nullable: true, type: String }) closedBy!: string | null;
  @ApiProperty({ nullable: true, type: String }) closedAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static of(a: Alert): AlertResponse {
    return {
      id: a.id,
      ruleId: a.ruleId,
      ruleName: a.ruleName,
      ruleKind: a.ruleKind,
      archiveSeq: a.archiveSeq,
      messageId: a.messageId,
      conversationId: a.conversationId,
      conversationKind: a.conversationKind,
      sender: a.sender,
      matchedText: a.matchedText,
      sentAt: a.sentAt.toISOString(),
      status: a.status,
      assignee: a.assignee,
      note: a.note,
      closedBy: a.closedBy,
      closedAt: a.closedAt?.toISOString() ?? null,
      createdAt: a.createdAt.toISOString(),
      updatedAt: a.updatedAt.toISOString(),
    };
  }
}

export class AlertPageResponse {
  @ApiProperty({ type: [AlertResponse] }) items!: AlertResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
