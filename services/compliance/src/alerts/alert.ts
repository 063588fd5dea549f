import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { COMPLIANCE_ALERT_TOPIC } from '@qiwei/contracts';
import type { NewEvent } from '@qiwei/events';
import type { CorpId } from '@qiwei/persistence';

export type AlertStatus = 'open' | 'assigned' | 'closed';

export interface Alert {
  corpId: CorpId;
  id: string;
  ruleId: string;
  ruleName: string;
  ruleKind: string;
  archiveSeq: number;
  messageId: string;
  conversationId: string;
  conversationKind: string;
  sender: string;
  matchedText: string;
  sentAt: Date;
  status: AlertStatus;
  assignee: string | null;
  note: string | null;
  closedBy: string | null;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AlertRow {
  corp_id: string;
  id: string;
  rule_id: string;
  rule_name: string;
  rule_kind: string;
  archive_seq: string;
  message_id: string;
  conversation_id: string;
  conversation_kind: string;
  sender: string;
  matched_text: string;
  sent_at: Date;
  status: AlertStatus;
  assignee: string | null;
  note: string | null;
  closed_by: string | null;
  closed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const alertOf = (r: AlertRow): Alert => ({
  corpId: r.corp_id as CorpId,
  id: r.id,
  ruleId: r.rule_id,
  ruleName: r.rule_name,
  ruleKind: r.rule_kind,
  archiveSeq: Number(r.archive_seq),
  messageId: r.message_id,
  conversationId: r.conversation_id,
  conversationKind: r.conversation_kind,
  sender: r.sender,
  matchedText: r.matched_text,
  sentAt: r.sent_at,
  status: r.status,
  assignee: r.assignee,
  note: r.note,
  closedBy: r.closed_by,
  closedAt: r.closed_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const typeOf = (happened: string) => {
  const type = `qiwei.compliance.alert.${happened}.v1`;
  if (!COMPLIANCE_ALERT_TOPIC.events.some((e) => e.type === type))
    throw new Error(`undeclared ${type}`);
  return type;
};

const payloadOf = (a: Alert) => ({
  corpId: a.corpId,
  id: a.id,
  ruleId: a.ruleId,
  ruleName: a.ruleName,
  ruleKind: a.ruleKind,
  messageId: a.messageId,
  conversationId: a.conversationId,
  conversationKind: a.conversationKind,
  sender: a.sender,
  matchedText: a.matchedText,
  archiveSeq: BigInt(a.archiveSeq),
  status: a.status,
  assignee: a.assignee ?? '',
  note: a.note ?? '',
  sentAt: timestampFromDate(a.sentAt),
  createdAt: timestampFromDate(a.createdAt),
  updatedAt: timestampFromDate(a.updatedAt),
});

// The corp is the key: one corp's alerts stay in order for every consumer.
const envelope = (a: Alert, happened: string) => ({
  type: typeOf(happened),
  tenant: a.corpId,
  key: a.corpId,
  subject: `alert/${a.id}`,
  time: a.updatedAt,
});

export const alertRaised = (a: Alert): NewEvent => ({
  ...envelope(a, 'raised'),
  data: { alert: payloadOf(a) },
});

export const alertAssigned = (a: Alert, by: string): NewEvent => ({
  ...envelope(a, 'assigned'),
  data: { alert: payloadOf(a), by },
});

export const alertClosed = (a: Alert, by: string): NewEvent => ({
  ...envelope(a, 'closed'),
  data: { alert: payloadOf(a), by },
});
