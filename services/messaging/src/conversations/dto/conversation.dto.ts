import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateIf,
} from 'class-validator';
import type { ConversationState } from '../conversation-state';

export const USERID_PATTERN = /^[A-Za-z0-9_@.-]{1,64}$/;
const USERID_MESSAGE = 'each userid must be 1–64 of A-Z a-z 0-9 _ @ . -';
const NOT_BLANK = /\S/;

export class CreateConversationDto {
  @ApiProperty({ enum: ['single', 'group'] })
  @IsIn(['single', 'group'])
  kind!: 'single' | 'group';

  @ApiPropertyOptional({ description: 'single: the other member' })
  @ValidateIf((o: CreateConversationDto) => o.kind === 'single')
  @IsString()
  @Matches(USERID_PATTERN, { message: USERID_MESSAGE })
  peer?: string;

  @ApiPropertyOptional({ description: 'group: 1–64 characters' })
  @ValidateIf((o: CreateConversationDto) => o.kind === 'group')
  @IsString()
  @Length(1, 64)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({ type: [String], description: 'group: the members besides the creator' })
  @ValidateIf((o: CreateConversationDto) => o.kind === 'group')
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2000)
  @Matches(USERID_PATTERN, { each: true, message: USERID_MESSAGE })
  members?: string[];

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
  @ApiProperty({ enum: ['single', 'group'] }) kind!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) owner!: string | null;
  @ApiProperty() onlyAdminsPost!: boolean;
  @ApiProperty() onlyOwnerInvites!: boolean;
  @ApiProperty() memberLimit!: number;
  @ApiProperty({ description: 'Seq of the newest message' }) lastSeq!: number;
  @ApiProperty({ type: [ParticipantResponse] }) participants!: ParticipantResponse[];
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
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
    };
  }
}

export class ConversationPageResponse {
  @ApiProperty({ type: [ConversationResponse] }) items!: ConversationResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
