import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsOptional, IsString, MaxLength } from 'class-validator';
import type { Department } from '../../departments/department.entity';
import { IgnoredString, OptionalInt, RequiredId, WecomQuery, WecomResponse } from './wecom.dto';

/** Name rules (1–64 characters without \:*?"<>|) are the use case's: errcode 60009. */
class WecomDepartmentFields {
  @IgnoredString(64)
  name_en?: string;

  @ApiPropertyOptional({ description: 'Position among siblings; higher sorts first' })
  @OptionalInt(0)
  order?: number;
}

export class WecomCreateDepartmentDto extends WecomDepartmentFields {
  @ApiProperty({ example: '广州研发中心' })
  @IsDefined()
  @IsString()
  @MaxLength(1024)
  name!: string;

  @ApiProperty({ example: 1 })
  @RequiredId()
  parentid!: number;

  @ApiPropertyOptional({ description: 'Explicit id (> 1); allocated when absent' })
  @OptionalInt(2)
  id?: number;
}

export class WecomUpdateDepartmentDto extends WecomDepartmentFields {
  @ApiProperty()
  @RequiredId()
  id!: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  name?: string;

  @ApiPropertyOptional({ description: 'Move under this department (with the whole subtree)' })
  @OptionalInt(1)
  parentid?: number;
}

export class WecomDepartmentIdQuery extends WecomQuery {
  @ApiProperty()
  @RequiredId(true)
  id!: number;
}

export class WecomDepartmentListQuery extends WecomQuery {
  @ApiPropertyOptional({
    description: 'This department and its whole subtree; every visible department when absent',
  })
  @OptionalInt(1, true)
  id?: number;
}

export class WecomDepartment {
  @ApiProperty() id!: number;
  @ApiProperty() name!: string;
  @ApiProperty({ description: '0 for the root' }) parentid!: number;
  @ApiProperty() order!: number;
  @ApiProperty({ type: [String], description: 'Leaders (部门负责人), by userid' })
  department_leader!: string[];

  static of(d: Department, leaders: string[]): WecomDepartment {
    return {
      id: d.id,
      name: d.name,
      parentid: d.parentId ?? 0,
      order: d.order,
      department_leader: leaders,
    };
  }
}

export class WecomDepartmentCreatedResponse extends WecomResponse {
  @ApiProperty() id!: number;
}

export class WecomDepartmentResponse extends WecomResponse {
  @ApiProperty({ type: WecomDepartment }) department!: WecomDepartment;
}

export class WecomDepartmentListResponse extends WecomResponse {
  @ApiProperty({ type: [WecomDepartment] }) department!: WecomDepartment[];
}

export class WecomDepartmentId {
  @ApiProperty() id!: number;
  @ApiProperty() parentid!: number;
  @ApiProperty() order!: number;
}

export class WecomDepartmentSimpleListResponse extends WecomResponse {
  @ApiProperty({ type: [WecomDepartmentId] }) department_id!: WecomDepartmentId[];
}
