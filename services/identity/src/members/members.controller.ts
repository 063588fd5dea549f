import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
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
import { BearerAuthGuard, RequireRoles } from '@qiwei/auth';
import type { Access } from '../access/access';
import { CurrentAccess } from '../access/current-access';
import { Idempotent } from '@qiwei/persistence';
import { PositiveIntPipe, ValidationFailedException } from '@qiwei/platform';
import {
  CreateMemberDto,
  ListMembersQuery,
  MemberPageResponse,
  MemberResponse,
  SetRolesDto,
  UpdateMemberDto,
} from './dto/member.dto';
import { MembersService } from './members.service';
import { UseridPipe } from './userid.pipe';

@ApiTags('members')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Post('members')
  @Idempotent()
  @ApiOperation({ summary: 'Add a member to one or more departments' })
  @ApiCreatedResponse({ type: MemberResponse })
  async create(@CurrentAccess() access: Access, @Body() body: CreateMemberDto) {
    return MemberResponse.of(await this.members.create(access, body));
  }

  @Get('members/:userid')
  @ApiOperation({ summary: 'Read a member' })
  @ApiOkResponse({ type: MemberResponse })
  async get(@CurrentAccess() access: Access, @Param('userid', UseridPipe) userid: string) {
    return MemberResponse.of(await this.members.get(access, userid));
  }

  @Patch('members/:userid')
  @ApiOperation({ summary: 'Change a member’s profile or departments' })
  @ApiOkResponse({ type: MemberResponse })
  async update(
    @CurrentAccess() access: Access,
    @Param('userid', UseridPipe) userid: string,
    @Body() body: UpdateMemberDto,
  ) {
    if (Object.values(body).every((v) => v === undefined)) {
      throw new ValidationFailedException([
        {
          field: '(body)',
          code: 'NOTHING_TO_UPDATE',
          message: 'Give at least one field to change.',
        },
      ]);
    }
    return MemberResponse.of(await this.members.update(access, userid, body));
  }

  @Post('members/:userid/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable a member' })
  @ApiOkResponse({ type: MemberResponse })
  async disable(@CurrentAccess() access: Access, @Param('userid', UseridPipe) userid: string) {
    return MemberResponse.of(await this.members.changeStatus(access, userid, 'disabled'));
  }

  @Post('members/:userid/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable a disabled member again' })
  @ApiOkResponse({ type: MemberResponse })
  async enable(@CurrentAccess() access: Access, @Param('userid', UseridPipe) userid: string) {
    return MemberResponse.of(await this.members.changeStatus(access, userid, 'active'));
  }

  @Post('members/:userid/leave')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark a member as having left the corp (离职)' })
  @ApiOkResponse({ type: MemberResponse })
  async leave(@CurrentAccess() access: Access, @Param('userid', UseridPipe) userid: string) {
    return MemberResponse.of(await this.members.changeStatus(access, userid, 'left'));
  }

  @Delete('members/:userid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a member' })
  @ApiNoContentResponse()
  async remove(@CurrentAccess() access: Access, @Param('userid', UseridPipe) userid: string) {
    await this.members.remove(access, userid);
  }

  @Put('members/:userid/roles')
  @RequireRoles('super_admin')
  @ApiOperation({
    summary:
      'Set a member’s admin roles and a department admin’s scope (super admin; the last super admin cannot be demoted)',
  })
  @ApiOkResponse({ type: MemberResponse })
  async setRoles(
    @CurrentAccess() access: Access,
    @Param('userid', UseridPipe) userid: string,
    @Body() body: SetRolesDto,
  ) {
    return MemberResponse.of(await this.members.setRoles(access, userid, body));
  }

  @Get('admins')
  @RequireRoles('super_admin', 'department_admin', 'compliance_officer')
  @ApiOperation({ summary: 'The corp’s super admins, department admins and compliance officers' })
  @ApiOkResponse({ type: MemberPageResponse })
  async admins(@CurrentAccess() access: Access): Promise<MemberPageResponse> {
    const admins = await this.members.admins(access);
    return { items: admins.map((m) => MemberResponse.of(m)), nextCursor: null };
  }

  @Get('departments/:id/members')
  @ApiOperation({ summary: 'Members of a department (or its whole subtree), by userid' })
  @ApiOkResponse({ type: MemberPageResponse })
  async inDepartment(
    @CurrentAccess() access: Access,
    @Param('id', PositiveIntPipe) id: number,
    @Query() query: ListMembersQuery,
  ): Promise<MemberPageResponse> {
    const page = await this.members.inDepartment(access, id, {
      recursive: query.recursive ?? false,
      status: query.status,
      cursor: query.cursor,
      limit: query.limit ?? 100,
    });
    return { items: page.items.map((m) => MemberResponse.of(m)), nextCursor: page.nextCursor };
  }
}
