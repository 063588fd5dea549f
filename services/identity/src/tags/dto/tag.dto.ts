import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { USERID_PATTERN } from '../../corps/dto/corp.dto';
import type { Member } from '../../members/member.entity';
import type { TagView } from '../tags.service';

const INT32_MAX = 2_147_483_647;
// eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
export const TAG_NAME = /^(?=.*\S)[^\u0000-\u001f\u007f]+$/;

export class CreateTagDto {
  @ApiProperty({ description: '1–32 characters, unique in the corp', example: '重点客户经理' })
  @IsString()
  @Length(1, 32)
  @Matches(TAG_NAME, { message: 'name must not be blank or contain control characters' })
  name!: string;

  @ApiPropertyOptional({ description: 'Explicit id; allocated when absent' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  id?: number;
}

export class RenameTagDto {
  @ApiProperty({ description: '1–32 characters, unique in the corp' })
  @IsString()
  @Length(1, 32)
  @Matches(TAG_NAME, { message: 'name must not be blank or contain control characters' })
  name!: string;
}

export class TagTargetsDto {
  @ApiPropertyOptional({ type: [String], description: 'At most 1,000 userids' })
  @IsOptional()
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(USERID_PATTERN, {
    each: true,
    message: 'each userid must be 1–64 of A-Z a-z 0-9 _ @ . -',
  })
  userids?: string[];

  @ApiPropertyOptional({ type: [Number], description: 'At most 100 department ids' })
  @IsOptional()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  departmentIds?: number[];
}

export class TagResponse {
  @ApiProperty() id!: number;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [String] }) userids!: string[];
  @ApiProperty({ type: [Number] }) departmentIds!: number[];
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static of(view: TagView): TagResponse {
    return {
      id: view.tag.id,
      name: view.tag.name,
      userids: view.userids,
      departmentIds: view.departmentIds,
      createdAt: view.tag.createdAt.toISOString(),
      updatedAt: view.tag.updatedAt.toISOString(),
    };
  }
}

export class TagSummary {
  @ApiProperty() id!: number;
  @ApiProperty() name!: string;
}

export class TagPageResponse {
  @ApiProperty({ type: [TagSummary] }) items!: TagSummary[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class TagMemberSummary {
  @ApiProperty() userid!: string;
  @ApiProperty() name!: string;
  @ApiProperty() status!: string;

  static of(m: Member): TagMemberSummary {
    return { userid: m.userid, name: m.name, status: m.status };
  }
}

export class TagMemberPageResponse {
  @ApiProperty({ type: [TagMemberSummary] }) items!: TagMemberSummary[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
