import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type AnnouncementStatus = 'scheduled' | 'published' | 'withdrawn' | 'archived';
export type AnnouncementPriority = 'normal' | 'important';

export interface AnnouncementTargets {
  all: boolean;
  departmentIds: number[];
  tagIds: number[];
  userids: string[];
}

/** What an announcement keeps of an attached upload (the upload row itself never goes away). */
export interface AnnouncementAttachment {
  mediaId: string;
  kind: string;
  bucket: string;
  objectKey: string;
  size: number;
  sha256: string;
  filename: string;
  contentType: string;
}

export interface StoredAnnouncement {
  corpId: string;
  id: string;
  publisher: string;
  title: string;
  body: string;
  format: string;
  attachments: AnnouncementAttachment[];
  priority: AnnouncementPriority;
  pinned: boolean;
  noForward: boolean;
  targets: AnnouncementTargets;
  /** Departments whose subtrees bound the recipients; null: the whole corp. */
  scopeDepartmentIds: number[] | null;
  status: AnnouncementStatus;
  publishAt: Date;
  publishedAt: Date | null;
  expiresAt: Date | null;
  archivedAt: Date | null;
  withdrawnAt: Date | null;
  withdrawnBy: string | null;
  recipientCount: number;
  publishAttempts: number;
  lastError: string | null;
  /** Automatic reminders of the unread sent so far (important announcements). */
  autoReminders: number;
  /** When the next automatic reminder is due; null: none is (any more). */
  nextAutoRemindAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One "remind the unread", by a manager or automatic (an important announcement's). */
export interface AnnouncementReminder {
  id: string;
  /** The manager who reminded; '' for an automatic reminder. */
  remindedBy: string;
  automatic: boolean;
  /** How many unread recipients were reminded. */
  reminded: number;
  remindedAt: Date;
}

/** An announcement as one recipient sees it in their list. */
export interface ReceivedAnnouncement {
  announcement: StoredAnnouncement;
  readAt: Date | null;
}

export interface AnnouncementStats {
  recipients: number;
  read: number;
  /** Seconds from publishing to reading, over those who read it; null when nobody has. */
  secondsToRead: { average: number; median: number; p90: number; max: number } | null;
}

export interface RecipientState {
  userid: string;
  name: string;
  /** The member's status now (a recipient may have left since). */
  status: string;
  readAt: Date | null;
  secondsToRead: number | null;
}

interface AnnouncementRow {
  corp_id: string;
  id: string;
  publisher: string;
  title: string;
  body: string;
  format: string;
  attachments: AnnouncementAttachment[];
  priority: AnnouncementPriority;
  pinned: boolean;
  no_forward: boolean;
  target_all: boolean;
  target_department_ids: number[];
  target_tag_ids: number[];
  target_userids: string[];
  scope_department_ids: number[] | null;
  status: AnnouncementStatus;
  publish_at: Date;
  published_at: Date | null;
  expires_at: Date | null;
  archived_at: Date | null;
  withdrawn_at: Date | null;
  withdrawn_by: string | null;
  recipient_count: number;
  publish_attempts: number;
  last_error: string | null;
  auto_reminders: number;
  next_auto_remind_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toAnnouncement = (r: AnnouncementRow): StoredAnnouncement => ({
  corpId: r.corp_id,
  id: r.id,
  publisher: r.publisher,
  title: r.title,
  body: r.body,
  format: r.format,
  attachments: r.attachments,
  priority: r.priority,
  pinned: r.pinned,
  noForward: r.no_forward,
  targets: {
    all: r.target_all,
    departmentIds: r.target_department_ids,
    tagIds: r.target_tag_ids,
    userids: r.target_userids,
  },
  scopeDepartmentIds: r.scope_department_ids,
  status: r.status,
  publishAt: r.publish_at,
  publishedAt: r.published_at,
  expiresAt: r.expires_at,
  archivedAt: r.archived_at,
  withdrawnAt: r.withdrawn_at,
  withdrawnBy: r.withdrawn_by,
  recipientCount: r.recipient_count,
  publishAttempts: r.publish_attempts,
  lastError: r.last_error,
  autoReminders: r.auto_reminders,
  nextAutoRemindAt: r.next_auto_remind_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The content and schedule an announcement is created or rescheduled with. */
export interface AnnouncementDraft {
  title: string;
  body: string;
  attachments: AnnouncementAttachment[];
  priority: AnnouncementPriority;
  pinned: boolean;
  noForward: boolean;
  targets: AnnouncementTargets;
  scopeDepartmentIds: number[] | null;
  publishAt: Date;
  expiresAt: Date | null;
}

/** Keyset position in a member's list: pinned first, then newest published first. */
export interface ReceivedCursor {
  pinned: boolean;
  publishedAt: string;
  id: string;
}

/** Keyset position in a manager's list: newest created first. */
export interface ManagedCursor {
  createdAt: string;
  id: string;
}

/**
 * Queries on announcements and their recipients. Every method on tenant data takes the corp;
 * only the scheduler's claims (`claimDue`, `claimExpired`) scan across corps, as the outbox
 * relay does, and each row they return carries its corp.
 */
@Injectable()
export class AnnouncementsRepository {
  async insert(
    em: EntityManager,
    corpId: string,
    id: string,
    publisher: string,
    format: string,
    d: AnnouncementDraft,
    createdAt: Date,
  ): Promise<void> {
    await em.query(
      `INSERT INTO announcements (corp_id, id, publisher, title, body, format, attachments, priority,
         pinned, no_forward, target_all, target_department_ids, target_tag_ids, target_userids,
         scope_department_ids, status, publish_at, expires_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12::int[], $13::int[], $14::text[],
         $15::int[], 'scheduled', $16, $17, $18, $18)`,
      [
        corpId,
        id,
        publisher,
        d.title,
        d.body,
        format,
        JSON.stringify(d.attachments),
        d.priority,
        d.pinned,
        d.noForward,
        d.targets.all,
        d.targets.departmentIds,
        d.targets.tagIds,
        d.targets.userids,
        d.scopeDepartmentIds,
        d.publishAt,
        d.expiresAt,
        createdAt,
      ],
    );
  }

  async get(
    em: EntityManager,
    corpId: string,
    id: string,
    options: { lock?: boolean } = {},
  ): Promise<StoredAnnouncement | null> {
    const [row] = await em.query<AnnouncementRow[]>(
      `SELECT * FROM announcements WHERE corp_id = $1 AND id = $2 ${options.lock ? 'FOR UPDATE' : ''}`,
      [corpId, id],
    );
    return row ? toAnnouncement(row) : null;
  }

  /** Replaces everything of a scheduled announcement (nobody has seen it yet). */
  async reschedule(
    em: EntityManager,
    corpId: string,
    id: string,
    d: AnnouncementDraft,
  ): Promise<void> {
    await em.query(
      `UPDATE announcements SET title = $3, body = $4, attachments = $5::jsonb, priority = $6,
         pinned = $7, no_forward = $8, target_all = $9, target_department_ids = $10::int[],
         target_tag_ids = $11::int[], target_userids = $12::text[], scope_department_ids = $13::int[],
         publish_at = $14, expires_at = $15, publish_attempts = 0, retry_at = NULL, last_error = NULL,
         updated_at = now()
       WHERE corp_id = $1 AND id = $2 AND status = 'scheduled'`,
      [
        corpId,
        id,
        d.title,
        d.body,
        JSON.stringify(d.attachments),
        d.priority,
        d.pinned,
        d.noForward,
        d.targets.all,
        d.targets.departmentIds,
        d.targets.tagIds,
        d.targets.userids,
        d.scopeDepartmentIds,
        d.publishAt,
        d.expiresAt,
      ],
    );
  }

  async setPinnedAndExpiry(
    em: EntityManager,
    corpId: string,
    id: string,
    pinned: boolean,
    expiresAt: Date | null,
  ): Promise<void> {
    await em.query(
      `UPDATE announcements SET pinned = $3, expires_at = $4, updated_at = now()
        WHERE corp_id = $1 AND id = $2`,
      [corpId, id, pinned, expiresAt],
    );
  }

  /**
   * Resolves the recipients now — active members in the targeted departments' subtrees, the
   * tags' members and departments' subtrees, the members named, or everyone — limited to the
   * scope's subtrees (as the departments stand now) when there is one, writes a row for each,
   * and marks the announcement published, its first automatic reminder due at
   * `nextAutoRemindAt` (null: none). Returns the recipients.
   */
  async publish(
    em: EntityManager,
    a: StoredAnnouncement,
    publishedAt: Date,
    nextAutoRemindAt: Date | null,
  ): Promise<string[]> {
    const rows = await em.query<{ userid: string }[]>(
      `WITH target_paths AS (
         SELECT path FROM directory_departments
          WHERE corp_id = $1 AND (id = ANY($3::int[]) OR id IN (
            SELECT unnest(department_ids) FROM directory_tags WHERE corp_id = $1 AND id = ANY($4::int[])))
       ), target_users AS (
         SELECT unnest($5::text[]) AS userid
         UNION SELECT unnest(userids) FROM directory_tags WHERE corp_id = $1 AND id = ANY($4::int[])
       ), reached AS (
         SELECT m.userid FROM directory_members m
          WHERE m.corp_id = $1 AND m.status = 'active'
            AND ($6::boolean
                 OR m.userid IN (SELECT userid FROM target_users)
                 OR EXISTS (SELECT 1 FROM directory_departments d JOIN target_paths t ON d.path LIKE t.path || '%'
                             WHERE d.corp_id = m.corp_id AND d.id = ANY(m.department_ids)))
            AND ($7::int[] IS NULL
                 OR EXISTS (SELECT 1 FROM directory_departments d
                              JOIN directory_departments s ON s.corp_id = d.corp_id AND s.id = ANY($7::int[])
                                                          AND d.path LIKE s.path || '%'
                             WHERE d.corp_id = m.corp_id AND d.id = ANY(m.department_ids)))
       ), inserted AS (
         INSERT INTO announcement_recipients (corp_id, announcement_id, userid)
         SELECT $1, $2, userid FROM reached
         RETURNING userid
       ) SELECT userid FROM inserted ORDER BY userid`,
      [
        a.corpId,
        a.id,
        a.targets.departmentIds,
        a.targets.tagIds,
        a.targets.userids,
        a.targets.all,
        a.scopeDepartmentIds,
      ],
    );
    await em.query(
      `UPDATE announcements SET status = 'published', published_at = $3, recipient_count = $4,
         next_auto_remind_at = $5, retry_at = NULL, last_error = NULL, updated_at = now()
        WHERE corp_id = $1 AND id = $2`,
      [a.corpId, a.id, publishedAt, rows.length, nextAutoRemindAt],
    );
    return rows.map((r) => r.userid);
  }

  async setWithdrawn(
    em: EntityManager,
    corpId: string,
    id: string,
    by: string,
    at: Date,
  ): Promise<void> {
    await em.query(
      `UPDATE announcements SET status = 'withdrawn', withdrawn_at = $4, withdrawn_by = $3,
         next_auto_remind_at = NULL, updated_at = now()
        WHERE corp_id = $1 AND id = $2`,
      [corpId, id, by, at],
    );
  }

  async setArchived(em: EntityManager, corpId: string, id: string, at: Date): Promise<void> {
    await em.query(
      `UPDATE announcements SET status = 'archived', archived_at = $3, next_auto_remind_at = NULL,
         updated_at = now()
        WHERE corp_id = $1 AND id = $2`,
      [corpId, id, at],
    );
  }

  /** The member's row for the announcement: undefined when they are not a recipient. */
  async recipient(
    em: EntityManager,
    corpId: string,
    id: string,
    userid: string,
  ): Promise<{ readAt: Date | null } | undefined> {
    const [row] = await em.query<{ read_at: Date | null }[]>(
      `SELECT read_at FROM announcement_recipients WHERE corp_id = $1 AND announcement_id = $2 AND userid = $3`,
      [corpId, id, userid],
    );
    return row ? { readAt: row.read_at } : undefined;
  }

  /** Sets the read time once; true when this call set it. */
  async markRead(
    em: EntityManager,
    corpId: string,
    id: string,
    userid: string,
    at: Date,
  ): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      `WITH marked AS (
         UPDATE announcement_recipients SET read_at = $4
          WHERE corp_id = $1 AND announcement_id = $2 AND userid = $3 AND read_at IS NULL
         RETURNING 1
       ) SELECT * FROM marked`,
      [corpId, id, userid, at],
    );
    return rows.length > 0;
  }

  /** The member's published (or archived) announcements, pinned first, newest first. */
  async received(
    em: EntityManager,
    corpId: string,
    userid: string,
    archived: boolean,
    after: ReceivedCursor | undefined,
    limit: number,
  ): Promise<ReceivedAnnouncement[]> {
    const rows = await em.query<(AnnouncementRow & { read_at: Date | null })[]>(
      `SELECT a.*, r.read_at FROM announcement_recipients r
         JOIN announcements a ON a.corp_id = r.corp_id AND a.id = r.announcement_id
        WHERE r.corp_id = $1 AND r.userid = $2 AND a.status = $3
          AND ($4::boolean IS NULL OR (a.pinned, a.published_at, a.id) < ($4::boolean, $5::timestamptz, $6::uuid))
        ORDER BY a.pinned DESC, a.published_at DESC, a.id DESC
        LIMIT $7`,
      [
        corpId,
        userid,
        archived ? 'archived' : 'published',
        after ? after.pinned : null,
        after ? after.publishedAt : null,
        after ? after.id : null,
        limit,
      ],
    );
    return rows.map((r) => ({ announcement: toAnnouncement(r), readAt: r.read_at }));
  }

  /** Announcements of one publisher (or of the whole corp), newest first, with read counts. */
  async managed(
    em: EntityManager,
    corpId: string,
    publisher: string | null,
    status: AnnouncementStatus | undefined,
    after: ManagedCursor | undefined,
    limit: number,
  ): Promise<{ announcement: StoredAnnouncement; readCount: number }[]> {
    const rows = await em.query<(AnnouncementRow & { read_count: number })[]>(
      `SELECT a.*, (SELECT count(*)::int FROM announcement_recipients r
                     WHERE r.corp_id = a.corp_id AND r.announcement_id = a.id AND r.read_at IS NOT NULL) AS read_count
         FROM announcements a
        WHERE a.corp_id = $1 AND ($2::text IS NULL OR a.publisher = $2)
          AND ($3::text IS NULL OR a.status = $3)
          AND ($4::timestamptz IS NULL OR (a.created_at, a.id) < ($4::timestamptz, $5::uuid))
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT $6`,
      [
        corpId,
        publisher,
        status ?? null,
        after ? after.createdAt : null,
        after ? after.id : null,
        limit,
      ],
    );
    return rows.map((r) => ({ announcement: toAnnouncement(r), readCount: r.read_count }));
  }

  async stats(em: EntityManager, corpId: string, id: string): Promise<AnnouncementStats> {
    const [row] = await em.query<
      {
        recipients: number;
        read: number;
        average: number | null;
        median: number | null;
        p90: number | null;
        max: number | null;
      }[]
    >(
      `WITH timed AS (
         SELECT r.read_at, extract(epoch FROM r.read_at - a.published_at)::float8 AS seconds
           FROM announcement_recipients r
           JOIN announcements a ON a.corp_id = r.corp_id AND a.id = r.announcement_id
          WHERE r.corp_id = $1 AND r.announcement_id = $2
       )
       SELECT count(*)::int AS recipients, count(read_at)::int AS read,
              avg(seconds) AS average,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90,
              max(seconds) AS max
         FROM timed`,
      [corpId, id],
    );
    const round = (n: number | null) => (n === null ? 0 : Math.round(n * 10) / 10);
    return {
      recipients: row.recipients,
      read: row.read,
      secondsToRead:
        row.read > 0
          ? {
              average: round(row.average),
              median: round(row.median),
              p90: round(row.p90),
              max: round(row.max),
            }
          : null,
    };
  }

  /** Recipients by userid, read, unread or both, after a userid. */
  async recipients(
    em: EntityManager,
    corpId: string,
    id: string,
    state: 'read' | 'unread' | 'all',
    afterUserid: string | undefined,
    limit: number,
  ): Promise<RecipientState[]> {
    const rows = await em.query<
      {
        userid: string;
        name: string | null;
        status: string | null;
        read_at: Date | null;
        seconds: number | null;
      }[]
    >(
      `SELECT r.userid, m.name, m.status, r.read_at,
              extract(epoch FROM r.read_at - a.published_at)::float8 AS seconds
         FROM announcement_recipients r
         JOIN announcements a ON a.corp_id = r.corp_id AND a.id = r.announcement_id
         LEFT JOIN directory_members m ON m.corp_id = r.corp_id AND m.userid = r.userid
        WHERE r.corp_id = $1 AND r.announcement_id = $2
          AND ($3 = 'all' OR ($3 = 'read') = (r.read_at IS NOT NULL))
          AND ($4::text IS NULL OR r.userid > $4)
        ORDER BY r.userid
        LIMIT $5`,
      [corpId, id, state, afterUserid ?? null, limit],
    );
    return rows.map((r) => ({
      userid: r.userid,
      name: r.name ?? '',
      status: r.status ?? 'deleted',
      readAt: r.read_at,
      secondsToRead: r.seconds === null ? null : Math.round(r.seconds * 10) / 10,
    }));
  }

  /** Recipients who have not read it and are still active members. */
  async unreadActive(em: EntityManager, corpId: string, id: string): Promise<string[]> {
    const rows = await em.query<{ userid: string }[]>(
      `SELECT r.userid FROM announcement_recipients r
         JOIN directory_members m ON m.corp_id = r.corp_id AND m.userid = r.userid
        WHERE r.corp_id = $1 AND r.announcement_id = $2 AND r.read_at IS NULL AND m.status = 'active'
        ORDER BY r.userid`,
      [corpId, id],
    );
    return rows.map((r) => r.userid);
  }

  /** How many reminders managers sent, and when the last reminder of any kind went out. */
  async reminderHistory(
    em: EntityManager,
    corpId: string,
    id: string,
  ): Promise<{ count: number; last: Date | null }> {
    const [row] = await em.query<{ count: number; last: Date | null }[]>(
      `SELECT count(*) FILTER (WHERE NOT automatic)::int AS count, max(reminded_at) AS last
         FROM announcement_reminders
        WHERE corp_id = $1 AND announcement_id = $2`,
      [corpId, id],
    );
    return row;
  }

  async insertReminder(
    em: EntityManager,
    corpId: string,
    reminderId: string,
    id: string,
    by: string,
    userids: string[],
    at: Date,
    automatic = false,
  ): Promise<void> {
    await em.query(
      `INSERT INTO announcement_reminders (corp_id, id, announcement_id, reminded_by, userids, reminded_at, automatic)
       VALUES ($1, $2, $3, $4, $5::text[], $6, $7)`,
      [corpId, reminderId, id, by, userids, at, automatic],
    );
  }

  /** The reminders of an announcement, newest first. */
  async reminders(em: EntityManager, corpId: string, id: string): Promise<AnnouncementReminder[]> {
    const rows = await em.query<
      { id: string; reminded_by: string; automatic: boolean; reminded: number; reminded_at: Date }[]
    >(
      `SELECT id, reminded_by, automatic, cardinality(userids) AS reminded, reminded_at
         FROM announcement_reminders
        WHERE corp_id = $1 AND announcement_id = $2
        ORDER BY reminded_at DESC, id`,
      [corpId, id],
    );
    return rows.map((r) => ({
      id: r.id,
      remindedBy: r.reminded_by,
      automatic: r.automatic,
      reminded: r.reminded,
      remindedAt: r.reminded_at,
    }));
  }

  /** Records an automatic reminder sent: how many so far and when the next is due (or null). */
  async setAutoReminders(
    em: EntityManager,
    corpId: string,
    id: string,
    count: number,
    next: Date | null,
  ): Promise<void> {
    await em.query(
      `UPDATE announcements SET auto_reminders = $3, next_auto_remind_at = $4
        WHERE corp_id = $1 AND id = $2`,
      [corpId, id, count, next],
    );
  }

  /** A manager just reminded: the next automatic reminder waits until `notBefore` at least. */
  async deferAutoReminder(
    em: EntityManager,
    corpId: string,
    id: string,
    notBefore: Date,
  ): Promise<void> {
    await em.query(
      `UPDATE announcements SET next_auto_remind_at = greatest(next_auto_remind_at, $3)
        WHERE corp_id = $1 AND id = $2 AND next_auto_remind_at IS NOT NULL`,
      [corpId, id, notBefore],
    );
  }

  /** Userids of every recipient (real-time delivery of later changes). */
  async recipientUserids(em: EntityManager, corpId: string, id: string): Promise<string[]> {
    const rows = await em.query<{ userid: string }[]>(
      'SELECT userid FROM announcement_recipients WHERE corp_id = $1 AND announcement_id = $2',
      [corpId, id],
    );
    return rows.map((r) => r.userid);
  }

  /**
   * Claims one scheduled announcement whose time has come (and whose retry time, after a failed
   * attempt, has too), locking it until the caller's transaction ends. SKIP LOCKED: every
   * instance runs the scheduler, and each announcement is claimed by exactly one of them.
   */
  async claimDue(em: EntityManager): Promise<StoredAnnouncement | null> {
    const [row] = await em.query<AnnouncementRow[]>(
      `SELECT * FROM announcements
        WHERE status = 'scheduled' AND publish_at <= now() AND (retry_at IS NULL OR retry_at <= now())
        ORDER BY publish_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED`,
    );
    return row ? toAnnouncement(row) : null;
  }

  /** Claims one published announcement whose expiry has passed, as `claimDue` does. */
  async claimExpired(em: EntityManager): Promise<StoredAnnouncement | null> {
    const [row] = await em.query<AnnouncementRow[]>(
      `SELECT * FROM announcements
        WHERE status = 'published' AND expires_at IS NOT NULL AND expires_at <= now()
        ORDER BY expires_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED`,
    );
    return row ? toAnnouncement(row) : null;
  }

  /**
   * Claims one published announcement whose next automatic reminder is due, as `claimDue`
   * does (a manager's reminder of it waits on the same row lock).
   */
  async claimAutoReminder(em: EntityManager): Promise<StoredAnnouncement | null> {
    const [row] = await em.query<AnnouncementRow[]>(
      `SELECT * FROM announcements
        WHERE status = 'published' AND next_auto_remind_at IS NOT NULL AND next_auto_remind_at <= now()
        ORDER BY next_auto_remind_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED`,
    );
    return row ? toAnnouncement(row) : null;
  }

  /** A failed publishing attempt: tried again after a backoff (5 s, doubling, at most 5 minutes). */
  async recordFailure(em: EntityManager, corpId: string, id: string, error: string): Promise<void> {
    await em.query(
      `UPDATE announcements SET publish_attempts = publish_attempts + 1, last_error = $3,
         retry_at = now() + least(300, 5 * power(2, publish_attempts))::int * interval '1 second'
        WHERE corp_id = $1 AND id = $2 AND status = 'scheduled'`,
      [corpId, id, error.slice(0, 1000)],
    );
  }
}
