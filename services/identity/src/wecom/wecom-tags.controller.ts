import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ValidationFailedException } from '@qiwei/platform';
import type { Access } from '../access/access';
import { CurrentAccess } from '../access/current-access';
import { DepartmentsService } from '../departments/departments.service';
import { MembersService } from '../members/members.service';
import type { Tag } from '../tags/tag.entity';
import { TagsService } from '../tags/tags.service';
import {
  WecomCreateTagDto,
  WecomTagCreatedResponse,
  WecomTagIdQuery,
  WecomTagListResponse,
  WecomTagResponse,
  WecomTagTargetsDto,
  WecomTagTargetsResponse,
  WecomUpdateTagDto,
} from './dto/wecom-tag.dto';
import { WecomQuery, WecomResponse, wecomOk } from './dto/wecom.dto';
import { WECOM_PAGE } from './every-page';
import { WecomApi } from './wecom-api';
import { TagTargetsAllInvalidException } from './wecom.exceptions';

/** WeCom's tag/* over the tags use cases. */
@WecomApi()
@Controller('cgi-bin/tag')
export class WecomTagsController {
  constructor(
    private readonly tags: TagsService,
    private readonly members: MembersService,
    private readonly departments: DepartmentsService,
  ) {}

  @Post('create')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create a tag (tags:manage)' })
  @ApiOkResponse({ type: WecomTagCreatedResponse })
  async create(
    @CurrentAccess() access: Access,
    @Body() body: WecomCreateTagDto,
  ): Promise<WecomTagCreatedResponse> {
    const created = await this.tags.create(access, body.tagname, body.tagid);
    return wecomOk({ tagid: created.tag.id }, 'created');
  }

  @Post('update')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rename a tag (tags:manage)' })
  @ApiOkResponse({ type: WecomResponse })
  async update(
    @CurrentAccess() access: Access,
    @Body() body: WecomUpdateTagDto,
  ): Promise<WecomResponse> {
    await this.tags.rename(access, body.tagid, body.tagname);
    return wecomOk({}, 'updated');
  }

  @Get('delete')
  @ApiOperation({ summary: 'Delete a tag (tags:manage)' })
  @ApiOkResponse({ type: WecomResponse })
  async remove(
    @CurrentAccess() access: Access,
    @Query() query: WecomTagIdQuery,
  ): Promise<WecomResponse> {
    await this.tags.remove(access, query.tagid);
    return wecomOk({}, 'deleted');
  }

  @Get('get')
  @ApiOperation({ summary: 'A tag’s members (with names) and departments that the app can see' })
  @ApiOkResponse({ type: WecomTagResponse })
  async get(
    @CurrentAccess() access: Access,
    @Query() query: WecomTagIdQuery,
  ): Promise<WecomTagResponse> {
    const view = await this.tags.get(access, query.tagid);
    const members = await this.members.visibleAmong(access, view.userids);
    return wecomOk({
      tagname: view.tag.name,
      userlist: members.map((m) => ({ userid: m.userid, name: m.name })),
      partylist: view.departmentIds,
    });
  }

  @Get('list')
  @ApiOperation({ summary: 'The corp’s tags (an app without tags:manage: those of its range)' })
  @ApiOkResponse({ type: WecomTagListResponse })
  async list(
    @CurrentAccess() access: Access,
    @Query() _query: WecomQuery,
  ): Promise<WecomTagListResponse> {
    const tags: Tag[] = [];
    for (let more = true; more;) {
      const page = await this.tags.list(access, tags[tags.length - 1]?.id ?? 0, WECOM_PAGE);
      tags.push(...page.items);
      more = page.more;
    }
    return wecomOk({ taglist: tags.map((t) => ({ tagid: t.id, tagname: t.name })) });
  }

  @Post('addtagusers')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Tag members and departments; unknown ones or ones outside the app’s range come back in invalidlist / invalidparty',
  })
  @ApiOkResponse({ type: WecomTagTargetsResponse })
  addUsers(
    @CurrentAccess() access: Access,
    @Body() body: WecomTagTargetsDto,
  ): Promise<WecomTagTargetsResponse> {
    return this.changeTargets(access, body, 'add');
  }

  @Post('deltagusers')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Untag members and departments; unknown ones or ones outside the app’s range come back in invalidlist / invalidparty',
  })
  @ApiOkResponse({ type: WecomTagTargetsResponse })
  deleteUsers(
    @CurrentAccess() access: Access,
    @Body() body: WecomTagTargetsDto,
  ): Promise<WecomTagTargetsResponse> {
    return this.changeTargets(access, body, 'remove');
  }

  /**
   * WeCom applies the valid part of a list and reports the rest; `changeTargets` is all or
   * nothing. So the members and departments that do not exist or that the app cannot see are
   * set aside first and reported, and the rest is changed all or nothing (a permission refusal
   * still refuses the whole call). Nothing valid left: errcode 40070 and no change.
   */
  private async changeTargets(
    access: Access,
    body: WecomTagTargetsDto,
    change: 'add' | 'remove',
  ): Promise<WecomTagTargetsResponse> {
    const userlist = body.userlist ?? [];
    const partylist = body.partylist ?? [];
    if (!userlist.length && !partylist.length) {
      throw new ValidationFailedException([
        {
          field: 'userlist',
          code: 'NOTHING_TO_CHANGE',
          message: 'Give userlist, partylist or both.',
        },
      ]);
    }
    const [members, departments] = await Promise.all([
      this.members.visibleAmong(access, userlist),
      this.departments.visibleAmong(access, partylist),
    ]);
    const userids = new Set(members.map((m) => m.userid));
    const departmentIds = new Set(departments.map((d) => d.id));
    if (!userids.size && !departmentIds.size) {
      // Refused as the use case would refuse first: without tags:manage, or for an unknown tag.
      access.assertHasPermission('tags:manage');
      await this.tags.get(access, body.tagid);
      throw new TagTargetsAllInvalidException();
    }
    await this.tags.changeTargets(access, body.tagid, change, {
      userids: userlist.filter((u) => userids.has(u)),
      departmentIds: partylist.filter((d) => departmentIds.has(d)),
    });
    const invalidUsers = userlist.filter((u) => !userids.has(u));
    const invalidParties = partylist.filter((d) => !departmentIds.has(d));
    return wecomOk({
      ...(invalidUsers.length ? { invalidlist: invalidUsers.join('|') } : {}),
      ...(invalidParties.length ? { invalidparty: invalidParties } : {}),
    });
  }
}
