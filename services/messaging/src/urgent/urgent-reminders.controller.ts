import { Body, Controller, Get, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, type Principal } from '@qiwei/auth';
import { Idempotent } from '@qiwei/persistence';
import { PositiveIntPipe } from '@qiwei/platform';
import { UuidPipe } from '../http/uuid.pipe';
import {
  FlagUrgentDto,
  FlaggedUrgentResponse,
  UrgentReminderListResponse,
  UrgentReminderResponse,
} from './dto/urgent-reminder.dto';
import { UrgentRemindersService } from './urgent-reminders.service';

@ApiTags('messages')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/conversations/:id/messages/:seq/urgent')
export class UrgentRemindersController {
  constructor(private readonly urgent: UrgentRemindersService) {}

  @Post()
  @Idempotent()
  @ApiOperation({
    summary:
      'Flag a message urgent (强提醒): its unread participants are re-notified (event for SMS/e-mail channels, WebSocket frame); sender or group owner/admins; rate-limited',
  })
  @ApiCreatedResponse({ type: FlaggedUrgentResponse })
  async flag(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Param('seq', PositiveIntPipe) seq: number,
    @Body() body: FlagUrgentDto,
  ): Promise<FlaggedUrgentResponse> {
    const r = await this.urgent.flag(caller, id, seq, body.userids);
    return { ...UrgentReminderResponse.of(r), remindersLeft: r.remindersLeft };
  }

  @Get()
  @ApiOperation({ summary: 'The message’s urgent reminders, oldest first' })
  @ApiOkResponse({ type: UrgentReminderListResponse })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Param('seq', PositiveIntPipe) seq: number,
  ): Promise<UrgentReminderListResponse> {
    const items = await this.urgent.list(caller, id, seq);
    return { items: items.map((r) => UrgentReminderResponse.of(r)) };
  }
}
