import { DomainException, NotFoundException } from '@qiwei/platform';

export class AlertRuleNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('ALERT_RULE_NOT_FOUND', `There is no alert rule ${id}.`);
  }
}

export class AlertNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('ALERT_NOT_FOUND', `There is no alert ${id}.`);
  }
}

export class AlertRulePatternInvalidException extends DomainException {
  constructor(reason: string) {
    super('ALERT_RULE_PATTERN_INVALID', 422, `The pattern cannot be used: ${reason}.`, [
      { field: 'pattern', code: 'ALERT_RULE_PATTERN_INVALID', message: reason },
    ]);
  }
}

export class AlertRuleShapeInvalidException extends DomainException {
  constructor(message: string) {
    super('ALERT_RULE_INVALID', 422, message);
  }
}

export class AlertRuleLimitReachedException extends DomainException {
  constructor(limit: number) {
    super('ALERT_RULE_LIMIT_REACHED', 422, `A corp has at most ${limit} alert rules.`);
  }
}

export class AlertClosedException extends DomainException {
  constructor(id: string) {
    super('ALERT_ALREADY_CLOSED', 409, `Alert ${id} is closed.`);
  }
}

export class AssigneeNotOfficerException extends DomainException {
  constructor(userid: string) {
    super(
      'ASSIGNEE_NOT_OFFICER',
      422,
      `${userid} is not an active compliance officer of this corp.`,
    );
  }
}
