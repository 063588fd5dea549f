import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { PageCursor, PageLimit, PageQuery } from '@qiwei/platform';
import { renderBody } from '../announcement-body';
import type {
  AnnouncementAttachment,
  AnnouncementReminder,
  AnnouncementStats,
  AnnouncementStatus,
  ReceivedAnnouncement,
  RecipientState,
  StoredAnnouncement,
} from '../announcements.repository';
import type { AnnouncementView, ReminderResult } from '../announcements.service';

const INT32_MAX = 2_147_483_647;
const USERID = /^[A-Za-z0-9_@.-]{1,64}$/;
// An instant, with its offset: a schedule never depends on the server's time zone.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const INSTANT_MESSAGE =
  'must be an ISO 8601 instant with its offset, e.g. 2026-03-01T09:00:00+08:00';
export const MAX_ATTACHMENTS = 20;
const STATUSES: AnnouncementStatus[] = ['scheduled', 'published', 'withdrawn', 'archived'];

export class AnnouncementTargetsDto {
  @ApiPropertyOptional({ description: 'Everyone in the corp (super admins only)' })
  @IsOptional()
  @IsBoolean()
  all?: boolean;

  @ApiPropertyOptional({
    type: [Number],
    description: 'Departments, each with its whole subtree (at most 100)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  departmentIds?: number[];

  @ApiPropertyOptional({
    type: [Number],
    description: 'Tags: their members and departments (at most 100)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  tagIds?: number[];

  @ApiPropertyOptional({ type: [String], description: 'Members by userid (at most 1,000)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(USERID, { each: true, message: 'each userid must be 1–64 of A-Z a-z 0-9 _ @ . -' })
  userids?: string[];
}

export class CreateAnnouncementDto {
  @ApiProperty({ maxLength: 128 })
  @IsString()
  @Length(1, 128)
  @Matches(/\S/, { message: 'title must not be blank' })
  title!: string;

  @ApiProperty({
    description:
      'Markdown (CommonMark) without raw HTML; links and images absolute http, https or mailto URLs. At most ANNOUNCEMENT_BODY_MAX_BYTES of UTF-8',
  })
  @IsString()
  @MaxLength(1_048_576)
  @Matches(/\S/, { message: 'body must not be blank' })
  body!: string;

  @ApiPropertyOptional({
    type: [String],
    description: `Media ids of ready uploads of yours (POST /v1/media/uploads), at most ${MAX_ATTACHMENTS}`,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_ATTACHMENTS)
  @IsUUID('all', { each: true, message: 'each attachment must be a media id' })
  attachments?: string[];

  @ApiPropertyOptional({
    enum: ['normal', 'important'],
    default: 'normal',
    description: 'Important ones are flagged for a strong reminder (强提醒)',
  })
  @IsOptional()
  @IsIn(['normal', 'important'])
  priority?: 'normal' | 'important';

  @ApiPropertyOptional({ description: 'Listed first by its recipients' })
  @IsOptional()
  @IsBoolean()
  pinned?: boolean;

  @ApiPropertyOptional({ description: '禁止转发: clients offer no forwarding or sharing' })
  @IsOptional()
  @IsBoolean()
  noForward?: boolean;

  @ApiProperty({ type: AnnouncementTargetsDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => AnnouncementTargetsDto)
  targets!: AnnouncementTargetsDto;

  @ApiPropertyOptional({
    description: 'Publish then (in the future, ≤ 366 days ahead); leave out to publish now',
    example: '2026-03-01T09:00:00+08:00',
  })
  @IsOptional()
  @IsString()
  @Matches(INSTANT, { message: `publishAt ${INSTANT_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `publishAt ${INSTANT_MESSAGE}` })
  publishAt?: string;

  @ApiPropertyOptional({
    description: 'Archived then (after publishing); leave out for never',
    example: '2026-04-01T00:00:00+08:00',
  })
  @IsOptional()
  @IsString()
  @Matches(INSTANT, { message: `expiresAt ${INSTANT_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `expiresAt ${INSTANT_MESSAGE}` })
  expiresAt?: string;
}

/** A scheduled announcement changes in everything; a published one only pinned and expiresAt. */
export class UpdateAnnouncementDto {
  @ApiPropertyOptional({ maxLength: 128 })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  @Matches(/\S/, { message: 'title must not be blank' })
  title?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1_048_576)
  @Matches(/\S/, { message: 'body must not be blank' })
  body?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_ATTACHMENTS)
  @IsUUID('all', { each: true, message: 'each attachment must be a media id' })
  attachments?: string[];

  @ApiPropertyOptional({ enum: ['normal', 'important'] })
  @IsOptional()
  @IsIn(['normal', 'important'])
  priority?: 'normal' | 'important';

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  pinned?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  noForward?: boolean;

  @ApiPropertyOptional({ type: AnnouncementTargetsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AnnouncementTargetsDto)
  targets?: AnnouncementTargetsDto;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(INSTANT, { message: `publishAt ${INSTANT_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `publishAt ${INSTANT_MESSAGE}` })
  publishAt?: string;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'null: never expires' })
  @IsOptional()
  @IsString()
  @Matches(INSTANT, { message: `expiresAt ${INSTANT_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `expiresAt ${INSTANT_MESSAGE}` })
  expiresAt?: string | null;
}

const booleanQuery = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ReceivedQuery {
  @ApiPropertyOptional({ description: 'true: the archived (expired) ones', default: false })
  @IsOptional()
  @Transform(booleanQuery)
  @IsBoolean()
  archived?: boolean;

  @PageLimit(200, 50) limit?: number;
  @PageCursor() cursor?: string;
}

export class ManagedQuery {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: AnnouncementStatus;

  @PageLimit(200, 50) limit?: number;
  @PageCursor() cursor?: string;
}

export class RecipientsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['read', 'unread', 'all'], default: 'all' })
  @IsOptional()
  @IsIn(['read', 'unread', 'all'])
  state?: 'read' | 'unread' | 'all';
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export class AttachmentResponse {
  @ApiProperty() mediaId!: string;
  @ApiProperty({ enum: ['image', 'voice', 'video', 'file'] }) kind!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() contentType!: string;
  @ApiProperty() size!: number;
  @ApiProperty() sha256!: string;

  static of(f: AnnouncementAttachment): AttachmentResponse {
    return {
      mediaId: f.mediaId,
      kind: f.kind,
      filename: f.filename,
      contentType: f.contentType,
      size: f.size,
      sha256: f.sha256,
    };
  }
}

export class TargetsResponse {
  @ApiProperty() all!: boolean;
  @ApiProperty({ type: [Number] }) departmentIds!: number[];
  @ApiProperty({ type: [Number] }) tagIds!: number[];
  @ApiProperty({ type: [String] }) userids!: string[];
}

export class AnnouncementResponse {
  @ApiProperty() id!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ description: 'The Markdown source' }) body!: string;
  @ApiProperty({ description: 'The body rendered to HTML (raw HTML disabled: safe to show)' })
  html!: string;
  @ApiProperty({ enum: ['markdown'] }) format!: string;
  @ApiProperty({ type: [AttachmentResponse] }) attachments!: AttachmentResponse[];
  @ApiProperty({ enum: ['normal', 'important'] }) priority!: string;
  @ApiProperty() pinned!: boolean;
  @ApiProperty() noForward!: boolean;
  @ApiProperty() publisher!: string;
  @ApiProperty({ enum: STATUSES }) status!: AnnouncementStatus;
  @ApiProperty({ description: 'When it is (or was) to be published' }) publishAt!: string;
  @ApiProperty({ nullable: true, type: String }) publishedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) expiresAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) archivedAt!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Recipients: when they read it (null: not yet)',
  })
  readAt?: string | null;
  @ApiPropertyOptional({ type: TargetsResponse, description: 'Managers only' })
  targets?: TargetsResponse;
  @ApiPropertyOptional({ description: 'Managers only' }) recipientCount?: number;
  @ApiPropertyOptional({ description: 'Managers only' }) readCount?: number;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Managers only' })
  withdrawnAt?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Managers only' })
  withdrawnBy?: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Managers only: why the last scheduled publishing attempt failed',
  })
  lastError?: string | null;
  @ApiPropertyOptional({
    description: 'Managers only: automatic reminders of the unread sent (important ones)',
  })
  autoReminders?: number;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description:
      'Managers only: when the unread of an important announcement are next re-notified by themselves (null: no more)',
  })
  nextAutoRemindAt?: string | null;

  static of(a: StoredAnnouncement, view: Partial<AnnouncementView> = {}): AnnouncementResponse {
    return {
      id: a.id,
      title: a.title,
      body: a.body,
      html: renderBody(a.body),
      format: a.format,
      attachments: a.attachments.map((f) => AttachmentResponse.of(f)),
      priority: a.priority,
      pinned: a.pinned,
      noForward: a.noForward,
      publisher: a.publisher,
      status: a.status,
      publishAt: a.publishAt.toISOString(),
      publishedAt: iso(a.publishedAt),
      expiresAt: iso(a.expiresAt),
      archivedAt: iso(a.archivedAt),
      ...(view.readAt !== undefined ? { readAt: iso(view.readAt) } : {}),
      ...(view.manage
        ? {
            targets: a.targets,
            recipientCount: a.recipientCount,
            readCount: view.manage.readCount,
            withdrawnAt: iso(a.withdrawnAt),
            withdrawnBy: a.withdrawnBy,
            lastError: a.lastError,
            autoReminders: a.autoReminders,
            nextAutoRemindAt: iso(a.nextAutoRemindAt),
          }
        : {}),
    };
  }
}

class ReceivedAnnouncementResponse {
  @ApiProperty() id!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ enum: ['normal', 'important'] }) priority!: string;
  @ApiProperty() pinned!: boolean;
  @ApiProperty() noForward!: boolean;
  @ApiProperty() publisher!: string;
  @ApiProperty({ enum: ['published', 'archived'] }) status!: string;
  @ApiProperty() publishedAt!: string;
  @ApiProperty({ nullable: true, type: String }) expiresAt!: string | null;
  @ApiProperty() attachmentCount!: number;
  @ApiProperty({ nullable: true, type: String }) readAt!: string | null;

  static of(r: ReceivedAnnouncement): ReceivedAnnouncementResponse {
    const a = r.announcement;
    return {
      id: a.id,
      title: a.title,
      priority: a.priority,
      pinned: a.pinned,
      noForward: a.noForward,
      publisher: a.publisher,
      status: a.status,
      publishedAt: (a.publishedAt ?? a.publishAt).toISOString(),
      expiresAt: iso(a.expiresAt),
      attachmentCount: a.attachments.length,
      readAt: iso(r.readAt),
    };
  }
}

export class ReceivedPageResponse {
  @ApiProperty({ type: [ReceivedAnnouncementResponse] }) items!: ReceivedAnnouncementResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;

  static of(items: ReceivedAnnouncement[], nextCursor: string | null): ReceivedPageResponse {
    return { items: items.map((r) => ReceivedAnnouncementResponse.of(r)), nextCursor };
  }
}

class ManagedAnnouncementResponse {
  @ApiProperty() id!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ enum: ['normal', 'important'] }) priority!: string;
  @ApiProperty() pinned!: boolean;
  @ApiProperty() noForward!: boolean;
  @ApiProperty() publisher!: string;
  @ApiProperty({ enum: STATUSES }) status!: AnnouncementStatus;
  @ApiProperty({ type: TargetsResponse }) targets!: TargetsResponse;
  @ApiProperty() publishAt!: string;
  @ApiProperty({ nullable: true, type: String }) publishedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) expiresAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) withdrawnAt!: string | null;
  @ApiProperty() recipientCount!: number;
  @ApiProperty() readCount!: number;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty() createdAt!: string;

  static of(a: StoredAnnouncement, readCount: number): ManagedAnnouncementResponse {
    return {
      id: a.id,
      title: a.title,
      priority: a.priority,
      pinned: a.pinned,
      noForward: a.noForward,
      publisher: a.publisher,
      status: a.status,
      targets: a.targets,
      publishAt: a.publishAt.toISOString(),
      publishedAt: iso(a.publishedAt),
      expiresAt: iso(a.expiresAt),
      withdrawnAt: iso(a.withdrawnAt),
      recipientCount: a.recipientCount,
      readCount,
      lastError: a.lastError,
      createdAt: a.createdAt.toISOString(),
    };
  }
}

export class ManagedPageResponse {
  @ApiProperty({ type: [ManagedAnnouncementResponse] }) items!: ManagedAnnouncementResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;

  static of(
    items: { announcement: StoredAnnouncement; readCount: number }[],
    nextCursor: string | null,
  ): ManagedPageResponse {
    return {
      items: items.map((r) => ManagedAnnouncementResponse.of(r.announcement, r.readCount)),
      nextCursor,
    };
  }
}

class SecondsToReadResponse {
  @ApiProperty() average!: number;
  @ApiProperty() median!: number;
  @ApiProperty() p90!: number;
  @ApiProperty() max!: number;
}

export class StatsResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: STATUSES }) status!: AnnouncementStatus;
  @ApiProperty({ nullable: true, type: String }) publishedAt!: string | null;
  @ApiProperty() recipients!: number;
  @ApiProperty() read!: number;
  @ApiProperty() unread!: number;
  @ApiProperty({ description: 'read / recipients (0 without recipients)' }) readRate!: number;
  @ApiProperty({
    type: SecondsToReadResponse,
    nullable: true,
    description: 'Seconds from publishing to reading, over those who read it',
  })
  secondsToRead!: SecondsToReadResponse | null;

  static of(a: StoredAnnouncement, s: AnnouncementStats): StatsResponse {
    return {
      id: a.id,
      status: a.status,
      publishedAt: iso(a.publishedAt),
      recipients: s.recipients,
      read: s.read,
      unread: s.recipients - s.read,
      readRate: s.recipients ? Math.round((s.read / s.recipients) * 10_000) / 10_000 : 0,
      secondsToRead: s.secondsToRead,
    };
  }
}

class RecipientResponse {
  @ApiProperty() userid!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The member’s status now (a recipient may have left since)' })
  status!: string;
  @ApiProperty({ nullable: true, type: String }) readAt!: string | null;
  @ApiProperty({ nullable: true, type: Number }) secondsToRead!: number | null;
}

export class RecipientPageResponse {
  @ApiProperty({ type: [RecipientResponse] }) items!: RecipientResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;

  static of(items: RecipientState[], nextCursor: string | null): RecipientPageResponse {
    return {
      items: items.map((r) => ({
        userid: r.userid,
        name: r.name,
        status: r.status,
        readAt: iso(r.readAt),
        secondsToRead: r.secondsToRead,
      })),
      nextCursor,
    };
  }
}

export class ReminderResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Unread active recipients reminded' }) reminded!: number;
  @ApiProperty() remindedAt!: string;
  @ApiProperty() remindersLeft!: number;

  static of(r: ReminderResult): ReminderResponse {
    return {
      id: r.id,
      reminded: r.reminded,
      remindedAt: r.remindedAt.toISOString(),
      remindersLeft: r.remindersLeft,
    };
  }
}

class ReminderItemResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'The manager who reminded; empty for an automatic reminder' })
  remindedBy!: string;
  @ApiProperty({ description: 'Sent by itself (an important announcement’s re-notification)' })
  automatic!: boolean;
  @ApiProperty({ description: 'Unread active recipients reminded' }) reminded!: number;
  @ApiProperty() remindedAt!: string;
}

export class ReminderListResponse {
  @ApiProperty({ type: [ReminderItemResponse], description: 'Newest first' })
  items!: ReminderItemResponse[];
  @ApiProperty({ description: 'Reminders managers may still send (ANNOUNCEMENT_REMINDERS_MAX)' })
  remindersLeft!: number;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When the unread are next re-notified by themselves (null: no more)',
  })
  nextAutoRemindAt!: string | null;

  static of(
    a: StoredAnnouncement,
    reminders: AnnouncementReminder[],
    remindersLeft: number,
  ): ReminderListResponse {
    return {
      items: reminders.map((r) => ({
        id: r.id,
        remindedBy: r.remindedBy,
        automatic: r.automatic,
        reminded: r.reminded,
        remindedAt: r.remindedAt.toISOString(),
      })),
      remindersLeft,
      nextAutoRemindAt: iso(a.nextAutoRemindAt),
    };
  }
}

export class AttachmentDownloadResponse extends AttachmentResponse {
  @ApiProperty({ description: 'Presigned GET URL' }) url!: string;
  @ApiProperty() expiresInSeconds!: number;
}
