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
  Res,
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
import { BearerAuthGuard, CurrentPrincipal, type Principal } from '@qiwei/auth';
import {
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  PageQuery,
  ValidationFailedException,
} from '@qiwei/platform';
import type { FastifyReply } from 'fastify';
import { UuidPipe } from '../http/uuid.pipe';
import { ConversationsService } from './conversations.service';
import { DepartmentGroupsService } from './department-groups.service';
import {
  AddExternalContactsDto,
  AddMembersDto,
  ConversationListQuery,
  ConversationPageResponse,
  ConversationResponse,
  CreateConversationDto,
  EXTERNAL_USERID_PATTERN,
  NoticePageResponse,
  NoticeResponse,
  PublishNoticeDto,
  UpdateGroupDto,
  USERID_PATTERN,
} from './dto/conversation.dto';

const isListCursor = (v: unknown): v is { updatedAt: string; id: string } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { updatedAt: unknown }).updatedAt === 'string' &&
  !Number.isNaN(Date.parse((v as { updatedAt: string }).updatedAt)) &&
  typeof (v as { id: unknown }).id === 'string' &&
  /^[0-9a-f-]{36}$/.test((v as { id: string }).id);

const isNoticeCursor = (v: unknown): v is { v: number } =>
  typeof v === 'object' &&
  v !== null &&
  Number.isSafeInteger((v as { v: unknown }).v) &&
  (v as { v: number }).v > 0;

/** Fields a kind of conversation does not take, with what to say. */
const FOREIGN_FIELDS: Record<
  CreateConversationDto['kind'],
  [keyof CreateConversationDto, string][]
> = {
  single: [
    ['name', 'A 1:1 conversation takes only `peer`.'],
    ['members', 'A 1:1 conversation takes only `peer`.'],
    ['externalUserids', 'A 1:1 conversation takes only `peer`.'],
    ['departmentId', 'A 1:1 conversation takes only `peer`.'],
    ['owner', 'A 1:1 conversation takes only `peer`.'],
    ['onlyAdminsPost', 'A 1:1 conversation takes only `peer`.'],
    ['onlyOwnerInvites', 'A 1:1 conversation takes only `peer`.'],
  ],
  group: [
    ['peer', 'A group takes `name` and `members`.'],
    ['externalUserids', 'Only an external group takes external contacts.'],
    ['departmentId', 'Only a department group takes a department.'],
    ['owner', 'A group is owned by its creator.'],
  ],
  external: [
    ['peer', 'An external group takes `name`, `members` and `externalUserids`.'],
    ['departmentId', 'Only a department group takes a department.'],
    ['owner', 'A group is owned by its creator.'],
  ],
  department: [
    ['peer', 'A department group takes `name`, `departmentId` and optionally `owner`.'],
    ['members', 'A department group’s members are its department’s: give `departmentId`.'],
    ['externalUserids', 'Only an external group takes external contacts.'],
  ],
};

@ApiTags('conversations')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/conversations')
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly departmentGroups: DepartmentGroupsService,
  ) {}

  @Post()
  @ApiOperation({
    summary:
      'Open the 1:1 conversation with a member (200 when it exists already), or create a group, an external group or a department group (201)',
  })
  @ApiCreatedResponse({ type: ConversationResponse })
  async create(
    @CurrentPrincipal() caller: Principal,
    @Body() body: CreateConversationDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConversationResponse> {
    const foreign = FOREIGN_FIELDS[body.kind].filter(([field]) => body[field] !== undefined);
    if (foreign.length)
      throw new ValidationFailedException(
        foreign.map(([field, message]) => ({ field, code: 'FIELD_NOT_FOR_KIND', message })),
      );
    switch (body.kind) {
      case 'single': {
        const opened = await this.conversations.openSingle(caller, body.peer as string);
        void reply.status(opened.created ? 201 : 200);
        return ConversationResponse.of(opened.conversation);
      }
      case 'department':
        return ConversationResponse.of(
          await this.departmentGroups.create(caller, {
            departmentId: body.departmentId as number,
            name: body.name as string,
            owner: body.owner,
            onlyAdminsPost: body.onlyAdminsPost,
            onlyOwnerInvites: body.onlyOwnerInvites,
          }),
        );
      case 'group':
      case 'external':
        if (body.kind === 'group' && !body.members?.length)
          throw new ValidationFailedException([
            {
              field: 'members',
              code: 'MEMBERS_REQUIRED',
              message: 'A group needs at least one member besides its creator.',
            },
          ]);
        return ConversationResponse.of(
          await this.conversations.createGroup(caller, {
            kind: body.kind,
            name: body.name as string,
            members: body.members ?? [],
            externalUserids: body.externalUserids,
            onlyAdminsPost: body.onlyAdminsPost,
            onlyOwnerInvites: body.onlyOwnerInvites,
          }),
        );
    }
  }

  @Get()
  @ApiOperation({
    summary: 'The caller’s conversations, most recently active first (optionally of a kind or tag)',
  })
  @ApiOkResponse({ type: ConversationPageResponse })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: ConversationListQuery,
  ): Promise<ConversationPageResponse> {
    const after = decodeCursor(query.cursor, isListCursor);
    const page = await this.conversations.listMine(
      caller,
      after,
      query.limit ?? DEFAULT_PAGE_SIZE,
      {
        kind: query.kind,
        tag: query.tag,
      },
    );
    const last = page.items[page.items.length - 1];
    return {
      items: page.items.map((c) => ConversationResponse.of(c)),
      nextCursor:
        page.more && last
          ? encodeCursor({ updatedAt: last.updatedAt.toISOString(), id: last.id })
          : null,
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A conversation of the caller’s, with its members and read positions' })
  @ApiOkResponse({ type: ConversationResponse })
  async get(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<ConversationResponse> {
    return ConversationResponse.of(await this.conversations.get(caller, id));
  }

  @Patch(':id')
  @ApiOperation({
    summary:
      'Change a group’s name, posting rule, welcome message or tags (owner, admins); transfer it, name admins, set who invites or the member limit (owner). Publishes settings_changed',
  })
  @ApiOkResponse({ type: ConversationResponse })
  async update(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: UpdateGroupDto,
  ): Promise<ConversationResponse> {
    if (Object.values(body).every((v) => v === undefined))
      throw new ValidationFailedException([
        {
          field: '(body)',
          code: 'NOTHING_TO_UPDATE',
          message: 'Give at least one field to change.',
        },
      ]);
    return ConversationResponse.of(await this.conversations.changeSettings(caller, id, body));
  }

  @Post(':id/members')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Add members to a group or external group (they get its welcome message)',
  })
  @ApiOkResponse({ type: ConversationResponse })
  async addMembers(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: AddMembersDto,
  ): Promise<ConversationResponse> {
    return ConversationResponse.of(await this.conversations.addMembers(caller, id, body.userids));
  }

  @Delete(':id/members/:userid')
  @ApiOperation({ summary: 'Quit a group (yourself) or remove a member (owner, admins)' })
  @ApiOkResponse({ type: ConversationResponse })
  async removeMember(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Param('userid') userid: string,
  ): Promise<ConversationResponse> {
    if (!USERID_PATTERN.test(userid))
      throw new ValidationFailedException([
        {
          field: 'userid',
          code: 'USERID_INVALID',
          message: 'userid must be 1–64 of A-Z a-z 0-9 _ @ . -',
        },
      ]);
    return ConversationResponse.of(await this.conversations.removeMember(caller, id, userid));
  }

  @Post(':id/external-contacts')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Add external contacts (external_userid) to an external group (whoever may invite)',
  })
  @ApiOkResponse({ type: ConversationResponse })
  async addExternalContacts(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: AddExternalContactsDto,
  ): Promise<ConversationResponse> {
    return ConversationResponse.of(
      await this.conversations.addExternalContacts(caller, id, body.externalUserids),
    );
  }

  @Delete(':id/external-contacts/:externalUserid')
  @ApiOperation({ summary: 'Remove an external contact from an external group (owner, admins)' })
  @ApiOkResponse({ type: ConversationResponse })
  async removeExternalContact(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Param('externalUserid') externalUserid: string,
  ): Promise<ConversationResponse> {
    if (!EXTERNAL_USERID_PATTERN.test(externalUserid))
      throw new ValidationFailedException([
        {
          field: 'externalUserid',
          code: 'EXTERNAL_USERID_INVALID',
          message: 'externalUserid must be 1–64 of A-Z a-z 0-9 _ -',
        },
      ]);
    return ConversationResponse.of(
      await this.conversations.removeExternalContact(caller, id, externalUserid),
    );
  }

  @Put(':id/notice')
  @ApiOperation({
    summary:
      'Publish the group notice (群公告) as its next version (owner, admins); earlier versions are kept',
  })
  @ApiOkResponse({ type: NoticeResponse })
  async publishNotice(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: PublishNoticeDto,
  ): Promise<NoticeResponse> {
    return NoticeResponse.of(await this.conversations.publishNotice(caller, id, body.text));
  }

  @Delete(':id/notice')
  @ApiOperation({
    summary: 'Clear the group notice: a new version with empty text (owner, admins)',
  })
  @ApiOkResponse({ type: NoticeResponse })
  async clearNotice(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<NoticeResponse> {
    return NoticeResponse.of(await this.conversations.publishNotice(caller, id, ''));
  }

  @Get(':id/notices')
  @ApiOperation({ summary: 'Every version of the group notice, newest first (participants)' })
  @ApiOkResponse({ type: NoticePageResponse })
  async notices(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Query() query: PageQuery,
  ): Promise<NoticePageResponse> {
    const before = decodeCursor(query.cursor, isNoticeCursor);
    const page = await this.conversations.noticeHistory(
      caller,
      id,
      before?.v,
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    const last = page.items[page.items.length - 1];
    return {
      items: page.items.map((n) => NoticeResponse.of(n)),
      nextCursor: page.more && last ? encodeCursor({ v: last.version }) : null,
    };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Disband a group (owner)' })
  @ApiNoContentResponse()
  async disband(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<void> {
    await this.conversations.disband(caller, id);
  }
}
