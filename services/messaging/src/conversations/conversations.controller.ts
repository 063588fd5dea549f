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
import {
  AddMembersDto,
  ConversationPageResponse,
  ConversationResponse,
  CreateConversationDto,
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

@ApiTags('conversations')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @ApiOperation({
    summary:
      'Open the 1:1 conversation with a member (200 when it exists already), or create a group (201)',
  })
  @ApiCreatedResponse({ type: ConversationResponse })
  async create(
    @CurrentPrincipal() caller: Principal,
    @Body() body: CreateConversationDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConversationResponse> {
    if (body.kind === 'single') {
      if (body.name !== undefined || body.members !== undefined)
        throw new ValidationFailedException([
          {
            field: 'kind',
            code: 'SINGLE_HAS_NO_GROUP_FIELDS',
            message: 'A 1:1 conversation takes only `peer`.',
          },
        ]);
      const opened = await this.conversations.openSingle(caller, body.peer as string);
      void reply.status(opened.created ? 201 : 200);
      return ConversationResponse.of(opened.conversation);
    }
    if (body.peer !== undefined)
      throw new ValidationFailedException([
        {
          field: 'peer',
          code: 'GROUP_HAS_NO_PEER',
          message: 'A group takes `name` and `members`.',
        },
      ]);
    return ConversationResponse.of(
      await this.conversations.createGroup(caller, {
        name: body.name as string,
        members: body.members as string[],
        onlyAdminsPost: body.onlyAdminsPost,
        onlyOwnerInvites: body.onlyOwnerInvites,
      }),
    );
  }

  @Get()
  @ApiOperation({ summary: 'The caller’s conversations, most recently active first' })
  @ApiOkResponse({ type: ConversationPageResponse })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: PageQuery,
  ): Promise<ConversationPageResponse> {
    const after = decodeCursor(query.cursor, isListCursor);
    const page = await this.conversations.listMine(caller, after, query.limit ?? DEFAULT_PAGE_SIZE);
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
      'Change a group’s name or posting rule (owner, admins); transfer it, name admins, set who invites (owner)',
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
  @ApiOperation({ summary: 'Add members to a group' })
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
