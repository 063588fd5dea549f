import { DomainException, NotFoundException } from '@qiwei/platform';

export class ArchivedConversationNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('ARCHIVED_CONVERSATION_NOT_FOUND', `The archive holds nothing of conversation ${id}.`);
  }
}

export class RelevanceNeedsKeywordsException extends DomainException {
  constructor() {
    super(
      'RELEVANCE_NEEDS_KEYWORDS',
      422,
      'Sorting by relevance needs keywords (all, any or phrases) to rank by.',
    );
  }
}

export class TimeRangeInvalidException extends DomainException {
  constructor() {
    super('TIME_RANGE_INVALID', 422, '`from` must be before `to`.');
  }
}
