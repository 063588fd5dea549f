import { DomainException, ForbiddenException } from '@qiwei/platform';

export class UrgentReminderNotAllowedException extends ForbiddenException {
  constructor() {
    super(
      'Only the sender, or a group’s owner or admins, flag a message urgent.',
      'URGENT_REMINDER_NOT_ALLOWED',
    );
  }
}

export class UrgentReminderTooLateException extends DomainException {
  constructor(minutes: number) {
    super(
      'URGENT_REMINDER_TOO_LATE',
      422,
      `A message is flagged urgent within ${minutes} minutes of sending.`,
    );
  }
}

export class UrgentReminderLimitedException extends DomainException {
  constructor(message: string) {
    super('URGENT_REMINDER_LIMITED', 429, message);
  }
}

export class UrgentRecipientsInvalidException extends DomainException {
  constructor(userids: string[]) {
    super(
      'URGENT_RECIPIENTS_INVALID',
      422,
      `Urgent reminders go to participants who have not read the message; not: ${userids.join(', ')}.`,
    );
  }
}

export class UrgentNothingToRemindException extends DomainException {
  constructor() {
    super('NOTHING_TO_REMIND', 422, 'Everyone in the conversation has read the message.');
  }
}
