import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsDefined,
  IsEmail,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { USERID_PATTERN } from '../../corps/dto/corp.dto';
import { MOBILE_PATTERN } from '../../members/member-fields';
import type { Gender, MemberStatus } from '../../members/member.entity';
import type { MemberWithDepartments } from '../../members/members.repository';
import {
  IgnoredString,
  IntList,
  OptionalInt,
  RequiredId,
  WecomQuery,
  WecomResponse,
} from './wecom.dto';

const NOT_BLANK = /\S/;
const USERID_MESSAGE = 'userid must be 1–64 of A-Z a-z 0-9 _ @ . -';

/** WeCom's gender: "1" male, "2" female, "0" unknown (numbers are accepted too). */
export const WECOM_GENDERS: Record<string, Gender> = { '0': 'unknown', '1': 'male', '2': 'female' };
const GENDER_CODES: Record<Gender, string> = { unknown: '0', male: '1', female: '2' };

/** WeCom's status: 1 active, 2 disabled, 4 inactive (invited, not joined), 5 left. */
export const WECOM_STATUS: Record<MemberStatus, number> = {
  active: 1,
  disabled: 2,
  inactive: 4,
  left: 5,
};

/** Fields WeCom documents that Qiwei does not keep: accepted (type-checked) and ignored. */
class WecomIgnoredUserFields {
  @IgnoredString(64)
  alias?: string;

  @IgnoredString(64)
  telephone?: string;

  @IgnoredString(128)
  address?: string;

  @IgnoredString(256)
  avatar_mediaid?: string;

  @ApiPropertyOptional({ description: 'Accepted and ignored (Qiwei sends no invitations)' })
  @IsOptional()
  @IsBoolean()
  to_invite?: boolean;

  @IgnoredString(64)
  external_position?: string;

  @ApiPropertyOptional({ description: 'Accepted and ignored' })
  @IsOptional()
  @IsEmail()
  @MaxLength(64)
  biz_mail?: string;

  @ApiPropertyOptional({ description: 'Accepted and ignored', type: Object })
  @IsOptional()
  @IsObject()
  extattr?: object;

  @ApiPropertyOptional({ description: 'Accepted and ignored', type: Object })
  @IsOptional()
  @IsObject()
  external_profile?: object;
}

class WecomUserFields extends WecomIgnoredUserFields {
  @ApiPropertyOptional({
    example: '13800000000',
    description: '1[3-9] and 9 digits, or + and 7–15 digits; unique in the corp; "" clears it',
  })
  @IsOptional()
  @IsString()
  @ValidateIf((_o, v) => v !== '')
  @Matches(MOBILE_PATTERN, {
    message: 'mobile must be 1[3-9] and 9 more digits, or + and 7–15 digits',
  })
  mobile?: string;

  @ApiPropertyOptional({ example: 'zhangsan@example.com', description: '"" clears it' })
  @IsOptional()
  @IsString()
  @ValidateIf((_o, v) => v !== '')
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ example: '产品经理' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  position?: string;

  @ApiPropertyOptional({ enum: ['0', '1', '2'], description: '1 male, 2 female, 0 unknown' })
  @IsOptional()
  @IsIn(['0', '1', '2', 0, 1, 2])
  gender?: string | number;

  @ApiPropertyOptional({ type: [Number], description: 'Order in each department of `department`' })
  @IsOptional()
  @IntList(100, 0)
  order?: number[];

  @ApiPropertyOptional({
    type: [Number],
    description: '1 leads the department of `department` at the same index',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsIn([0, 1], { each: true })
  is_leader_in_dept?: number[];

  @ApiPropertyOptional({ type: [String], description: 'Direct supervisors (at most 5)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(USERID_PATTERN, { each: true, message: 'each direct leader must be a userid' })
  direct_leader?: string[];

  @ApiPropertyOptional({ description: 'One of `department`; the first when absent' })
  @OptionalInt(1)
  main_department?: number;

  @ApiPropertyOptional({ enum: [0, 1], description: '0 disables the member, 1 enables them' })
  @IsOptional()
  @IsIn([0, 1])
  enable?: number;
}

export class WecomCreateUserDto extends WecomUserFields {
  @ApiProperty({ example: 'zhangsan' })
  @IsDefined()
  @IsString()
  @Matches(USERID_PATTERN, { message: USERID_MESSAGE })
  userid!: string;

  @ApiProperty({ example: '张三' })
  @IsDefined()
  @IsString()
  @Length(1, 64)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name!: string;

  @ApiProperty({ type: [Number], description: '1–100 department ids' })
  @IsDefined()
  @IntList(100, 1)
  @ArrayMinSize(1)
  @ArrayUnique()
  department!: number[];
}

export class WecomUpdateUserDto extends WecomUserFields {
  @ApiProperty({ example: 'zhangsan' })
  @IsDefined()
  @IsString()
  @Matches(USERID_PATTERN, { message: USERID_MESSAGE })
  userid!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({ type: [Number], description: 'Replaces every membership: 1–100 ids' })
  @IsOptional()
  @IntList(100, 1)
  @ArrayMinSize(1)
  @ArrayUnique()
  department?: number[];
}

export class WecomBatchDeleteUsersDto {
  @ApiProperty({ type: [String], description: '1–200 userids, deleted all or nothing' })
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(USERID_PATTERN, { each: true, message: USERID_MESSAGE })
  useridlist!: string[];
}

export class WecomListUserIdsDto {
  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 10000, default: 1000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  limit?: number;
}

export class WecomUseridQuery extends WecomQuery {
  @ApiProperty()
  @IsDefined()
  @IsString()
  @Matches(USERID_PATTERN, { message: USERID_MESSAGE })
  userid!: string;
}

export class WecomDepartmentUsersQuery extends WecomQuery {
  @ApiProperty()
  @RequiredId(true)
  department_id!: number;

  @ApiPropertyOptional({ enum: ['0', '1'], description: '1: the whole subtree' })
  @IsOptional()
  @IsIn(['0', '1'])
  fetch_child?: string;
}

export class WecomSimpleUser {
  @ApiProperty() userid!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [Number] }) department!: number[];

  static of({ member, departments }: MemberWithDepartments): WecomSimpleUser {
    return {
      userid: member.userid,
      name: member.name,
      department: departments.map((d) => d.departmentId),
    };
  }
}

export class WecomUser extends WecomSimpleUser {
  @ApiProperty({ type: [Number] }) order!: number[];
  @ApiProperty({ type: [Number] }) is_leader_in_dept!: number[];
  @ApiProperty({ type: [String] }) direct_leader!: string[];
  @ApiProperty() main_department!: number;
  @ApiProperty() position!: string;
  @ApiProperty({ description: '"" when none' }) mobile!: string;
  @ApiProperty({ description: '"" when none' }) email!: string;
  @ApiProperty({ enum: ['0', '1', '2'] }) gender!: string;
  @ApiProperty({ enum: [1, 2, 4, 5], description: '1 active, 2 disabled, 4 inactive, 5 left' })
  status!: number;

  static ofMember(found: MemberWithDepartments): WecomUser {
    const { member, departments } = found;
    return {
      ...WecomSimpleUser.of(found),
      order: departments.map((d) => d.order),
      is_leader_in_dept: departments.map((d) => (d.isLeader ? 1 : 0)),
      direct_leader: member.directLeaders,
      main_department: member.mainDepartmentId,
      position: member.position,
      mobile: member.mobile ?? '',
      email: member.email ?? '',
      gender: GENDER_CODES[member.gender],
      status: WECOM_STATUS[member.status],
    };
  }
}

export class WecomUserResponse extends WecomUser {
  @ApiProperty() errcode!: number;
  @ApiProperty() errmsg!: string;
}

export class WecomUserListResponse extends WecomResponse {
  @ApiProperty({ type: [WecomUser] }) userlist!: WecomUser[];
}

export class WecomSimpleUserListResponse extends WecomResponse {
  @ApiProperty({ type: [WecomSimpleUser] }) userlist!: WecomSimpleUser[];
}

export class WecomDepartmentUser {
  @ApiProperty() userid!: string;
  @ApiProperty() department!: number;
}

export class WecomUserIdsResponse extends WecomResponse {
  @ApiProperty({ description: '"" on the last page' }) next_cursor!: string;
  @ApiProperty({ type: [WecomDepartmentUser], description: 'One entry per membership' })
  dept_user!: WecomDepartmentUser[];
}
