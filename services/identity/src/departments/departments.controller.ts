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
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { Idempotent } from '@qiwei/persistence';
import { PositiveIntPipe, ValidationFailedException } from '@qiwei/platform';
import { DEFAULT_PAGE_SIZE, PageQuery } from '../pagination/cursor';
import { DepartmentsService } from './departments.service';
import {
  CreateDepartmentDto,
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
  @RequireRoles('super_admin')
  @Idempotent()
  @ApiOperation({ summary: 'Create a department' })
  @ApiCreatedResponse({ type: DepartmentResponse })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateDepartmentDto) {
    return DepartmentResponse.of(await this.departments.create(principal.corpId, body));
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a department' })
  @ApiOkResponse({ type: DepartmentResponse })
  async get(@CurrentPrincipal() principal: Principal, @Param('id', PositiveIntPipe) id: number) {
    return DepartmentResponse.of(await this.departments.get(principal.corpId, id));
  }

  @Patch(':id')
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Rename, reorder or move a department (with its subtree)' })
  @ApiOkResponse({ type: DepartmentResponse })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', PositiveIntPipe) id: number,
    @Body() body: UpdateDepartmentDto,
  ) {
    if (body.name === undefined && body.parentId === undefined && body.order === undefined) {
      throw new ValidationFailedException([
        {
          field: '(body)',
          code: 'NOTHING_TO_UPDATE',
          message: 'Give at least one of name, parentId, order.',
        },
      ]);
    }
    return DepartmentResponse.of(await this.departments.update(principal.corpId, id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Delete a department that has no sub-departments and no members' })
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', PositiveIntPipe) id: number) {
    await this.departments.remove(principal.corpId, id);
  }

  @Get(':id/children')
  @ApiOperation({ summary: 'Direct sub-departments, higher order first' })
  @ApiOkResponse({ type: DepartmentPageResponse })
  async children(
    @CurrentPrincipal() principal: Principal,
    @Param('id', PositiveIntPipe) id: number,
    @Query() query: PageQuery,
  ): Promise<DepartmentPageResponse> {
    const page = await this.departments.children(
      principal.corpId,
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
    @CurrentPrincipal() principal: Principal,
    @Param('id', PositiveIntPipe) id: number,
    @Query() query: PageQuery,
  ): Promise<DepartmentPageResponse> {
    const page = await this.departments.subtree(
      principal.corpId,
      id,
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.cursor,
    );
    return { items: page.items.map((d) => DepartmentResponse.of(d)), nextCursor: page.nextCursor };
  }
}
