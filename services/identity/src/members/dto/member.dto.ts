import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmail,
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
  ValidateNested,
} from 'class-validator';
import { USERID_PATTERN } from '../../corps/dto/corp.dto';
import { PERMISSIONS, type Permission } from '../../access/access';
import { PageQuery } from '../../pagination/cursor';
import {
  EMAIL_MAX_LENGTH,
  FIELD_MESSAGES,
  MAX_DEPARTMENTS_PER_MEMBER,
  MOBILE_PATTERN,
  NAME_MAX_LENGTH,
  NOT_BLANK,
  POSITION_MAX_LENGTH,
} from '../member-fields';
import type { MemberWithDepartments } from '../members.repository';

const INT32_MAX = 2_147_483_647;

export class MembershipDto {
  @ApiProperty({ description: 'Department id' })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  id!: number;

  @ApiPropertyOptional({
    description: 'Order among the department’s members; higher sorts first',
    default: 0,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT32_MAX)
  order?: number;

  @ApiPropertyOptional({ description: 'Leader in this department (部门负责人)', default: false })
  @IsOptional()
  @IsBoolean()
  isLeader?: boolean;
}

class MemberProfileDto {
  @ApiPropertyOptional({
    example: '13800138000',
    description: 'Unique in the corp; 1[3-9]xxxxxxxxx or +<country><number>',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Matches(MOBILE_PATTERN, { message: FIELD_MESSAGES.mobile })
  mobile?: string | null;

  @ApiPropertyOptional({ example: 'zhangsan@example.com' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsEmail()
  @MaxLength(EMAIL_MAX_LENGTH)
  email?: string | null;

  @ApiPropertyOptional({ example: '销售经理' })
  @IsOptional()
  @IsString()
  @MaxLength(POSITION_MAX_LENGTH)
  position?: string;

  @ApiPropertyOptional({ enum: ['unknown', 'male', 'female'] })
  @IsOptional()
  @IsIn(['unknown', 'male', 'female'])
  gender?: 'unknown' | 'male' | 'female';

  @ApiPropertyOptional({ description: 'One of `departments`; the first one when absent' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  mainDepartmentId?: number;

  @ApiPropertyOptional({ type: [String], description: 'Userids of direct supervisors (at most 5)' })
  @IsOptional()
  @ArrayMaxSize(5)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(USERID_PATTERN, { each: true, message: 'each direct leader must be a userid' })
  directLeaders?: string[];
}

export class CreateMemberDto extends MemberProfileDto {
  @ApiPropertyOptional({
    description: '1–64 of A–Z a–z 0–9 _ @ . -; generated when absent',
    example: 'zhangsan',
  })
  @IsOptional()
  @IsString()
  @Matches(USERID_PATTERN, { message: FIELD_MESSAGES.userid })
  userid?: string;

  @ApiProperty({ example: '张三' })
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  @Matches(NOT_BLANK, { message: FIELD_MESSAGES.nameBlank })
  name!: string;

  @ApiProperty({ type: [MembershipDto], description: '1–100 departments' })
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_DEPARTMENTS_PER_MEMBER)
  @ArrayUnique((d: MembershipDto) => d.id, { message: 'each department may appear once' })
  @ValidateNested({ each: true })
  @Type(() => MembershipDto)
  departments!: MembershipDto[];

  @ApiPropertyOptional({
    enum: ['active', 'inactive'],
    description: '`inactive`: invited, not joined yet',
  })
  @IsOptional()
  @IsIn(['active', 'inactive'])
  status?: 'active' | 'inactive';
}

export class UpdateMemberDto extends MemberProfileDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  @Matches(NOT_BLANK, { message: FIELD_MESSAGES.nameBlank })
  name?: string;

  @ApiPropertyOptional({ type: [MembershipDto] })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_DEPARTMENTS_PER_MEMBER)
  @ArrayUnique((d: MembershipDto) => d.id, { message: 'each department may appear once' })
  @ValidateNested({ each: true })
  @Type(() => MembershipDto)
  departments?: MembershipDto[];
}

export class ListMembersQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Include the whole subtree', default: false })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean()
  recursive?: boolean;

  @ApiPropertyOptional({ enum: ['active', 'disabled', 'inactive', 'left'] })
  @IsOptional()
  @IsIn(['active', 'disabled', 'inactive', 'left'])
  status?: 'active' | 'disabled' | 'inactive' | 'left';
}

export class AdminScopeDto {
  @ApiProperty({ description: 'The top department of the subtree' })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  departmentId!: number;

  @ApiProperty({ enum: PERMISSIONS, isArray: true })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(PERMISSIONS.length)
  @ArrayUnique()
  @IsIn(PERMISSIONS, { each: true })
  permissions!: Permission[];
}

const ASSIGNABLE_ROLES = ['super_admin', 'department_admin', 'compliance_officer'] as const;

export class SetRolesDto {
  @ApiProperty({
    enum: ASSIGNABLE_ROLES,
    isArray: true,
    description:
      'Every member also has the role `member`; an empty list takes every admin role away',
  })
  @IsArray()
  @ArrayMaxSize(ASSIGNABLE_ROLES.length)
  @ArrayUnique()
  @IsIn(ASSIGNABLE_ROLES, { each: true })
  roles!: (typeof ASSIGNABLE_ROLES)[number][];

  @ApiPropertyOptional({
    type: [AdminScopeDto],
    description: 'Required with `department_admin`, refused without it',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => AdminScopeDto)
  scopes?: AdminScopeDto[];
}

export class MemberResponse {
  @ApiProperty() userid!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) mobile!: string | null;
  @ApiProperty({ nullable: true, type: String }) email!: string | null;
  @ApiProperty() position!: string;
  @ApiProperty({ enum: ['unknown', 'male', 'female'] }) gender!: string;
  @ApiProperty({ enum: ['active', 'disabled', 'inactive', 'left'] }) status!: string;
  @ApiProperty({ type: [MembershipDto] }) departments!: {
    id: number;
    order: number;
    isLeader: boolean;
  }[];
  @ApiProperty() mainDepartmentId!: number;
  @ApiProperty({ type: [String] }) directLeaders!: string[];
  @ApiProperty({ type: [String] }) roles!: string[];
  @ApiProperty({ type: [AdminScopeDto], description: 'A department admin’s scope' })
  adminScopes!: { departmentId: number; permissions: string[] }[];
  @ApiProperty() joinedAt!: string;
  @ApiProperty({ nullable: true, type: String }) leftAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static of({ member, departments, scopes }: MemberWithDepartments): MemberResponse {
    return {
      userid: member.userid,
      name: member.name,
      mobile: member.mobile,
      email: member.email,
      position: member.position,
      gender: member.gender,
      status: member.status,
      departments: departments.map((d) => ({
        id: d.departmentId,
        order: d.order,
        isLeader: d.isLeader,
      })),
      mainDepartmentId: member.mainDepartmentId,
      directLeaders: member.directLeaders,
      roles: member.roles,
      adminScopes: scopes,
      joinedAt: member.joinedAt.toISOString(),
      leftAt: member.leftAt ? member.leftAt.toISOString() : null,
      createdAt: member.createdAt.toISOString(),
      updatedAt: member.updatedAt.toISOString(),
    };
  }
}

export class MemberPageResponse {
  @ApiProperty({ type: [MemberResponse] }) items!: MemberResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
