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
  @Idempotent()
  @ApiOperation({ summary: 'Create a tag' })
  @ApiCreatedResponse({ type: TagResponse })
  async create(@CurrentAccess() access: Access, @Body() body: CreateTagDto) {
    return TagResponse.of(await this.tags.create(access, body.name, body.id));
  }

  @Get()
  @ApiOperation({ summary: 'The corp’s tags, by id' })
  @ApiOkResponse({ type: TagPageResponse })
  async list(@CurrentAccess() access: Access, @Query() query: PageQuery): Promise<TagPageResponse> {
    const after = decodeCursor(query.cursor, isIdCursor);
    const page = await this.tags.list(access, after?.id ?? 0, query.limit ?? 100);
    const last = page.items[page.items.length - 1];
    return {
      items: page.items.map((t) => ({ id: t.id, name: t.name })),
      nextCursor: page.more && last ? encodeCursor({ id: last.id }) : null,
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A tag with its members and departments' })
  @ApiOkResponse({ type: TagResponse })
  async get(@CurrentAccess() access: Access, @Param('id', PositiveIntPipe) id: number) {
    return TagResponse.of(await this.tags.get(access, id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a tag' })
  @ApiOkResponse({ type: TagResponse })
  async rename(
    @CurrentAccess() access: Access,
    @Param('id', PositiveIntPipe) id: number,
    @Body() body: RenameTagDto,
  ) {
    return TagResponse.of(await this.tags.rename(access, id, body.name));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a tag' })
  @ApiNoContentResponse()
  async remove(@CurrentAccess() access: Access, @Param('id', PositiveIntPipe) id: number) {
    await this.tags.remove(access, id);
  }

  @Post(':id/members')
  @HttpCode(200)
  @ApiOperation({ summary: 'Add members and departments to a tag (all or nothing)' })
  @ApiOkResponse({ type: TagResponse })
  async add(
    @CurrentAccess() access: Access,
    @Param('id', PositiveIntPipe) id: number,
    @Body() body: TagTargetsDto,
  ) {
    return TagResponse.of(await this.tags.changeTargets(access, id, 'add', targets(body)));
  }

  @Post(':id/members/remove')
  @HttpCode(200)
  @ApiOperation({ summary: 'Remove members and departments from a tag' })
  @ApiOkResponse({ type: TagResponse })
  async removeTargets(
    @CurrentAccess() access: Access,
    @Param('id', PositiveIntPipe) id: number,
    @Body() body: TagTargetsDto,
  ) {
    return TagResponse.of(await this.tags.changeTargets(access, id, 'remove', targets(body)));
  }

  @Get(':id/effective-members')
  @ApiOperation({
    summary: 'Everyone the tag names: its members and the members of its departments’ subtrees',
  })
  @ApiOkResponse({ type: TagMemberPageResponse })
  async effective(
    @CurrentAccess() access: Access,
    @Param('id', PositiveIntPipe) id: number,
    @Query() query: PageQuery,
  ): Promise<TagMemberPageResponse> {
    const after = decodeCursor(query.cursor, isUseridCursor);
    const page = await this.tags.effectiveMembers(
      access,
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
