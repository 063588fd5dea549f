import { Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { ForbiddenException, ValidationFailedException } from '@qiwei/platform';
import { hasCjk, keywordQuery, matchRanges, type MatchRange } from '@qiwei/text-search';
import { DataSource } from 'typeorm';
import {
  MessagesRepository,
  type FoundMessage,
  type MessageType,
} from '../messages/messages.repository';

export interface MessageSearchCriteria {
  q?: string;
  sender?: string;
  conversationId?: string;
  type?: MessageType;
  from?: Date;
  to?: Date;
  after?: { sentAt: string; conversationId: string; seq: number };
  limit: number;
}

const MAX_KEYWORDS = 10;

/** Bigram terms carry no positions: a CJK keyword of three or more characters is confirmed literally. */
const needsLiteralCheck = (keyword: string) => hasCjk(keyword) && [...keyword].length > 2;

/**
 * A member's search of their own conversations (not the compliance search): keywords (CJK
 * bigrams, Latin words, digit runs: see @qiwei/text-search), sender, conversation, type and
 * time, over what they may read — conversations they are in, and those they were in up to when
 * they left — newest first. Recalled messages are never found.
 */
@Injectable()
export class MessageSearchService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly messages: MessagesRepository,
  ) {}

  async search(
    caller: Principal,
    criteria: MessageSearchCriteria,
  ): Promise<{ items: { message: FoundMessage; highlights: MatchRange[] }[]; more: boolean }> {
    if (caller.app)
      throw new ForbiddenException(
        'Members search their own conversations; an app has none.',
        'MEMBER_TOKEN_REQUIRED',
      );
    const keywords = (criteria.q ?? '').trim().split(/\s+/).filter(Boolean);
    if (keywords.length > MAX_KEYWORDS)
      throw new ValidationFailedException([
        {
          field: 'q',
          code: 'TOO_MANY_KEYWORDS',
          message: `At most ${MAX_KEYWORDS} keywords.`,
        },
      ]);
    const queries = keywords.map(keywordQuery).filter((q): q is string => q !== null);
    if (keywords.length && !queries.length)
      throw new ValidationFailedException([
        {
          field: 'q',
          code: 'KEYWORD_NOT_SEARCHABLE',
          message: 'The keywords have no letters or digits to search for.',
        },
      ]);
    const rows = await this.messages.search(this.dataSource.manager, {
      corpId: caller.corpId,
      userid: caller.userId,
      tsquery: queries.length ? queries.join(' & ') : null,
      literal: keywords.filter(needsLiteralCheck),
      sender: criteria.sender,
      conversationId: criteria.conversationId,
      type: criteria.type,
      from: criteria.from,
      to: criteria.to,
      after: criteria.after,
      limit: criteria.limit + 1,
    });
    return {
      items: rows.slice(0, criteria.limit).map((message) => ({
        message,
        highlights: matchRanges(message.text, keywords),
      })),
      more: rows.length > criteria.limit,
    };
  }
}
