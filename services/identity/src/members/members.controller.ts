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
import {
  CreateMemberDto,
  ListMembersQuery,
  MemberPageResponse,
  MemberResponse,
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
  @RequireRoles('super_admin')
  @Idempotent()
  @ApiOperation({ summary: 'Add a member to one or more departments' })
  @ApiCreatedResponse({ type: MemberResponse })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateMemberDto) {
    return MemberResponse.of(await this.members.create(principal.corpId, body));
  }

  @Get('members/:userid')
  @ApiOperation({ summary: 'Read a member' })
  @ApiOkResponse({ type: MemberResponse })
  async get(@CurrentPrincipal() principal: Principal, @Param('userid', UseridPipe) userid: string) {
    return MemberResponse.of(await this.members.get(principal.corpId, userid));
  }

  @Patch('members/:userid')
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Change a member’s profile or departments' })
  @ApiOkResponse({ type: MemberResponse })
  async update(
    @CurrentPrincipal() principal: Principal,
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
    return MemberResponse.of(await this.members.update(principal.corpId, userid, body));
  }

  @Post('members/:userid/disable')
  @HttpCode(200)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Disable a member' })
  @ApiOkResponse({ type: MemberResponse })
  async disable(
    @CurrentPrincipal() principal: Principal,
    @Param('userid', UseridPipe) userid: string,
  ) {
    return MemberResponse.of(await this.members.changeStatus(principal.corpId, userid, 'disabled'));
  }

  @Post('members/:userid/enable')
  @HttpCode(200)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Enable a disabled member again' })
  @ApiOkResponse({ type: MemberResponse })
  async enable(
    @CurrentPrincipal() principal: Principal,
    @Param('userid', UseridPipe) userid: string,
  ) {
    return MemberResponse.of(await this.members.changeStatus(principal.corpId, userid, 'active'));
  }

  @Post('members/:userid/leave')
  @HttpCode(200)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Mark a member as having left the corp (离职)' })
  @ApiOkResponse({ type: MemberResponse })
  async leave(
    @CurrentPrincipal() principal: Principal,
    @Param('userid', UseridPipe) userid: string,
  ) {
    return MemberResponse.of(await this.members.changeStatus(principal.corpId, userid, 'left'));
  }

  @Delete('members/:userid')
  @HttpCode(204)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Delete a member' })
  @ApiNoContentResponse()
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('userid', UseridPipe) userid: string,
  ) {
    await this.members.remove(principal.corpId, userid);
  }

  @Get('departments/:id/members')
  @ApiOperation({ summary: 'Members of a department (or its whole subtree), by userid' })
  @ApiOkResponse({ type: MemberPageResponse })
  async inDepartment(
    @CurrentPrincipal() principal: Principal,
    @Param('id', PositiveIntPipe) id: number,
    @Query() query: ListMembersQuery,
  ): Promise<MemberPageResponse> {
    const page = await this.members.inDepartment(principal.corpId, id, {
      recursive: query.recursive ?? false,
      status: query.status,
      cursor: query.cursor,
      limit: query.limit ?? 100,
    });
    return { items: page.items.map((m) => MemberResponse.of(m)), nextCursor: page.nextCursor };
  }
}
