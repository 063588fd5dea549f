import {
  ConversationCreatedSchema,
  ConversationDisbandedSchema,
  ConversationExternalContactsAddedSchema,
  ConversationExternalContactsRemovedSchema,
  ConversationMembersAddedSchema,
  ConversationMembersRemovedSchema,
  ConversationSettingsChangedSchema,
} from '../gen/qiwei/messaging/v1/conversation_pb';
import {
  AppMessageRecalledSchema,
  AppMessageSentSchema,
  MessageReadSchema,
  MessageRecalledSchema,
  MessageSentSchema,
} from '../gen/qiwei/messaging/v1/message_pb';
import { defineTopic } from '../topic';

const DAY_MS = 24 * 60 * 60 * 1000;

export const MESSAGING_MESSAGE_TOPIC = defineTopic({
  name: 'qiwei.messaging.message.v1',
  publisher: 'messaging',
  summary:
    'Every message sent, recalled and read. A sent event carries everything the compliance archive needs: full content, sender, the participants at send time, sequence and time.',
  key: 'conversationId (app/<agentid> for app messages): a conversation’s messages stay in order (by seq).',
  partitions: 12,
  retentionMs: 7 * DAY_MS,
  events: [
    {
      type: 'qiwei.messaging.message.sent.v1',
      schema: MessageSentSchema,
      summary: 'A message was accepted and given its sequence number.',
    },
    {
      type: 'qiwei.messaging.message.recalled.v1',
      schema: MessageRecalledSchema,
      summary: 'A message was recalled by its sender or a group admin.',
    },
    {
      type: 'qiwei.messaging.message.read.v1',
      schema: MessageReadSchema,
      summary: 'A member read a conversation up to a sequence number.',
    },
    {
      type: 'qiwei.messaging.message.app_sent.v1',
      schema: AppMessageSentSchema,
      summary:
        'An app message (应用消息) went out; keyed by app/<agentid>, with every member it reached.',
    },
    {
      type: 'qiwei.messaging.message.app_recalled.v1',
      schema: AppMessageRecalledSchema,
      summary:
        'An app recalled its app message (WeCom message/recall); keyed by app/<agentid>, with the members it had reached.',
    },
  ],
});

export const MESSAGING_CONVERSATION_TOPIC = defineTopic({
  name: 'qiwei.messaging.conversation.v1',
  publisher: 'messaging',
  summary:
    'Conversations (1:1 and groups) and who is in them. Each event but disbanded carries the whole conversation with its participants.',
  key: 'conversationId: one conversation’s changes stay in order.',
  partitions: 6,
  retentionMs: 30 * DAY_MS,
  events: [
    {
      type: 'qiwei.messaging.conversation.created.v1',
      schema: ConversationCreatedSchema,
      summary: 'A conversation was created.',
    },
    {
      type: 'qiwei.messaging.conversation.settings_changed.v1',
      schema: ConversationSettingsChangedSchema,
      summary:
        'Name, owner, admins, posting and inviting rules, member limit, notice (群公告), welcome message or tags changed.',
    },
    {
      type: 'qiwei.messaging.conversation.members_added.v1',
      schema: ConversationMembersAddedSchema,
      summary: 'Members joined a group.',
    },
    {
      type: 'qiwei.messaging.conversation.members_removed.v1',
      schema: ConversationMembersRemovedSchema,
      summary: 'Members were removed, quit, left the corp or were disabled.',
    },
    {
      type: 'qiwei.messaging.conversation.disbanded.v1',
      schema: ConversationDisbandedSchema,
      summary: 'A group was disbanded by its owner.',
    },
    {
      type: 'qiwei.messaging.conversation.external_contacts_added.v1',
      schema: ConversationExternalContactsAddedSchema,
      summary: 'External contacts (external_userid) joined an external group.',
    },
    {
      type: 'qiwei.messaging.conversation.external_contacts_removed.v1',
      schema: ConversationExternalContactsRemovedSchema,
      summary: 'External contacts were removed from an external group.',
    },
  ],
});

export const MESSAGING_TOPICS = [MESSAGING_MESSAGE_TOPIC, MESSAGING_CONVERSATION_TOPIC] as const;
