import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { TransactionRunner } from '@qiwei/persistence';
import { DataSource } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { ConversationsRepository } from '../conversations/conversations.repository';
import { roleOf } from '../conversations/conversations.service';
import {
  MessageAlreadyRecalledException,
  MessageNotFoundException,
} from '../messages/message.exceptions';
import { MessagesRepository } from '../messages/messages.repository';
import { messageUrgentReminded, type UrgentReminder } from './urgent-reminder-events';
import {
  UrgentNothingToRemindException,
  UrgentRecipientsInvalidException,
  UrgentReminderLimitedException,
  UrgentReminderNotAllowedException,
  UrgentReminderTooLateException,
} from './urgent-reminder.exceptions';

/**
 * Urgent reminders (强提醒) of messages: the sender, or a group's owner or admin, flags a sent
 * message, and the participants who have not read it (their read position is before it) — or
 * those of them the caller names — are re-notified: an event on the message topic that
 * notification channels (SMS, e-mail) consume, and an `urgent` WebSocket frame. Limited per
 * message: within URGENT_REMINDER_WINDOW_MINUTES of sending, URGENT_REMINDER_INTERVAL_SECONDS
 * apart, URGENT_REMINDERS_PER_MESSAGE times.
 */
@Injectable()
export class UrgentRemindersService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationsRepository,
    private readonly messages: MessagesRepository,
    private readonly outbox: Outbox,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  flag(
    caller: Principal,
    conversationId: string,
    seq: number,
    only: string[] | undefined,
  ): Promise<UrgentReminder & { remindersLeft: number }> {
    return this.transactions.run(async (em) => {
      const c = await this.conversations.forParticipant(em, caller, conversationId);
      // The message's row lock serialises flaggings of one message, so the limits hold.
      const message = await this.messages.bySeq(em, caller.corpId, conversationId, seq, {
        lock: true,
      });
      if (!message) throw new MessageNotFoundException(seq);
      if (message.recalledAt) throw new MessageAlreadyRecalledException(seq);
      const role = roleOf(c, caller.userId);
      const groupAdmin = c.kind !== 'single' && (role === 'owner' || role === 'admin');
      if (message.sender !== caller.userId && !groupAdmin)
        throw new UrgentReminderNotAllowedException();
      const now = new Date();
      const windowMinutes = this.config.URGENT_REMINDER_WINDOW_MINUTES;
      if (now.getTime() - message.sentAt.getTime() > windowMinutes * 60_000)
        throw new UrgentReminderTooLateException(windowMinutes);
      const [history] = await em.query<{ count: number; last: Date | null }[]>(
        `SELECT count(*)::int AS count, max(reminded_at) AS last FROM message_urgent_reminders
          WHERE corp_id = $1 AND conversation_id = $2 AND seq = $3`,
        [caller.corpId, conversationId, seq],
      );
      const max = this.config.URGENT_REMINDERS_PER_MESSAGE;
      if (history.count >= max)
        throw new UrgentReminderLimitedException(
          `This message was already flagged urgent ${history.count} times (at most ${max}).`,
        );
      const intervalMs = this.config.URGENT_REMINDER_INTERVAL_SECONDS * 1000;
      if (history.last && now.getTime() - history.last.getTime() < intervalMs)
        throw new UrgentReminderLimitedException(
          `Flag it again after ${new Date(history.last.getTime() + intervalMs).toISOString()} (once every ${this.config.URGENT_REMINDER_INTERVAL_SECONDS} seconds).`,
        );
      const unread = c.participants
        .filter((p) => p.userid !== message.sender && p.userid !== caller.userId && p.readSeq < seq)
        .map((p) => p.userid);
      let userids = unread;
      if (only) {
        const named = [...new Set(only)];
        const invalid = named.filter((u) => !unread.includes(u));
        if (invalid.length) throw new UrgentRecipientsInvalidException(invalid);
        userids = named;
      }
      if (!userids.length) throw new UrgentNothingToRemindException();
      const reminder: UrgentReminder = {
        id: randomUUID(),
        conversationId,
        seq,
        remindedBy: caller.userId,
        userids: [...userids].sort(),
        remindedAt: now,
      };
      await em.query(
        `INSERT INTO message_urgent_reminders (corp_id, id, conversation_id, seq, reminded_by, userids, reminded_at)
         VALUES ($1, $2, $3, $4, $5, $6::text[], $7)`,
        [
          caller.corpId,
          reminder.id,
          conversationId,
          seq,
          reminder.remindedBy,
          reminder.userids,
          reminder.remindedAt,
        ],
      );
      await this.outbox.publish(
        em,
        MESSAGING_MESSAGE_TOPIC,
        messageUrgentReminded(message, { kind: c.kind, name: c.name }, reminder),
      );
      return { ...reminder, remindersLeft: max - history.count - 1 };
    });
  }

  /** The message's urgent reminders, oldest first, for any participant. */
  async list(caller: Principal, conversationId: string, seq: number): Promise<UrgentReminder[]> {
    const em = this.dataSource.manager;
    await this.conversations.forParticipant(em, caller, conversationId);
    if (!(await this.messages.bySeq(em, caller.corpId, conversationId, seq)))
      throw new MessageNotFoundException(seq);
    const rows = await em.query<
      { id: string; reminded_by: string; userids: string[]; reminded_at: Date }[]
    >(
      `SELECT id, reminded_by, userids, reminded_at FROM message_urgent_reminders
        WHERE corp_id = $1 AND conversation_id = $2 AND seq = $3
        ORDER BY reminded_at, id`,
      [caller.corpId, conversationId, seq],
    );
    return rows.map((r) => ({
      id: r.id,
      conversationId,
      seq,
      remindedBy: r.reminded_by,
      userids: r.userids,
      remindedAt: r.reminded_at,
    }));
  }
}
