import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Access } from '../access/access';
import { CurrentAccess } from '../access/current-access';
import type { MemberWithDepartments } from '../members/members.repository';
import { MembersService } from '../members/members.service';
import {
  WecomBatchDeleteUsersDto,
  WecomCreateUserDto,
  WecomDepartmentUsersQuery,
  WecomListUserIdsDto,
  WecomSimpleUser,
  WecomSimpleUserListResponse,
  WecomUpdateUserDto,
  WecomUser,
  WecomUseridQuery,
  WecomUserIdsResponse,
  WecomUserListResponse,
  WecomUserResponse,
} from './dto/wecom-user.dto';
import { WecomResponse, wecomOk } from './dto/wecom.dto';
import { everyPage, WECOM_PAGE } from './every-page';
import { WecomApi } from './wecom-api';
import { createMemberInput, updateMemberInput } from './wecom-user-input';

/** WeCom's user/* over the members use cases. */
@WecomApi()
@Controller('cgi-bin/user')
export class WecomUsersController {
  constructor(private readonly members: MembersService) {}

  @Post('create')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create a member (contacts:edit on every department)' })
  @ApiOkResponse({ type: WecomResponse })
  async create(
    @CurrentAccess() access: Access,
    @Body() body: WecomCreateUserDto,
  ): Promise<WecomResponse> {
    await this.members.create(access, createMemberInput(body));
    return wecomOk({}, 'created');
  }

  @Get('get')
  @ApiOperation({ summary: 'Read a member' })
  @ApiOkResponse({ type: WecomUserResponse })
  async get(
    @CurrentAccess() access: Access,
    @Query() query: WecomUseridQuery,
  ): Promise<WecomUserResponse> {
    return wecomOk(WecomUser.ofMember(await this.members.get(access, query.userid)));
  }

  @Post('update')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Change a member’s profile, departments (all replaced) or enable/disable them',
  })
  @ApiOkResponse({ type: WecomResponse })
  async update(
    @CurrentAccess() access: Access,
    @Body() body: WecomUpdateUserDto,
  ): Promise<WecomResponse> {
    await this.members.update(access, body.userid, updateMemberInput(body));
    return wecomOk({}, 'updated');
  }

  @Get('delete')
  @ApiOperation({ summary: 'Delete a member' })
  @ApiOkResponse({ type: WecomResponse })
  async remove(
    @CurrentAccess() access: Access,
    @Query() query: WecomUseridQuery,
  ): Promise<WecomResponse> {
    await this.members.remove(access, query.userid);
    return wecomOk({}, 'deleted');
  }

  @Post('batchdelete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete up to 200 members, all or nothing' })
  @ApiOkResponse({ type: WecomResponse })
  async batchDelete(
    @CurrentAccess() access: Access,
    @Body() body: WecomBatchDeleteUsersDto,
  ): Promise<WecomResponse> {
    await this.members.removeMany(access, body.useridlist);
    return wecomOk({}, 'deleted');
  }

  @Get('simplelist')
  @ApiOperation({ summary: 'Userids and names of a department’s members (fetch_child=1: subtree)' })
  @ApiOkResponse({ type: WecomSimpleUserListResponse })
  async simpleList(
    @CurrentAccess() access: Access,
    @Query() query: WecomDepartmentUsersQuery,
  ): Promise<WecomSimpleUserListResponse> {
    const members = await this.inDepartment(access, query);
    return wecomOk({ userlist: members.map((m) => WecomSimpleUser.of(m)) });
  }

  @Get('list')
  @ApiOperation({ summary: 'A department’s members in full (fetch_child=1: subtree)' })
  @ApiOkResponse({ type: WecomUserListResponse })
  async list(
    @CurrentAccess() access: Access,
    @Query() query: WecomDepartmentUsersQuery,
  ): Promise<WecomUserListResponse> {
    const members = await this.inDepartment(access, query);
    return wecomOk({ userlist: members.map((m) => WecomUser.ofMember(m)) });
  }

  @Post('list_id')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Every visible member’s userid and departments, a page at a time (by userid)',
  })
  @ApiOkResponse({ type: WecomUserIdsResponse })
  async listIds(
    @CurrentAccess() access: Access,
    @Body() body: WecomListUserIdsDto,
  ): Promise<WecomUserIdsResponse> {
    const page = await this.members.list(access, {
      cursor: body.cursor || undefined,
      limit: body.limit ?? WECOM_PAGE,
    });
    return wecomOk({
      next_cursor: page.nextCursor ?? '',
      dept_user: page.items.flatMap(({ member, departments }) =>
        departments.map((d) => ({ userid: member.userid, department: d.departmentId })),
      ),
    });
  }

  private inDepartment(
    access: Access,
    query: WecomDepartmentUsersQuery,
  ): Promise<MemberWithDepartments[]> {
    return everyPage((cursor) =>
      this.members.inDepartment(access, query.department_id, {
        recursive: query.fetch_child === '1',
        cursor,
        limit: WECOM_PAGE,
      }),
    );
  }
}
