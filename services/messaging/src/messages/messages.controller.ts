import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
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
import { PositiveIntPipe, ValidationFailedException } from '@qiwei/platform';
import type { FastifyReply } from 'fastify';
import { UuidPipe } from '../http/uuid.pipe';
import {
  MessagePageResponse,
  MessageResponse,
  MessagesQuery,
  ReadDto,
  ReceiptsResponse,
  SendMessageDto,
} from './dto/message.dto';
import type { MessageType } from './messages.repository';
import { MessagesService, withoutContent } from './messages.service';

/** Which message types each content field belongs to. */
const CONTENT_FIELDS: Record<
  'text' | 'mediaId' | 'location' | 'link' | 'contactCard',
  readonly MessageType[]
> = {
  text: ['text', 'markdown'],
  mediaId: ['image', 'voice', 'video', 'file'],
  location: ['location'],
  link: ['link'],
  contactCard: ['contact_card'],
};

@ApiTags('messages')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/conversations/:id')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post('messages')
  @ApiOperation({
    summary:
      'Send a message; it gets the next seq. Resending the same clientMsgId answers the first one (200)',
  })
  @ApiCreatedResponse({ type: MessageResponse })
  async send(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: SendMessageDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MessageResponse> {
    const foreign = Object.entries(CONTENT_FIELDS).filter(
      ([field, types]) =>
        body[field as keyof typeof CONTENT_FIELDS] !== undefined && !types.includes(body.type),
    );
    if (foreign.length)
      throw new ValidationFailedException(
        foreign.map(([field, types]) => ({
          field,
          code: 'FIELD_NOT_FOR_TYPE',
          message: `${field} is only for ${types.join(', ')} messages`,
        })),
      );
    const sent = await this.messages.send(caller, id, {
      clientMsgId: body.clientMsgId,
      type: body.type,
      text: body.text,
      mediaId: body.mediaId,
      mentions: body.mentions,
      quoteSeq: body.quoteSeq,
      location: body.location && {
        latitude: body.location.latitude,
        longitude: body.location.longitude,
        name: body.location.name,
        address: body.location.address ?? '',
      },
      link: body.link && {
        title: body.link.title,
        description: body.link.description ?? '',
        url: body.link.url,
        picUrl: body.link.picUrl ?? '',
      },
      contactCard: body.contactCard && { userid: body.contactCard.userid },
    });
    void reply.status(sent.created ? 201 : 200);
    return MessageResponse.of(sent.message);
  }

  @Get('messages')
  @ApiOperation({ summary: 'Messages after a seq, oldest first (clients sync by their last seq)' })
  @ApiOkResponse({ type: MessagePageResponse })
  async after(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Query() query: MessagesQuery,
  ): Promise<MessagePageResponse> {
    const page = await this.messages.after(caller, id, query.afterSeq ?? 0, query.limit ?? 100);
    return { items: page.items.map((m) => MessageResponse.of(m)), lastSeq: page.lastSeq };
  }

  @Post('read')
  @HttpCode(204)
  @ApiOperation({ summary: 'Mark everything up to a seq as read' })
  @ApiNoContentResponse()
  async read(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: ReadDto,
  ): Promise<void> {
    await this.messages.read(caller, id, body.seq);
  }

  @Get('messages/:seq/receipts')
  @ApiOperation({ summary: 'Who has read a message and who has not' })
  @ApiOkResponse({ type: ReceiptsResponse })
  async receipts(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Param('seq', PositiveIntPipe) seq: number,
  ): Promise<ReceiptsResponse> {
    const r = await this.messages.receipts(caller, id, seq);
    return { ...r, readCount: r.read.length, unreadCount: r.unread.length };
  }

  @Post('messages/:seq/recall')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Recall a message: the sender within the window; in a group any time, its owner (any message) or admins (not the owner’s or another admin’s)',
  })
  @ApiOkResponse({ type: MessageResponse })
  async recall(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Param('seq', PositiveIntPipe) seq: number,
  ): Promise<MessageResponse> {
    const m = await this.messages.recall(caller, id, seq);
    return MessageResponse.of(withoutContent(m));
  }
}
