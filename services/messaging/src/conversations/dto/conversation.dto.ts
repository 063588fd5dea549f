import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageQuery } from '@qiwei/platform';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import type { ConversationState, GroupNotice } from '../conversation-state';

export const USERID_PATTERN = /^[A-Za-z0-9_@.-]{1,64}$/;
const USERID_MESSAGE = 'each userid must be 1–64 of A-Z a-z 0-9 _ @ . -';
const NOT_BLANK = /\S/;
/** An external contact's id (external_userid, issued by customer-contact). */
export const EXTERNAL_USERID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const EXTERNAL_USERID_MESSAGE = 'each external_userid must be 1–64 of A-Z a-z 0-9 _ -';
const CONVERSATION_KINDS = ['single', 'group', 'external', 'department'] as const;
const INT32_MAX = 2_147_483_647;

export class CreateConversationDto {
  @ApiProperty({
    enum: CONVERSATION_KINDS,
    description:
      'single (1:1), group (internal), external (members and external contacts), department (follows a department subtree)',
  })
  @IsIn(CONVERSATION_KINDS)
  kind!: (typeof CONVERSATION_KINDS)[number];

  @ApiPropertyOptional({ description: 'single: the other member' })
  @ValidateIf((o: CreateConversationDto) => o.kind === 'single')
  @IsString()
  @Matches(USERID_PATTERN, { message: USERID_MESSAGE })
  peer?: string;

  @ApiPropertyOptional({ description: 'groups of every kind: 1–64 characters' })
  @ValidateIf((o: CreateConversationDto) => o.kind !== 'single' || o.name !== undefined)
  @IsString()
  @Length(1, 64)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({
    type: [String],
    description:
      'group (at least one) and external (optional): the members besides the creator; not for department groups',
  })
  @ValidateIf((o: CreateConversationDto) => o.kind === 'group' || o.members !== undefined)
  @IsArray()
  @ArrayMaxSize(2000)
  @Matches(USERID_PATTERN, { each: true, message: USERID_MESSAGE })
  members?: string[];

  @ApiPropertyOptional({
    type: [String],
    description: 'external: the external contacts (external_userid) to take in',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(2000)
  @Matches(EXTERNAL_USERID_PATTERN, { each: true, message: EXTERNAL_USERID_MESSAGE })
  externalUserids?: string[];

  @ApiPropertyOptional({ description: 'department: the department whose subtree is the group' })
  @ValidateIf((o: CreateConversationDto) => o.kind === 'department' || o.departmentId !== undefined)
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  departmentId?: number;

  @ApiPropertyOptional({
    description: 'department: the owner, a member of the subtree (default: the caller)',
  })
  @IsOptional()
  @IsString()
  @Matches(USERID_PATTERN, { message: USERID_MESSAGE })
  owner?: string;

  @ApiPropertyOptional({ description: 'group: only the owner and admins post (全员禁言)' })
  @IsOptional()
  @IsBoolean()
  onlyAdminsPost?: boolean;

  @ApiPropertyOptional({ description: 'group: only the owner invites (仅群主可邀请)' })
  @IsOptional()
  @IsBoolean()
  onlyOwnerInvites?: boolean;
}

export class UpdateGroupDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  onlyAdminsPost?: boolean;

  @ApiPropertyOptional({ description: 'owner only' })
  @IsOptional()
  @IsBoolean()
  onlyOwnerInvites?: boolean;

  @ApiPropertyOptional({ description: 'owner only: transfer the group to this member' })
  @IsOptional()
  @IsString()
  @Matches(USERID_PATTERN, { message: USERID_MESSAGE })
  owner?: string;

  @ApiPropertyOptional({ type: [String], description: 'owner only: the group’s admins' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(USERID_PATTERN, { each: true, message: USERID_MESSAGE })
  admins?: string[];

  @ApiPropertyOptional({
    description:
      'owner only: members (and external contacts) the group may have, from its headcount up to GROUP_MEMBER_LIMIT (EXTERNAL_GROUP_MEMBER_LIMIT for external groups); not for department groups',
  })
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(INT32_MAX)
  memberLimit?: number;

  @ApiPropertyOptional({
    description:
      'Sent by the owner, mentioning them, whenever members join (at most MESSAGE_TEXT_MAX_BYTES of UTF-8); empty for none',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1_048_576)
  welcomeMessage?: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'The group’s tags (replaces them): at most 20, each 1–32 characters',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Length(1, 32, { each: true })
  @Matches(NOT_BLANK, { each: true, message: 'tags must not be blank' })
  tags?: string[];
}

export class ConversationListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: CONVERSATION_KINDS, description: 'Only conversations of this kind' })
  @IsOptional()
  @IsIn(CONVERSATION_KINDS)
  kind?: (typeof CONVERSATION_KINDS)[number];

  @ApiPropertyOptional({ description: 'Only groups with this tag' })
  @IsOptional()
  @IsString()
  @Length(1, 32)
  tag?: string;
}

export class AddExternalContactsDto {
  @ApiProperty({ type: [String], description: 'external_userid of each contact' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @Matches(EXTERNAL_USERID_PATTERN, { each: true, message: EXTERNAL_USERID_MESSAGE })
  externalUserids!: string[];
}

export class PublishNoticeDto {
  @ApiProperty({ description: 'The notice (群公告): at most MESSAGE_TEXT_MAX_BYTES of UTF-8' })
  @IsString()
  @MaxLength(1_048_576)
  @Matches(NOT_BLANK, { message: 'text must not be blank (DELETE the notice to clear it)' })
  text!: string;
}

export class NoticeResponse {
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'Empty: the notice was cleared in this version' }) text!: string;
  @ApiProperty() publishedBy!: string;
  @ApiProperty() publishedAt!: string;

  static of(n: GroupNotice): NoticeResponse {
    return {
      version: n.version,
      text: n.text,
      publishedBy: n.publishedBy,
      publishedAt: n.publishedAt.toISOString(),
    };
  }
}

export class NoticePageResponse {
  @ApiProperty({ type: [NoticeResponse] }) items!: NoticeResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

class ExternalParticipantResponse {
  @ApiProperty() externalUserid!: string;
  @ApiProperty() addedBy!: string;
  @ApiProperty() joinedAt!: string;
}

export class AddMembersDto {
  @ApiProperty({ type: [String] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @Matches(USERID_PATTERN, { each: true, message: USERID_MESSAGE })
  userids!: string[];
}

class ParticipantResponse {
  @ApiProperty() userid!: string;
  @ApiProperty({ enum: ['owner', 'admin', 'member'] }) role!: string;
  @ApiProperty() joinedAt!: string;
  @ApiProperty({ description: 'Read everything up to this seq' }) readSeq!: number;
}

export class ConversationResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: CONVERSATION_KINDS }) kind!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) owner!: string | null;
  @ApiProperty() onlyAdminsPost!: boolean;
  @ApiProperty() onlyOwnerInvites!: boolean;
  @ApiProperty() memberLimit!: number;
  @ApiProperty({ description: 'Seq of the newest message' }) lastSeq!: number;
  @ApiProperty({ type: [ParticipantResponse] }) participants!: ParticipantResponse[];
  @ApiProperty({ type: [ExternalParticipantResponse], description: 'External groups only' })
  externalParticipants!: ExternalParticipantResponse[];
  @ApiProperty({ nullable: true, type: Number, description: 'Department groups only' })
  departmentId!: number | null;
  @ApiProperty({ nullable: true, type: NoticeResponse, description: 'The current notice (群公告)' })
  notice!: NoticeResponse | null;
  @ApiProperty() welcomeMessage!: string;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({
    type: [String],
    description:
      'Department groups at their member limit: members of the subtree waiting for a seat, oldest first (they join as seats free up)',
  })
  waiting!: string[];
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static of(c: ConversationState): ConversationResponse {
    return {
      id: c.id,
      kind: c.kind,
      name: c.name,
      owner: c.owner,
      onlyAdminsPost: c.onlyAdminsPost,
      onlyOwnerInvites: c.onlyOwnerInvites,
      memberLimit: c.memberLimit,
      lastSeq: c.lastSeq,
      participants: c.participants.map((p) => ({
        userid: p.userid,
        role: p.role,
        joinedAt: p.joinedAt.toISOString(),
        readSeq: p.readSeq,
      })),
      externalParticipants: c.externalParticipants.map((e) => ({
        externalUserid: e.externalUserid,
        addedBy: e.addedBy,
        joinedAt: e.joinedAt.toISOString(),
      })),
      departmentId: c.departmentId,
      notice: c.notice && NoticeResponse.of(c.notice),
      welcomeMessage: c.welcomeMessage,
      tags: c.tags,
      waiting: c.waiting,
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
    };
  }
}

export class ConversationPageResponse {
  @ApiProperty({ type: [ConversationResponse] }) items!: ConversationResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
