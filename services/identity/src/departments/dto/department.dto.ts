import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ROLES } from '@qiwei/auth';
import { DEPARTMENT_VISIBILITIES } from '../department.entity';
import type { DepartmentDetails } from '../departments.service';
import type { Department } from '../department.entity';

const INT32_MAX = 2_147_483_647;

export class CreateDepartmentDto {
  @ApiProperty({
    description: '1–64 characters, none of \\:*?"<>|; unique among siblings',
    example: '华东区',
  })
  @IsString()
  @MaxLength(1024)
  name!: string;

  @ApiProperty({ description: 'Parent department id (the root is 1)', example: 1 })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  parentId!: number;

  @ApiPropertyOptional({ description: 'Position among siblings; higher sorts first', default: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT32_MAX)
  order?: number;

  @ApiPropertyOptional({
    description: 'Explicit id (> 1, unused in the corp); allocated when absent',
  })
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(INT32_MAX)
  id?: number;
}

export class VisibilityDto {
  @ApiProperty({
    enum: DEPARTMENT_VISIBILITIES,
    description:
      '`hidden`: only its own members, its admins and super admins see it; `restricted`: also the roles and the members of the departments named here',
  })
  @IsIn(DEPARTMENT_VISIBILITIES)
  mode!: (typeof DEPARTMENT_VISIBILITIES)[number];

  @ApiPropertyOptional({ enum: ROLES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(ROLES.length)
  @IsIn(ROLES, { each: true })
  roles?: string[];

  @ApiPropertyOptional({ type: [Number], description: 'Their members (with subtrees) see it' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  departmentIds?: number[];
}

export class UpdateDepartmentDto {
  @ApiPropertyOptional({ type: VisibilityDto, description: 'Who sees the department' })
  @IsOptional()
  @ValidateNested()
  @Type(() => VisibilityDto)
  visibility?: VisibilityDto;

  @ApiPropertyOptional({ description: 'Rename' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  name?: string;

  @ApiPropertyOptional({ description: 'Move under another department' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  parentId?: number;

  @ApiPropertyOptional({ description: 'Reorder among siblings; higher sorts first' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT32_MAX)
  order?: number;
}

export class DepartmentResponse {
  @ApiProperty() id!: number;
  @ApiProperty({ nullable: true, type: Number }) parentId!: number | null;
  @ApiProperty() name!: string;
  @ApiProperty() order!: number;
  @ApiProperty({ description: 'Level in the tree; the root is 1' }) depth!: number;
  @ApiProperty({ type: VisibilityDto }) visibility!: VisibilityDto;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static of(d: Department): DepartmentResponse {
    return {
      id: d.id,
      parentId: d.parentId,
      name: d.name,
      order: d.order,
      depth: d.depth,
      visibility: {
        mode: d.visibility,
        roles: d.visibleToRoles,
        departmentIds: d.visibleToDepartments,
      },
      createdAt: d.createdAt.toISOString(),
      updatedAt: d.updatedAt.toISOString(),
    };
  }
}

class DepartmentAdminResponse {
  @ApiProperty() userid!: string;
  @ApiProperty({ type: [String] }) permissions!: string[];
}

export class DepartmentDetailsResponse extends DepartmentResponse {
  @ApiProperty({ type: [String], description: 'Leaders (部门负责人), by userid' })
  leaders!: string[];
  @ApiProperty({
    type: [DepartmentAdminResponse],
    description: 'Department admins whose scope starts here',
  })
  admins!: DepartmentAdminResponse[];

  static ofDetails({ department, leaders, admins }: DepartmentDetails): DepartmentDetailsResponse {
    return { ...DepartmentResponse.of(department), leaders, admins };
  }
}

export class DepartmentPageResponse {
  @ApiProperty({ type: [DepartmentResponse] }) items!: DepartmentResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
