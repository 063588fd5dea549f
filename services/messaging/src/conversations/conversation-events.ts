import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MESSAGING_CONVERSATION_TOPIC } from '@qiwei/contracts';
import type { NewEvent } from '@qiwei/events';
import { conversationMessage, type ConversationState } from './conversation-state';

const typeOf = (happened: string) => {
  const type = `qiwei.messaging.conversation.${happened}.v1`;
  if (!MESSAGING_CONVERSATION_TOPIC.events.some((e) => e.type === type))
    throw new Error(`undeclared ${type}`);
  return type;
};

// The conversation is the key: its changes and its messages each stay in order.
const envelope = (corpId: string, id: string) => ({
  tenant: corpId,
  key: id,
  subject: `conversation/${id}`,
});

export const conversationCreated = (c: ConversationState): NewEvent => ({
  ...envelope(c.corpId, c.id),
  type: typeOf('created'),
  data: { conversation: conversationMessage(c) },
});

export const conversationSettingsChanged = (c: ConversationState): NewEvent => ({
  ...envelope(c.corpId, c.id),
  type: typeOf('settings_changed'),
  data: { conversation: conversationMessage(c) },
});

export const conversationMembersAdded = (
  c: ConversationState,
  userids: string[],
  by: string,
): NewEvent => ({
  ...envelope(c.corpId, c.id),
  type: typeOf('members_added'),
  data: { conversation: conversationMessage(c), userids, by },
});

/** A department group at its member limit: these members of its subtree wait for a seat. */
export const conversationMembersLeftOut = (c: ConversationState, userids: string[]): NewEvent => ({
  ...envelope(c.corpId, c.id),
  type: typeOf('members_left_out'),
  data: { conversation: conversationMessage(c), userids },
});

export type RemovalReason = 'removed' | 'quit' | 'left_corp' | 'disabled' | 'left_department';

export const conversationMembersRemoved = (
  c: ConversationState,
  userids: string[],
  by: string,
  reason: RemovalReason,
): NewEvent => ({
  ...envelope(c.corpId, c.id),
  type: typeOf('members_removed'),
  data: { conversation: conversationMessage(c), userids, by, reason },
});

export const conversationDisbanded = (
  corpId: string,
  id: string,
  by: string,
  at: Date,
): NewEvent => ({
  ...envelope(corpId, id),
  type: typeOf('disbanded'),
  data: { corpId, id, by, disbandedAt: timestampFromDate(at) },
});

export const conversationExternalContactsAdded = (
  c: ConversationState,
  externalUserids: string[],
  by: string,
): NewEvent => ({
  ...envelope(c.corpId, c.id),
  type: typeOf('external_contacts_added'),
  data: { conversation: conversationMessage(c), externalUserids, by },
});

export const conversationExternalContactsRemoved = (
  c: ConversationState,
  externalUserids: string[],
  by: string,
): NewEvent => ({
  ...envelope(c.corpId, c.id),
  type: typeOf('external_contacts_removed'),
  data: { conversation: conversationMessage(c), externalUserids, by, reason: 'removed' },
});
