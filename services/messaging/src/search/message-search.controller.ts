import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, type Principal } from '@qiwei/auth';
import { decodeCursor, encodeCursor, ValidationFailedException } from '@qiwei/platform';
import {
  MessageSearchHitResponse,
  MessageSearchPageResponse,
  MessageSearchQuery,
} from './dto/message-search.dto';
import { MessageSearchService } from './message-search.service';

type SearchCursor = { t: string; c: string; s: number };
const isSearchCursor = (v: unknown): v is SearchCursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as SearchCursor).t === 'string' &&
  !Number.isNaN(Date.parse((v as SearchCursor).t)) &&
  typeof (v as SearchCursor).c === 'string' &&
  /^[0-9a-f-]{36}$/.test((v as SearchCursor).c) &&
  Number.isSafeInteger((v as SearchCursor).s);

@ApiTags('messages')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/messages/search')
export class MessageSearchController {
  constructor(private readonly search: MessageSearchService) {}

  @Get()
  @ApiOperation({
    summary:
      'Search your own conversations by keywords (Chinese included), sender, conversation, type and time, newest first',
  })
  @ApiOkResponse({ type: MessageSearchPageResponse })
  async find(
    @CurrentPrincipal() caller: Principal,
    @Query() query: MessageSearchQuery,
  ): Promise<MessageSearchPageResponse> {
    if (
      [query.q, query.sender, query.conversationId, query.type, query.from, query.to].every(
        (v) => v === undefined,
      )
    )
      throw new ValidationFailedException([
        {
          field: '(query)',
          code: 'SEARCH_CRITERIA_REQUIRED',
          message: 'Give at least one of q, sender, conversationId, type, from, to.',
        },
      ]);
    const from = query.from ? new Date(query.from) : undefined;
    const to = query.to ? new Date(query.to) : undefined;
    if (from && to && from >= to)
      throw new ValidationFailedException([
        { field: 'to', code: 'TIME_RANGE_EMPTY', message: '`to` must be after `from`.' },
      ]);
    const after = decodeCursor(query.cursor, isSearchCursor);
    const limit = query.limit ?? 20;
    const page = await this.search.search(caller, {
      q: query.q,
      sender: query.sender,
      conversationId: query.conversationId,
      type: query.type,
      from,
      to,
      after: after && { sentAt: after.t, conversationId: after.c, seq: after.s },
      limit,
    });
    const last = page.items[page.items.length - 1]?.message;
    return {
      items: page.items.map((hit) => MessageSearchHitResponse.of(hit.message, hit.highlights)),
      nextCursor:
        page.more && last
          ? encodeCursor({ t: last.sentAt.toISOString(), c: last.conversationId, s: last.seq })
          : null,
    };
  }
}
