import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard } from '@qiwei/auth';
import type { Access } from '../access/access';
import { CurrentAccess } from '../access/current-access';
import { Idempotent } from '@qiwei/persistence';
import { PositiveIntPipe, ValidationFailedException } from '@qiwei/platform';
import { DEFAULT_PAGE_SIZE, PageQuery } from '../pagination/cursor';
import { DepartmentsService } from './departments.service';
import {
  CreateDepartmentDto,
  DepartmentDetailsResponse,
  DepartmentPageResponse,
  DepartmentResponse,
  UpdateDepartmentDto,
} from './dto/department.dto';

@ApiTags('departments')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/departments')
export class DepartmentsController {
  constructor(private readonly departments: DepartmentsService) {}

  @Post()
  @Idempotent()
  @ApiOperation({
    summary:
      'Create a department (super admin, or department admin with contacts:edit on the parent)',
  })
  @ApiCreatedResponse({ type: DepartmentResponse })
  async create(@CurrentAccess() access: Access, @Body() body: CreateDepartmentDto) {
    return DepartmentResponse.of(await this.departments.create(access, body));
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Read a department with its leaders and admins (404 when hidden from the caller)',
  })
  @ApiOkResponse({ type: DepartmentDetailsResponse })
  async get(@CurrentAccess() access: Access, @Param('id', PositiveIntPipe) id: number) {
    return DepartmentDetailsResponse.ofDetails(await this.departments.details(access, id));
  }

  @Patch(':id')
  @ApiOperation({
    summary:
      'Rename, reorder, move (with its subtree) or set the visibility of a department (contacts:edit)',
  })
  @ApiOkResponse({ type: DepartmentResponse })
  async update(
    @CurrentAccess() access: Access,
    @Param('id', PositiveIntPipe) id: number,
    @Body() body: UpdateDepartmentDto,
  ) {
    if (Object.values(body).every((v) => v === undefined)) {
      throw new ValidationFailedException([
        {
          field: '(body)',
          code: 'NOTHING_TO_UPDATE',
          message: 'Give at least one of name, parentId, order, visibility.',
        },
      ]);
    }
    return DepartmentResponse.of(await this.departments.update(access, id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a department that has no sub-departments and no members' })
  @ApiNoContentResponse()
  async remove(@CurrentAccess() access: Access, @Param('id', PositiveIntPipe) id: number) {
    await this.departments.remove(access, id);
  }

  @Get(':id/children')
  @ApiOperation({ summary: 'Direct sub-departments, higher order first' })
  @ApiOkResponse({ type: DepartmentPageResponse })
  async children(
    @CurrentAccess() access: Access,
    @Param('id', PositiveIntPipe) id: number,
    @Query() query: PageQuery,
  ): Promise<DepartmentPageResponse> {
    const page = await this.departments.children(
      access,
      id,
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.cursor,
    );
    return { items: page.items.map((d) => DepartmentResponse.of(d)), nextCursor: page.nextCursor };
  }

  @Get(':id/subtree')
  @ApiOperation({ summary: 'The department and all departments below it, by id' })
  @ApiOkResponse({ type: DepartmentPageResponse })
  async subtree(
    @CurrentAccess() access: Access,
    @Param('id', PositiveIntPipe) id: number,
    @Query() query: PageQuery,
  ): Promise<DepartmentPageResponse> {
    const page = await this.departments.subtree(
      access,
      id,
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.cursor,
    );
    return { items: page.items.map((d) => DepartmentResponse.of(d)), nextCursor: page.nextCursor };
  }
}
