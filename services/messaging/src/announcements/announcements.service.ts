import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_ANNOUNCEMENT_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { TransactionRunner } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { MediaService } from '../media/media.service';
import {
  checkTargets,
  mayManage,
  publishingRights,
  type PublishingRights,
} from './announcement-access';
import { ANNOUNCEMENT_FORMAT, unsafeParts } from './announcement-body';
import {
  announcementExpired,
  announcementPublished,
  announcementRead,
  announcementReminded,
  announcementUpdated,
  announcementWithdrawn,
} from './announcement-events';
import {
  AnnouncementAttachmentInvalidException,
  AnnouncementAttachmentNotFoundException,
  AnnouncementBodyTooLargeException,
  AnnouncementBodyUnsafeException,
  AnnouncementManageForbiddenException,
  AnnouncementNoRecipientsException,
  AnnouncementNotFoundException,
  AnnouncementPublishedImmutableException,
  AnnouncementRemindLimitedException,
  AnnouncementScheduleInvalidException,
  AnnouncementStateException,
  NothingToRemindException,
} from './announcement.exceptions';
import {
  AnnouncementsRepository,
  type AnnouncementReminder,
  type AnnouncementAttachment,
  type AnnouncementDraft,
  type AnnouncementPriority,
  type AnnouncementStats,
  type AnnouncementStatus,
  type AnnouncementTargets,
  type ManagedCursor,
  type ReceivedAnnouncement,
  type ReceivedCursor,
  type RecipientState,
  type StoredAnnouncement,
} from './announcements.repository';

/** How far ahead an announcement may be scheduled. */
const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600 * 1000;
/** How far after publishing it may expire. */
const MAX_LIFETIME_MS = 10 * 366 * 24 * 3600 * 1000;

export interface AnnouncementInput {
  title: string;
  body: string;
  /** Media ids of ready uploads of the caller's. */
  attachments: string[];
  priority: AnnouncementPriority;
  pinned: boolean;
  noForward: boolean;
  targets: AnnouncementTargets;
  /** Absent: publish now. */
  publishAt?: Date;
  expiresAt?: Date | null;
}

/** A PATCH: what is given changes; `expiresAt: null` removes the expiry. */
export type AnnouncementChanges = Partial<AnnouncementInput>;

/** One announcement as its caller may see it. */
export interface AnnouncementView {
  announcement: StoredAnnouncement;
  /** The caller's read time when they are a recipient (undefined when they are not). */
  readAt?: Date | null;
  /** Set for those who manage it. */
  manage?: { readCount: number };
}

export interface ReminderResult {
  id: string;
  reminded: number;
  remindedAt: Date;
  remindersLeft: number;
}

const READABLE: AnnouncementStatus[] = ['published', 'archived'];

/**
 * Announcements (公告): published by super admins and department admins (within their scope)
 * at once or on a schedule, to departments (subtrees), tags, members or everyone, resolved to
 * recipients when published; read per recipient, with statistics and reminders to the unread
 * for those who manage them. Every change and its event commit together.
 */
@Injectable()
export class AnnouncementsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly announcements: AnnouncementsRepository,
    private readonly media: MediaService,
    private readonly outbox: Outbox,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  async create(
    caller: Principal,
    input: AnnouncementInput,
  ): Promise<{ announcement: StoredAnnouncement; recipients: number }> {
    this.checkBody(input.body);
    const now = new Date();
    const publishAt = input.publishAt ?? now;
    this.checkSchedule(now, input.publishAt, publishAt, input.expiresAt ?? null);
    return this.transactions.run(async (em) => {
      const rights = await publishingRights(em, caller);
      await checkTargets(em, caller.corpId, input.targets, rights);
      const draft: AnnouncementDraft = {
        title: input.title,
        body: input.body,
        attachments: await this.attachments(em, caller, input.attachments, []),
        priority: input.priority,
        pinned: input.pinned,
        noForward: input.noForward,
        targets: input.targets,
        scopeDepartmentIds: rights.unrestricted ? null : rights.scopeDepartmentIds,
        publishAt,
        expiresAt: input.expiresAt ?? null,
      };
      const id = randomUUID();
      await this.announcements.insert(
        em,
        caller.corpId,
        id,
        caller.userId,
        ANNOUNCEMENT_FORMAT,
        draft,
        now,
      );
      let recipients = 0;
      if (!input.publishAt) {
        const stored = (await this.announcements.get(em, caller.corpId, id)) as StoredAnnouncement;
        const reached = await this.publishIn(em, stored, now);
        if (!reached.length) throw new AnnouncementNoRecipientsException();
        recipients = reached.length;
      }
      return {
        announcement: (await this.announcements.get(em, caller.corpId, id)) as StoredAnnouncement,
        recipients,
      };
    });
  }

  /**
   * A scheduled announcement changes in everything (nobody has seen it); a published one only
   * in `pinned` and `expiresAt` (its content is what its recipients read and the statistics
   * measure: a correction is a withdrawal and a new announcement).
   */
  update(caller: Principal, id: string, changes: AnnouncementChanges): Promise<StoredAnnouncement> {
    return this.transactions.run(async (em) => {
      const a = await this.managed(em, caller, id, true);
      const now = new Date();
      if (a.status === 'withdrawn' || a.status === 'archived')
        throw new AnnouncementStateException(
          'ANNOUNCEMENT_CLOSED',
          `The announcement is ${a.status}; it no longer changes.`,
        );
      if (a.status === 'published') {
        const frozen = (Object.keys(changes) as (keyof AnnouncementChanges)[]).filter(
          (k) => changes[k] !== undefined && k !== 'pinned' && k !== 'expiresAt',
        );
        if (frozen.length) throw new AnnouncementPublishedImmutableException(frozen);
        const expiresAt = changes.expiresAt === undefined ? a.expiresAt : changes.expiresAt;
        if (expiresAt && expiresAt.getTime() <= now.getTime())
          throw new AnnouncementScheduleInvalidException(
            'expiresAt',
            'expiresAt must be in the future (to archive it now, withdraw it or set a near expiry).',
          );
        const pinned = changes.pinned ?? a.pinned;
        if (
          pinned === a.pinned &&
          (expiresAt?.getTime() ?? null) === (a.expiresAt?.getTime() ?? null)
        )
          return a;
        await this.announcements.setPinnedAndExpiry(em, a.corpId, a.id, pinned, expiresAt);
        const updated = { ...a, pinned, expiresAt };
        await this.outbox.publish(
          em,
          MESSAGING_ANNOUNCEMENT_TOPIC,
          announcementUpdated(updated, caller.userId, now),
        );
        return (await this.announcements.get(em, a.corpId, a.id)) as StoredAnnouncement;
      }
      // Scheduled: whoever sets the targets bounds them with their own rights.
      const body = changes.body ?? a.body;
      if (changes.body !== undefined) this.checkBody(body);
      const publishAt = changes.publishAt ?? a.publishAt;
      const expiresAt = changes.expiresAt === undefined ? a.expiresAt : changes.expiresAt;
      this.checkSchedule(now, changes.publishAt, publishAt, expiresAt);
      const rights: PublishingRights = await publishingRights(em, caller);
      const targets = changes.targets ?? a.targets;
      await checkTargets(em, a.corpId, targets, rights);
      await this.announcements.reschedule(em, a.corpId, a.id, {
        title: changes.title ?? a.title,
        body,
        attachments:
          changes.attachments === undefined
            ? a.attachments
            : await this.attachments(em, caller, changes.attachments, a.attachments),
        priority: changes.priority ?? a.priority,
        pinned: changes.pinned ?? a.pinned,
        noForward: changes.noForward ?? a.noForward,
        targets,
        scopeDepartmentIds: rights.unrestricted ? null : rights.scopeDepartmentIds,
        publishAt,
        expiresAt,
      });
      return (await this.announcements.get(em, a.corpId, a.id)) as StoredAnnouncement;
    });
  }

  /**
   * Withdraws it: a scheduled one is cancelled (never published, no event); a published or
   * archived one disappears for its recipients, who are told. Its statistics stay.
   */
  withdraw(caller: Principal, id: string): Promise<StoredAnnouncement> {
    return this.transactions.run(async (em) => {
      const a = await this.managed(em, caller, id, true);
      if (a.status === 'withdrawn')
        throw new AnnouncementStateException(
          'ANNOUNCEMENT_ALREADY_WITHDRAWN',
          'The announcement was already withdrawn.',
        );
      const now = new Date();
      await this.announcements.setWithdrawn(em, a.corpId, a.id, caller.userId, now);
      if (a.status !== 'scheduled')
        await this.outbox.publish(
          em,
          MESSAGING_ANNOUNCEMENT_TOPIC,
          announcementWithdrawn(a, caller.userId, now),
        );
      return (await this.announcements.get(em, a.corpId, a.id)) as StoredAnnouncement;
    });
  }

  /** For a recipient: a published or archived one addressed to them; for its managers: any. */
  async view(caller: Principal, id: string): Promise<AnnouncementView> {
    const em = this.dataSource.manager;
    const a = await this.announcements.get(em, caller.corpId, id);
    if (!a) throw new AnnouncementNotFoundException(id);
    const recipient = READABLE.includes(a.status)
      ? await this.announcements.recipient(em, a.corpId, a.id, caller.userId)
      : undefined;
    const manager = await mayManage(em, caller, a);
    if (!recipient && !manager) throw new AnnouncementNotFoundException(id);
    return {
      announcement: a,
      readAt: recipient ? recipient.readAt : undefined,
      manage: manager
        ? { readCount: (await this.announcements.stats(em, a.corpId, a.id)).read }
        : undefined,
    };
  }

  /** The caller has read it (the first time counts; later calls change nothing). */
  markRead(caller: Principal, id: string): Promise<Date> {
    return this.transactions.run(async (em) => {
      const a = await this.announcements.get(em, caller.corpId, id);
      const recipient =
        a && READABLE.includes(a.status)
          ? await this.announcements.recipient(em, a.corpId, a.id, caller.userId)
          : undefined;
      if (!a || !recipient) throw new AnnouncementNotFoundException(id);
      if (recipient.readAt) return recipient.readAt;
      const now = new Date();
      if (await this.announcements.markRead(em, a.corpId, a.id, caller.userId, now))
        await this.outbox.publish(
          em,
          MESSAGING_ANNOUNCEMENT_TOPIC,
          announcementRead(a, caller.userId, now),
        );
      return now;
    });
  }

  received(
    caller: Principal,
    archived: boolean,
    after: ReceivedCursor | undefined,
    limit: number,
  ): Promise<ReceivedAnnouncement[]> {
    return this.announcements.received(
      this.dataSource.manager,
      caller.corpId,
      caller.userId,
      archived,
      after,
      limit,
    );
  }

  /** A department admin's own announcements; every announcement of the corp for a super admin. */
  async list(
    caller: Principal,
    status: AnnouncementStatus | undefined,
    after: ManagedCursor | undefined,
    limit: number,
  ): Promise<{ announcement: StoredAnnouncement; readCount: number }[]> {
    const em = this.dataSource.manager;
    const rights = await publishingRights(em, caller);
    return this.announcements.managed(
      em,
      caller.corpId,
      rights.unrestricted ? null : caller.userId,
      status,
      after,
      limit,
    );
  }

  async stats(
    caller: Principal,
    id: string,
  ): Promise<{ announcement: StoredAnnouncement; stats: AnnouncementStats }> {
    const em = this.dataSource.manager;
    const a = await this.managed(em, caller, id);
    return { announcement: a, stats: await this.announcements.stats(em, a.corpId, a.id) };
  }

  async recipients(
    caller: Principal,
    id: string,
    state: 'read' | 'unread' | 'all',
    afterUserid: string | undefined,
    limit: number,
  ): Promise<RecipientState[]> {
    const em = this.dataSource.manager;
    const a = await this.managed(em, caller, id);
    return this.announcements.recipients(em, a.corpId, a.id, state, afterUserid, limit);
  }

  /**
   * "Remind the unread": the active recipients who have not read it are reminded (an event
   * notification channels act on, and a WebSocket frame). At most every
   * ANNOUNCEMENT_REMIND_INTERVAL_MINUTES and ANNOUNCEMENT_REMINDERS_MAX times per announcement.
   */
  remind(caller: Principal, id: string): Promise<ReminderResult> {
    return this.transactions.run(async (em) => {
      // The row lock serialises reminders of one announcement, so the limits hold under races.
      const a = await this.managed(em, caller, id, true);
      if (a.status !== 'published')
        throw new AnnouncementStateException(
          'ANNOUNCEMENT_NOT_PUBLISHED',
          `Only a published announcement is reminded of (this one is ${a.status}).`,
        );
      const history = await this.announcements.reminderHistory(em, a.corpId, a.id);
      const max = this.config.ANNOUNCEMENT_REMINDERS_MAX;
      if (history.count >= max)
        throw new AnnouncementRemindLimitedException(
          `The unread were already reminded ${history.count} times (at most ${max}).`,
        );
      const now = new Date();
      const intervalMs = this.config.ANNOUNCEMENT_REMIND_INTERVAL_MINUTES * 60_000;
      if (history.last && now.getTime() - history.last.getTime() < intervalMs)
        throw new AnnouncementRemindLimitedException(
          `Remind again after ${new Date(history.last.getTime() + intervalMs).toISOString()} (once every ${this.config.ANNOUNCEMENT_REMIND_INTERVAL_MINUTES} minutes).`,
        );
      const unread = await this.announcements.unreadActive(em, a.corpId, a.id);
      if (!unread.length) throw new NothingToRemindException('Every recipient has read it.');
      const reminderId = randomUUID();
      await this.announcements.insertReminder(
        em,
        a.corpId,
        reminderId,
        a.id,
        caller.userId,
        unread,
        now,
      );
      await this.outbox.publish(
        em,
        MESSAGING_ANNOUNCEMENT_TOPIC,
        announcementReminded(a, caller.userId, unread, now, false),
      );
      // The unread were just reminded: the next automatic reminder waits its interval.
      await this.announcements.deferAutoReminder(em, a.corpId, a.id, this.autoRemindAfter(now));
      return {
        id: reminderId,
        reminded: unread.length,
        remindedAt: now,
        remindersLeft: max - history.count - 1,
      };
    });
  }

  /** Every reminder of the unread, by managers and automatic, newest first (managers only). */
  async reminders(
    caller: Principal,
    id: string,
  ): Promise<{
    announcement: StoredAnnouncement;
    reminders: AnnouncementReminder[];
    remindersLeft: number;
  }> {
    const em = this.dataSource.manager;
    const a = await this.managed(em, caller, id);
    const reminders = await this.announcements.reminders(em, a.corpId, a.id);
    const manual = reminders.filter((r) => !r.automatic).length;
    return {
      announcement: a,
      reminders,
      remindersLeft: Math.max(0, this.config.ANNOUNCEMENT_REMINDERS_MAX - manual),
    };
  }

  /**
   * Sends the next automatic reminder that is due, if any (the scheduler's step; any number of
   * instances may run it at once): an important announcement's active unread recipients are
   * re-notified — the `reminded` event (automatic, for SMS/e-mail channels) and frames — then
   * again every ANNOUNCEMENT_IMPORTANT_REMIND_MINUTES, ANNOUNCEMENT_IMPORTANT_AUTO_REMINDERS
   * times in all. Once everyone has read it, no more are due. Returns whether one was due.
   */
  remindNextDue(): Promise<{ id: string; reminded: number } | null> {
    return this.transactions.run(async (em) => {
      const a = await this.announcements.claimAutoReminder(em);
      if (!a) return null;
      const unread = await this.announcements.unreadActive(em, a.corpId, a.id);
      if (!unread.length) {
        await this.announcements.setAutoReminders(em, a.corpId, a.id, a.autoReminders, null);
        return { id: a.id, reminded: 0 };
      }
      const now = new Date();
      await this.announcements.insertReminder(
        em,
        a.corpId,
        randomUUID(),
        a.id,
        '',
        unread,
        now,
        true,
      );
      await this.outbox.publish(
        em,
        MESSAGING_ANNOUNCEMENT_TOPIC,
        announcementReminded(a, '', unread, now, true),
      );
      const sent = a.autoReminders + 1;
      await this.announcements.setAutoReminders(
        em,
        a.corpId,
        a.id,
        sent,
        sent < this.config.ANNOUNCEMENT_IMPORTANT_AUTO_REMINDERS ? this.autoRemindAfter(now) : null,
      );
      return { id: a.id, reminded: unread.length };
    });
  }

  /** A download URL of an attachment, for whoever may see the announcement. */
  async attachmentUrl(
    caller: Principal,
    id: string,
    mediaId: string,
  ): Promise<{ attachment: AnnouncementAttachment; url: string; expiresInSeconds: number }> {
    const { announcement } = await this.view(caller, id);
    const attachment = announcement.attachments.find((f) => f.mediaId === mediaId);
    if (!attachment) throw new AnnouncementAttachmentNotFoundException(mediaId);
    return {
      attachment,
      url: await this.media.presignedDownload(attachment.objectKey, attachment.filename),
      expiresInSeconds: this.config.MEDIA_URL_EXPIRY_SECONDS,
    };
  }

  /**
   * Publishes the next scheduled announcement that is due, if any (the scheduler's step; any
   * number of instances may run it at once). A failure to publish it is recorded on the
   * announcement (`failed`), which is tried again after a backoff; only a failure to record
   * that (the database is gone) is thrown.
   */
  async publishNextDue(): Promise<
    { outcome: 'none' } | { outcome: 'published' | 'failed'; id: string; error?: unknown }
  > {
    let claimed: StoredAnnouncement | undefined;
    try {
      return await this.transactions.run(async (em) => {
        const a = await this.announcements.claimDue(em);
        if (!a) return { outcome: 'none' as const };
        claimed = a;
        await this.publishIn(em, a, new Date());
        return { outcome: 'published' as const, id: a.id };
      });
    } catch (error) {
      const failed = claimed;
      if (!failed) throw error;
      await this.transactions.run((em) =>
        this.announcements.recordFailure(em, failed.corpId, failed.id, String(error)),
      );
      return { outcome: 'failed', id: failed.id, error };
    }
  }

  /** Archives the next published announcement whose expiry has passed, if any. */
  expireNext(): Promise<boolean> {
    return this.transactions.run(async (em) => {
      const a = await this.announcements.claimExpired(em);
      if (!a) return false;
      const now = new Date();
      await this.announcements.setArchived(em, a.corpId, a.id, now);
      await this.outbox.publish(em, MESSAGING_ANNOUNCEMENT_TOPIC, announcementExpired(a, now));
      return true;
    });
  }

  private async publishIn(em: EntityManager, a: StoredAnnouncement, at: Date): Promise<string[]> {
    const automatic =
      a.priority === 'important' && this.config.ANNOUNCEMENT_IMPORTANT_AUTO_REMINDERS > 0;
    const recipients = await this.announcements.publish(
      em,
      a,
      at,
      automatic ? this.autoRemindAfter(at) : null,
    );
    await this.outbox.publish(
      em,
      MESSAGING_ANNOUNCEMENT_TOPIC,
      announcementPublished({ ...a, status: 'published', publishedAt: at }, at, recipients),
    );
    return recipients;
  }

  /** The announcement, for those who manage it; 403 for its other viewers; 404 for the rest. */
  private async managed(
    em: EntityManager,
    caller: Principal,
    id: string,
    lock = false,
  ): Promise<StoredAnnouncement> {
    const a = await this.announcements.get(em, caller.corpId, id, { lock });
    if (!a) throw new AnnouncementNotFoundException(id);
    if (await mayManage(em, caller, a)) return a;
    const recipient = READABLE.includes(a.status)
      ? await this.announcements.recipient(em, a.corpId, a.id, caller.userId)
      : undefined;
    if (recipient) throw new AnnouncementManageForbiddenException();
    throw new AnnouncementNotFoundException(id);
  }

  /** Attachments: those already attached stay; new ones are ready uploads of the caller's. */
  private async attachments(
    em: EntityManager,
    caller: Principal,
    mediaIds: string[],
    existing: AnnouncementAttachment[],
  ): Promise<AnnouncementAttachment[]> {
    const ids = [...new Set(mediaIds)];
    const kept = new Map(existing.map((f) => [f.mediaId, f]));
    const fresh = await this.media.readyOf(
      em,
      caller,
      ids.filter((m) => !kept.has(m)),
    );
    for (const m of fresh)
      kept.set(m.id, {
        mediaId: m.id,
        kind: m.kind,
        bucket: m.bucket,
        objectKey: m.objectKey,
        size: m.size,
        sha256: m.sha256,
        filename: m.filename,
        contentType: m.contentType,
      });
    const missing = ids.filter((m) => !kept.has(m));
    if (missing.length) throw new AnnouncementAttachmentInvalidException(missing);
    return ids.map((m) => kept.get(m) as AnnouncementAttachment);
  }

  private autoRemindAfter(at: Date): Date {
    return new Date(at.getTime() + this.config.ANNOUNCEMENT_IMPORTANT_REMIND_MINUTES * 60_000);
  }

  private checkBody(body: string): void {
    const limit = this.config.ANNOUNCEMENT_BODY_MAX_BYTES;
    if (Buffer.byteLength(body, 'utf8') > limit) throw new AnnouncementBodyTooLargeException(limit);
    const unsafe = unsafeParts(body);
    if (unsafe.length) throw new AnnouncementBodyUnsafeException(unsafe);
  }

  /** `scheduled`: the publish time asked for (absent when publishing now). */
  private checkSchedule(
    now: Date,
    scheduled: Date | undefined,
    publishAt: Date,
    expiresAt: Date | null,
  ): void {
    if (scheduled && scheduled.getTime() <= now.getTime())
      throw new AnnouncementScheduleInvalidException(
        'publishAt',
        'publishAt must be in the future (leave it out to publish now).',
      );
    if (scheduled && scheduled.getTime() - now.getTime() > MAX_SCHEDULE_AHEAD_MS)
      throw new AnnouncementScheduleInvalidException(
        'publishAt',
        'An announcement is scheduled at most 366 days ahead.',
      );
    if (expiresAt && expiresAt.getTime() <= Math.max(publishAt.getTime(), now.getTime()))
      throw new AnnouncementScheduleInvalidException(
        'expiresAt',
        'expiresAt must come after the announcement is published.',
      );
    if (expiresAt && expiresAt.getTime() - publishAt.getTime() > MAX_LIFETIME_MS)
      throw new AnnouncementScheduleInvalidException(
        'expiresAt',
        'An announcement expires at most ten years after it is published.',
      );
  }
}
