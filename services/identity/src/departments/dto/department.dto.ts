import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
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

export class UpdateDepartmentDto {
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
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static of(d: Department): DepartmentResponse {
    return {
      id: d.id,
      parentId: d.parentId,
      name: d.name,
      order: d.order,
      depth: d.depth,
      createdAt: d.createdAt.toISOString(),
      updatedAt: d.updatedAt.toISOString(),
    };
  }
}

export class DepartmentPageResponse {
  @ApiProperty({ type: [DepartmentResponse] }) items!: DepartmentResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
