import {
  ConversationCreatedSchema,
  ConversationDisbandedSchema,
  ConversationExternalContactsAddedSchema,
  ConversationExternalContactsRemovedSchema,
  ConversationMembersAddedSchema,
  ConversationMembersLeftOutSchema,
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
import {
  AnnouncementExpiredSchema,
  AnnouncementPublishedSchema,
  AnnouncementReadSchema,
  AnnouncementRemindedSchema,
  AnnouncementUpdatedSchema,
  AnnouncementWithdrawnSchema,
} from '../gen/qiwei/messaging/v1/announcement_pb';
import { MessageUrgentRemindedSchema } from '../gen/qiwei/messaging/v1/urgent_reminder_pb';
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
    {
      type: 'qiwei.messaging.message.urgent_reminded.v1',
      schema: MessageUrgentRemindedSchema,
      summary:
        'A message was flagged urgent (强提醒): notification channels (SMS, e-mail) re-notify the members who had not read it.',
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
    {
      type: 'qiwei.messaging.conversation.members_left_out.v1',
      schema: ConversationMembersLeftOutSchema,
      summary:
        'A department group is at its member limit: members of its subtree could not join and wait for a seat.',
    },
  ],
});

export const MESSAGING_ANNOUNCEMENT_TOPIC = defineTopic({
  name: 'qiwei.messaging.announcement.v1',
  publisher: 'messaging',
  summary:
    'Announcements (公告) published by admins to departments, tags or everyone: published (with every recipient), pinned or expiry changed, withdrawn, expired (archived), read by a recipient, and reminders to the unread.',
  key: 'announcementId: one announcement’s events stay in order.',
  partitions: 6,
  retentionMs: 30 * DAY_MS,
  events: [
    {
      type: 'qiwei.messaging.announcement.published.v1',
      schema: AnnouncementPublishedSchema,
      summary:
        'An announcement was published (at once or on its schedule), with its whole content and the members it reached.',
    },
    {
      type: 'qiwei.messaging.announcement.updated.v1',
      schema: AnnouncementUpdatedSchema,
      summary: 'A published announcement was pinned, unpinned or given another expiry.',
    },
    {
      type: 'qiwei.messaging.announcement.withdrawn.v1',
      schema: AnnouncementWithdrawnSchema,
      summary: 'A published announcement was withdrawn: recipients no longer see it.',
    },
    {
      type: 'qiwei.messaging.announcement.expired.v1',
      schema: AnnouncementExpiredSchema,
      summary: 'An announcement’s expiry passed: it was archived (kept, not deleted).',
    },
    {
      type: 'qiwei.messaging.announcement.read.v1',
      schema: AnnouncementReadSchema,
      summary: 'A recipient read an announcement for the first time.',
    },
    {
      type: 'qiwei.messaging.announcement.reminded.v1',
      schema: AnnouncementRemindedSchema,
      summary:
        'The recipients who had not read it were reminded — by a manager, or automatically for an important announcement (强提醒); notification channels remind `userids`.',
    },
  ],
});

export const MESSAGING_TOPICS = [
  MESSAGING_MESSAGE_TOPIC,
  MESSAGING_CONVERSATION_TOPIC,
  MESSAGING_ANNOUNCEMENT_TOPIC,
] as const;
