import {
  AlertAssignedSchema,
  AlertClosedSchema,
  AlertRaisedSchema,
} from '../gen/qiwei/compliance/v1/alert_pb';
import { defineTopic } from '../topic';

const DAY_MS = 24 * 60 * 60 * 1000;

export const COMPLIANCE_ALERT_TOPIC = defineTopic({
  name: 'qiwei.compliance.alert.v1',
  publisher: 'compliance',
  summary:
    'Keyword alerts (敏感词) raised while archiving messages, and their handling by compliance officers. An alert names the message and the matched text, never the whole message.',
  key: 'corpId: one corp’s alerts stay in order.',
  partitions: 6,
  retentionMs: 30 * DAY_MS,
  events: [
    {
      type: 'qiwei.compliance.alert.raised.v1',
      schema: AlertRaisedSchema,
      summary: 'An archived message matched an alert rule.',
    },
    {
      type: 'qiwei.compliance.alert.assigned.v1',
      schema: AlertAssignedSchema,
      summary: 'An officer took the alert or handed it to another officer.',
    },
    {
      type: 'qiwei.compliance.alert.closed.v1',
      schema: AlertClosedSchema,
      summary: 'An officer closed the alert with a note.',
    },
  ],
});

export const COMPLIANCE_TOPICS = [COMPLIANCE_ALERT_TOPIC] as const;
