import { Body, Controller, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '@qiwei/auth';
import { ValidationFailedException } from '@qiwei/platform';
import { AppMessagesService } from '../app-messages/app-messages.service';
import {
  WecomOkResponse,
  WecomQuery,
  WecomRecallDto,
  WecomSendMessageDto,
  WecomSendMessageResponse,
} from './dto/wecom-message.dto';
import { WecomApi } from './wecom-api';
import { WecomMessageContent } from './wecom-message-content';
import { AgentidMismatchException } from './wecom.exceptions';

const MAX_USERS = 1000;
const MAX_PARTIES = 100;
const MAX_TAGS = 100;
const DEFAULT_DUPLICATE_CHECK_SECONDS = 1800;
const INT32_MAX = 2_147_483_647;

/** `a|b|c` as a list without repeats; an empty string is no list. */
function split(value: string | undefined, field: string, max: number): string[] {
  const items = [...new Set((value ?? '').split('|').filter((v) => v !== ''))];
  if (items.length > max)
    throw new ValidationFailedException([
      { field, code: 'arrayMaxSize', message: `${field} names at most ${max}` },
    ]);
  return items;
}

/** Department or tag ids: `1|2|3`, each an int32. */
function ids(value: string | undefined, field: string, max: number): number[] {
  const items = split(value, field, max).map(Number);
  if (items.some((id) => id > INT32_MAX))
    throw new ValidationFailedException([
      { field, code: 'max', message: `each id of ${field} is at most ${INT32_MAX}` },
    ]);
  return items;
}

/**
 * WeCom's app messages (应用消息): message/send through the same use case as /v1/app-messages
 * (range, rate limits, duplicate check, inbox rows, the app_sent event), and message/recall.
 */
@WecomApi()
@Controller('cgi-bin/message')
export class WecomMessagesController {
  constructor(
    private readonly appMessages: AppMessagesService,
    private readonly contents: WecomMessageContent,
  ) {}

  @Post('send')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Send an app message to touser / toparty / totag / @all within the app’s range (msgtype text, image, voice, video, file, textcard, news, markdown, template_card)',
  })
  @ApiOkResponse({ type: WecomSendMessageResponse })
  async send(
    @CurrentPrincipal() caller: Principal,
    @Query() _query: WecomQuery,
    @Body() body: WecomSendMessageDto,
  ): Promise<WecomSendMessageResponse> {
    const app = caller.app as NonNullable<Principal['app']>;
    if (body.agentid !== app.agentId) throw new AgentidMismatchException(body.agentid, app.agentId);
    const all = body.touser === '@all';
    const touser = all ? [] : split(body.touser, 'touser', MAX_USERS);
    const toparty = all ? [] : ids(body.toparty, 'toparty', MAX_PARTIES);
    const totag = all ? [] : ids(body.totag, 'totag', MAX_TAGS);
    if (!all && !touser.length && !toparty.length && !totag.length)
      throw new ValidationFailedException([
        {
          field: '(body)',
          code: 'NO_TARGETS',
          message: 'Name touser, toparty or totag, or send touser @all.',
        },
      ]);
    const content = await this.contents.of(caller, body);
    const result = await this.appMessages.send(caller, {
      ...content,
      touser,
      toparty,
      totag,
      all,
      duplicateCheckSeconds:
        body.enable_duplicate_check === 1
          ? (body.duplicate_check_interval ?? DEFAULT_DUPLICATE_CHECK_SECONDS)
          : undefined,
    });
    return {
      errcode: 0,
      errmsg: 'ok',
      // Over-quota members were not reached: a WeCom client finds them where it looks.
      invaliduser: [...result.invaliduser, ...result.overquotauser].join('|'),
      invalidparty: result.invalidparty.join('|'),
      invalidtag: result.invalidtag.join('|'),
      unlicenseduser: '',
      overquotauser: result.overquotauser.join('|'),
      msgid: result.msgid,
    };
  }

  @Post('recall')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Recall an app message this app sent, within APP_MESSAGE_RECALL_WINDOW_MINUTES (24 h); recipients’ inboxes hide it',
  })
  @ApiOkResponse({ type: WecomOkResponse })
  async recall(
    @CurrentPrincipal() caller: Principal,
    @Query() _query: WecomQuery,
    @Body() body: WecomRecallDto,
  ): Promise<WecomOkResponse> {
    await this.appMessages.recall(caller, body.msgid);
    return { errcode: 0, errmsg: 'ok' };
  }
}
