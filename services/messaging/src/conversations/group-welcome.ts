import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { asCorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { MessagesService } from '../messages/messages.service';
import type { ConversationState } from './conversation-state';

/**
 * The welcome message for new members (入群欢迎语): posted by the group's owner, mentioning the
 * members who joined, in the transaction that adds them — an ordinary message with its seq and
 * sent event.
 */
@Injectable()
export class GroupWelcome {
  private readonly logger = new Logger(GroupWelcome.name);

  constructor(
    private readonly messages: MessagesService,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  /** `c` as it is after the members joined; `userids` are the members who joined (may be none). */
  async greet(em: EntityManager, c: ConversationState, userids: string[]): Promise<void> {
    if (!c.welcomeMessage || !c.owner) return;
    if (Buffer.byteLength(c.welcomeMessage, 'utf8') > this.config.MESSAGE_TEXT_MAX_BYTES) {
      // Set under a larger MESSAGE_TEXT_MAX_BYTES: adding the members matters more than greeting.
      this.logger.warn(
        `welcome message of ${c.id} is over MESSAGE_TEXT_MAX_BYTES and was not sent; shorten it`,
      );
      return;
    }
    await this.messages.accept(em, { corpId: asCorpId(c.corpId), userId: c.owner }, c.id, {
      clientMsgId: `welcome-${randomUUID()}`,
      type: 'text',
      text: c.welcomeMessage,
      mentions: userids,
    });
  }
}
