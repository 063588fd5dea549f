import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '@qiwei/auth';
import { ValidationFailedException } from '@qiwei/platform';
import { WecomOkResponse, WecomQuery } from '../wecom/dto/wecom-message.dto';
import { WecomApi } from '../wecom/wecom-api';
import { WecomMessageContent } from '../wecom/wecom-message-content';
import { AppChatsService } from './app-chats.service';
import {
  AppChatQuery,
  CreateAppChatDto,
  CreateAppChatResponse,
  GetAppChatResponse,
  SendAppChatDto,
  UpdateAppChatDto,
} from './dto/app-chat.dto';

/** WeCom's appchat (群聊会话): groups an app creates, manages and posts into. */
@WecomApi()
@Controller('cgi-bin/appchat')
export class AppChatsController {
  constructor(
    private readonly chats: AppChatsService,
    private readonly contents: WecomMessageContent,
  ) {}

  @Post('create')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Create a group of 2 to GROUP_MEMBER_LIMIT members of the app’s range, with a chatid',
  })
  @ApiOkResponse({ type: CreateAppChatResponse })
  async create(
    @CurrentPrincipal() caller: Principal,
    @Query() _query: WecomQuery,
    @Body() body: CreateAppChatDto,
  ): Promise<CreateAppChatResponse> {
    const chat = await this.chats.create(caller, body);
    return { errcode: 0, errmsg: 'ok', chatid: chat.chatid };
  }

  @Post('update')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rename, transfer, add and remove members of a chat the app created' })
  @ApiOkResponse({ type: WecomOkResponse })
  async update(
    @CurrentPrincipal() caller: Principal,
    @Query() _query: WecomQuery,
    @Body() body: UpdateAppChatDto,
  ): Promise<WecomOkResponse> {
    const { chatid, name, owner, add_user_list: add = [], del_user_list: del = [] } = body;
    if (name === undefined && owner === undefined && !add.length && !del.length)
      throw new ValidationFailedException([
        {
          field: '(body)',
          code: 'NOTHING_TO_UPDATE',
          message: 'Give name, owner, add_user_list or del_user_list.',
        },
      ]);
    await this.chats.update(caller, chatid, { name, owner, add, del });
    return { errcode: 0, errmsg: 'ok' };
  }

  @Get('get')
  @ApiOperation({ summary: 'A chat the app created: name, owner and members' })
  @ApiOkResponse({ type: GetAppChatResponse })
  async get(
    @CurrentPrincipal() caller: Principal,
    @Query() query: AppChatQuery,
  ): Promise<GetAppChatResponse> {
    return GetAppChatResponse.of(await this.chats.get(caller, query.chatid));
  }

  @Post('send')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Post into a chat the app created, as app:<agentid> (the message bodies of message/send); a member receives at most APP_CHAT_PER_MEMBER_PER_MINUTE and _PER_DAY from the app in its chats, beyond which the whole post is refused (45009)',
  })
  @ApiOkResponse({ type: WecomOkResponse })
  async send(
    @CurrentPrincipal() caller: Principal,
    @Query() _query: WecomQuery,
    @Body() body: SendAppChatDto,
  ): Promise<WecomOkResponse> {
    // The chat first: a media_id is adopted only for a chat the app may post into.
    await this.chats.get(caller, body.chatid);
    await this.chats.send(caller, body.chatid, await this.contents.of(caller, body));
    return { errcode: 0, errmsg: 'ok' };
  }
}
