import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, type Principal } from '@qiwei/auth';
import { NotFoundException, ValidationFailedException } from '@qiwei/platform';
import { UuidPipe } from '../http/uuid.pipe';
import { AppMessagesService } from './app-messages.service';
import {
  AppMessageResultResponse,
  InboxQuery,
  InboxResponse,
  SendAppMessageDto,
} from './dto/app-message.dto';

@ApiTags('app messages')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/app-messages')
export class AppMessagesController {
  constructor(private readonly appMessages: AppMessagesService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'An app sends to users, departments (subtrees), tags or everyone in its range; invalid and over-limit recipients are listed',
  })
  @ApiOkResponse({ type: AppMessageResultResponse })
  async send(
    @CurrentPrincipal() caller: Principal,
    @Body() body: SendAppMessageDto,
  ): Promise<AppMessageResultResponse> {
    const targets = {
      touser: body.all ? [] : (body.touser ?? []),
      toparty: body.all ? [] : (body.toparty ?? []),
      totag: body.all ? [] : (body.totag ?? []),
      all: body.all ?? false,
    };
    if (!targets.all && !targets.touser.length && !targets.toparty.length && !targets.totag.length)
      throw new ValidationFailedException([
        {
          field: 'touser',
          code: 'NO_TARGETS',
          message: 'Name users, departments or tags, or send to all.',
        },
      ]);
    return AppMessageResultResponse.of(
      await this.appMessages.send(caller, {
        ...targets,
        msgtype: body.msgtype,
        text: body.text,
        duplicateCheckSeconds: body.duplicateCheckSeconds,
      }),
    );
  }

  @Get()
  @ApiOperation({ summary: 'The caller’s app messages, newest first' })
  @ApiOkResponse({ type: InboxResponse })
  async inbox(
    @CurrentPrincipal() caller: Principal,
    @Query() query: InboxQuery,
  ): Promise<InboxResponse> {
    return InboxResponse.of(await this.appMessages.inbox(caller, query.before, query.limit ?? 100));
  }

  @Post(':id/recall')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'The app that sent an app message recalls it, within APP_MESSAGE_RECALL_WINDOW_MINUTES (as WeCom’s message/recall)',
  })
  @ApiNoContentResponse()
  async recall(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<void> {
    await this.appMessages.recall(caller, id);
  }

  @Post(':id/read')
  @HttpCode(204)
  @ApiOperation({ summary: 'Mark an app message read' })
  @ApiNoContentResponse()
  async read(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<void> {
    if (!(await this.appMessages.markRead(caller, id)))
      throw new NotFoundException('APP_MESSAGE_NOT_FOUND', `You have no app message ${id}.`);
  }
}
