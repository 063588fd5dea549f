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
  decodeCursor,
  encodeCursor,
  isIdCursor,
  isUseridCursor,
  PageQuery,
} from '../pagination/cursor';
import {
  CreateTagDto,
  RenameTagDto,
  TagMemberPageResponse,
  TagMemberSummary,
  TagPageResponse,
  TagResponse,
  TagTargetsDto,
} from './dto/tag.dto';
import { TagsService } from './tags.service';

function targets(body: TagTargetsDto): { userids: string[]; departmentIds: number[] } {
  const userids = body.userids ?? [];
  const departmentIds = body.departmentIds ?? [];
  if (userids.length === 0 && departmentIds.length === 0) {
    throw new ValidationFailedException([
      {
        field: '(body)',
        code: 'NOTHING_TO_CHANGE',
        message: 'Give userids, departmentIds, or both.',
      },
    ]);
  }
  return { userids, departmentIds };
}

@ApiTags('tags')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/tags')
export class TagsController {
  constructor(private readonly tags: TagsService) {}

  @Post()
  @RequireRoles('super_admin')
  @Idempotent()
  @ApiOperation({ summary: 'Create a tag' })
  @ApiCreatedResponse({ type: TagResponse })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateTagDto) {
    return TagResponse.of(await this.tags.create(principal.corpId, body.name, body.id));
  }

  @Get()
  @ApiOperation({ summary: 'The corp’s tags, by id' })
  @ApiOkResponse({ type: TagPageResponse })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: PageQuery,
  ): Promise<TagPageResponse> {
    const after = decodeCursor(query.cursor, isIdCursor);
    const page = await this.tags.list(principal.corpId, after?.id ?? 0, query.limit ?? 100);
    const last = page.items[page.items.length - 1];
    return {
      items: page.items.map((t) => ({ id: t.id, name: t.name })),
      nextCursor: page.more && last ? encodeCursor({ id: last.id }) : null,
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A tag with its members and departments' })
  @ApiOkResponse({ type: TagResponse })
  async get(@CurrentPrincipal() principal: Principal, @Param('id', PositiveIntPipe) id: number) {
    return TagResponse.of(await this.tags.get(principal.corpId, id));
  }

  @Patch(':id')
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Rename a tag' })
  @ApiOkResponse({ type: TagResponse })
  async rename(
    @CurrentPrincipal() principal: Principal,
    @Param('id', PositiveIntPipe) id: number,
    @Body() body: RenameTagDto,
  ) {
    return TagResponse.of(await this.tags.rename(principal.corpId, id, body.name));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Delete a tag' })
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', PositiveIntPipe) id: number) {
    await this.tags.remove(principal.corpId, id);
  }

  @Post(':id/members')
  @HttpCode(200)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Add members and departments to a tag (all or nothing)' })
  @ApiOkResponse({ type: TagResponse })
  async add(
    @CurrentPrincipal() principal: Principal,
    @Param('id', PositiveIntPipe) id: number,
    @Body() body: TagTargetsDto,
  ) {
    return TagResponse.of(
      await this.tags.changeTargets(principal.corpId, id, 'add', targets(body)),
    );
  }

  @Post(':id/members/remove')
  @HttpCode(200)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Remove members and departments from a tag' })
  @ApiOkResponse({ type: TagResponse })
  async removeTargets(
    @CurrentPrincipal() principal: Principal,
    @Param('id', PositiveIntPipe) id: number,
    @Body() body: TagTargetsDto,
  ) {
    return TagResponse.of(
      await this.tags.changeTargets(principal.corpId, id, 'remove', targets(body)),
    );
  }

  @Get(':id/effective-members')
  @ApiOperation({
    summary: 'Everyone the tag names: its members and the members of its departments’ subtrees',
  })
  @ApiOkResponse({ type: TagMemberPageResponse })
  async effective(
    @CurrentPrincipal() principal: Principal,
    @Param('id', PositiveIntPipe) id: number,
    @Query() query: PageQuery,
  ): Promise<TagMemberPageResponse> {
    const after = decodeCursor(query.cursor, isUseridCursor);
    const page = await this.tags.effectiveMembers(
      principal.corpId,
      id,
      after?.userid ?? '',
      query.limit ?? 100,
    );
    const last = page.items[page.items.length - 1];
    return {
      items: page.items.map((m) => TagMemberSummary.of(m)),
      nextCursor: page.more && last ? encodeCursor({ userid: last.userid }) : null,
    };
  }
}
