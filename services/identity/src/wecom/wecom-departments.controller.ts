import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Access } from '../access/access';
import { CurrentAccess } from '../access/current-access';
import type { Department } from '../departments/department.entity';
import { DepartmentsService } from '../departments/departments.service';
import {
  WecomCreateDepartmentDto,
  WecomDepartment,
  WecomDepartmentCreatedResponse,
  WecomDepartmentIdQuery,
  WecomDepartmentListQuery,
  WecomDepartmentListResponse,
  WecomDepartmentResponse,
  WecomDepartmentSimpleListResponse,
  WecomUpdateDepartmentDto,
} from './dto/wecom-department.dto';
import { WecomResponse, wecomOk } from './dto/wecom.dto';
import { everyPage, WECOM_PAGE } from './every-page';
import { WecomApi } from './wecom-api';

/** WeCom's department/* over the departments use cases. */
@WecomApi()
@Controller('cgi-bin/department')
export class WecomDepartmentsController {
  constructor(private readonly departments: DepartmentsService) {}

  @Post('create')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create a department (contacts:edit on the parent)' })
  @ApiOkResponse({ type: WecomDepartmentCreatedResponse })
  async create(
    @CurrentAccess() access: Access,
    @Body() body: WecomCreateDepartmentDto,
  ): Promise<WecomDepartmentCreatedResponse> {
    const created = await this.departments.create(access, {
      name: body.name,
      parentId: body.parentid,
      order: body.order,
      id: body.id,
    });
    return wecomOk({ id: created.id }, 'created');
  }

  @Post('update')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rename, reorder or move a department (with its subtree)' })
  @ApiOkResponse({ type: WecomResponse })
  async update(
    @CurrentAccess() access: Access,
    @Body() body: WecomUpdateDepartmentDto,
  ): Promise<WecomResponse> {
    await this.departments.update(access, body.id, {
      name: body.name,
      parentId: body.parentid,
      order: body.order,
    });
    return wecomOk({}, 'updated');
  }

  @Get('delete')
  @ApiOperation({ summary: 'Delete a department without sub-departments or members' })
  @ApiOkResponse({ type: WecomResponse })
  async remove(
    @CurrentAccess() access: Access,
    @Query() query: WecomDepartmentIdQuery,
  ): Promise<WecomResponse> {
    await this.departments.remove(access, query.id);
    return wecomOk({}, 'deleted');
  }

  @Get('get')
  @ApiOperation({ summary: 'A department with its leaders' })
  @ApiOkResponse({ type: WecomDepartmentResponse })
  async get(
    @CurrentAccess() access: Access,
    @Query() query: WecomDepartmentIdQuery,
  ): Promise<WecomDepartmentResponse> {
    const { department, leaders } = await this.departments.details(access, query.id);
    return wecomOk({ department: WecomDepartment.of(department, leaders) });
  }

  @Get('list')
  @ApiOperation({
    summary: 'A department and its whole subtree (every visible department without id), by id',
  })
  @ApiOkResponse({ type: WecomDepartmentListResponse })
  async list(
    @CurrentAccess() access: Access,
    @Query() query: WecomDepartmentListQuery,
  ): Promise<WecomDepartmentListResponse> {
    const departments = await this.subtree(access, query.id);
    const leaders = await this.departments.leadersOf(
      access,
      departments.map((d) => d.id),
    );
    return wecomOk({
      department: departments.map((d) => WecomDepartment.of(d, leaders.get(d.id) ?? [])),
    });
  }

  @Get('simplelist')
  @ApiOperation({
    summary: 'Ids, parents and orders of a subtree (or of every visible department)',
  })
  @ApiOkResponse({ type: WecomDepartmentSimpleListResponse })
  async simpleList(
    @CurrentAccess() access: Access,
    @Query() query: WecomDepartmentListQuery,
  ): Promise<WecomDepartmentSimpleListResponse> {
    const departments = await this.subtree(access, query.id);
    return wecomOk({
      department_id: departments.map((d) => ({
        id: d.id,
        parentid: d.parentId ?? 0,
        order: d.order,
      })),
    });
  }

  private subtree(access: Access, id: number | undefined): Promise<Department[]> {
    return everyPage((cursor) =>
      id === undefined
        ? this.departments.all(access, WECOM_PAGE, cursor)
        : this.departments.subtree(access, id, WECOM_PAGE, cursor),
    );
  }
}
