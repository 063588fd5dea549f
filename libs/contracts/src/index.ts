export {
  defineTopic,
  deadLetterTopicOf,
  type EventTypeDefinition,
  type TopicDefinition,
} from './topic';
export {
  IDENTITY_CORP_TOPIC,
  IDENTITY_DEPARTMENT_TOPIC,
  IDENTITY_MEMBER_TOPIC,
  IDENTITY_TAG_TOPIC,
  IDENTITY_APP_TOPIC,
  IDENTITY_TOPICS,
} from './topics/identity.topics';
export * from './gen/qiwei/identity/v1/app_pb';
export * from './gen/qiwei/identity/v1/corp_pb';
export * from './gen/qiwei/identity/v1/department_pb';
export * from './gen/qiwei/identity/v1/member_pb';
export * from './gen/qiwei/identity/v1/tag_pb';
export {
  MESSAGING_MESSAGE_TOPIC,
  MESSAGING_CONVERSATION_TOPIC,
  MESSAGING_ANNOUNCEMENT_TOPIC,
  MESSAGING_TOPICS,
} from './topics/messaging.topics';
export * from './gen/qiwei/messaging/v1/conversation_pb';
export * from './gen/qiwei/messaging/v1/message_pb';
export * from './gen/qiwei/messaging/v1/announcement_pb';
export * from './gen/qiwei/messaging/v1/urgent_reminder_pb';
export { COMPLIANCE_ALERT_TOPIC, COMPLIANCE_TOPICS } from './topics/compliance.topics';
export * from './gen/qiwei/compliance/v1/alert_pb';
import { COMPLIANCE_TOPICS } from './topics/compliance.topics';
import { IDENTITY_TOPICS } from './topics/identity.topics';
import { MESSAGING_TOPICS } from './topics/messaging.topics';
import type { TopicDefinition } from './topic';

/** Every topic Qiwei publishes: the source of docs/asyncapi.yaml. */
export const TOPIC_CATALOG: readonly TopicDefinition[] = [
  ...IDENTITY_TOPICS,
  ...MESSAGING_TOPICS,
  ...COMPLIANCE_TOPICS,
];
