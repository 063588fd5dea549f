import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { TAG_NAME } from '../../tags/dto/tag.dto';
import { IntList, OptionalInt, RequiredId, WecomQuery, WecomResponse } from './wecom.dto';

const TAG_NAME_MESSAGE = 'tagname must not be blank or contain control characters';

class WecomTagId {
  @ApiProperty()
  @RequiredId()
  tagid!: number;
}

export class WecomCreateTagDto {
  @ApiProperty({ description: '1–32 characters, unique in the corp', example: 'UI设计' })
  @IsDefined()
  @IsString()
  @Length(1, 32)
  @Matches(TAG_NAME, { message: TAG_NAME_MESSAGE })
  tagname!: string;

  @ApiPropertyOptional({ description: 'Explicit id; allocated when absent' })
  @OptionalInt(1)
  tagid?: number;
}

export class WecomUpdateTagDto extends WecomTagId {
  @ApiProperty({ description: '1–32 characters, unique in the corp' })
  @IsDefined()
  @IsString()
  @Length(1, 32)
  @Matches(TAG_NAME, { message: TAG_NAME_MESSAGE })
  tagname!: string;
}

/**
 * Unknown userids and department ids (or ones outside the app's range) are not an error: they
 * come back in `invalidlist` / `invalidparty`, as in WeCom.
 */
export class WecomTagTargetsDto extends WecomTagId {
  @ApiPropertyOptional({ type: [String], description: 'At most 1,000 userids' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  userlist?: string[];

  @ApiPropertyOptional({ type: [Number], description: 'At most 100 department ids' })
  @IsOptional()
  @IntList(100, 1)
  @ArrayUnique()
  partylist?: number[];
}

export class WecomTagIdQuery extends WecomQuery {
  @ApiProperty()
  @RequiredId(true)
  tagid!: number;
}

export class WecomTagCreatedResponse extends WecomResponse {
  @ApiProperty() tagid!: number;
}

export class WecomTagUser {
  @ApiProperty() userid!: string;
  @ApiProperty() name!: string;
}

export class WecomTagResponse extends WecomResponse {
  @ApiProperty() tagname!: string;
  @ApiProperty({ type: [WecomTagUser], description: 'Members tagged directly' })
  userlist!: WecomTagUser[];
  @ApiProperty({ type: [Number], description: 'Departments tagged' }) partylist!: number[];
}

export class WecomTagSummary {
  @ApiProperty() tagid!: number;
  @ApiProperty() tagname!: string;
}

export class WecomTagListResponse extends WecomResponse {
  @ApiProperty({ type: [WecomTagSummary] }) taglist!: WecomTagSummary[];
}

export class WecomTagTargetsResponse extends WecomResponse {
  @ApiPropertyOptional({ description: 'Userids left out, joined by |' }) invalidlist?: string;
  @ApiPropertyOptional({ type: [Number], description: 'Department ids left out' })
  invalidparty?: number[];
}
