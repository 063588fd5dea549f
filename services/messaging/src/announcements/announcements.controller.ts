import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, type Principal } from '@qiwei/auth';
import { Idempotent } from '@qiwei/persistence';
import { decodeCursor, encodeCursor, ValidationFailedException } from '@qiwei/platform';
import { UuidPipe } from '../http/uuid.pipe';
import type {
  AnnouncementTargets,
  ManagedCursor,
  ReceivedCursor,
} from './announcements.repository';
import { AnnouncementsService, type AnnouncementChanges } from './announcements.service';
import {
  AnnouncementResponse,
  type AnnouncementTargetsDto,
  AttachmentDownloadResponse,
  AttachmentResponse,
  CreateAnnouncementDto,
  ManagedPageResponse,
  ManagedQuery,
  ReceivedPageResponse,
  ReceivedQuery,
  RecipientPageResponse,
  RecipientsQuery,
  ReminderListResponse,
  ReminderResponse,
  StatsResponse,
  UpdateAnnouncementDto,
} from './dto/announcement.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isInstant = (v: unknown): v is string =>
  typeof v === 'string' && !Number.isNaN(Date.parse(v));
const isId = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

const isReceivedCursor = (v: unknown): v is ReceivedCursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as ReceivedCursor).pinned === 'boolean' &&
  isInstant((v as ReceivedCursor).publishedAt) &&
  isId((v as ReceivedCursor).id);

const isManagedCursor = (v: unknown): v is ManagedCursor =>
  typeof v === 'object' &&
  v !== null &&
  isInstant((v as ManagedCursor).createdAt) &&
  isId((v as ManagedCursor).id);

const isUseridCursor = (v: unknown): v is { userid: string } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { userid: unknown }).userid === 'string' &&
  (v as { userid: string }).userid.length <= 64;

/** The targets as given, with "at least one" and "all means nothing else" checked. */
function targetsOf(dto: AnnouncementTargetsDto): AnnouncementTargets {
  const targets = {
    all: dto.all ?? false,
    departmentIds: [...new Set(dto.departmentIds ?? [])],
    tagIds: [...new Set(dto.tagIds ?? [])],
    userids: [...new Set(dto.userids ?? [])],
  };
  const named = targets.departmentIds.length + targets.tagIds.length + targets.userids.length;
  if (targets.all && named)
    throw new ValidationFailedException([
      {
        field: 'targets.all',
        code: 'TARGETS_CONFLICT',
        message: 'With all, name no departments, tags or members.',
      },
    ]);
  if (!targets.all && !named)
    throw new ValidationFailedException([
      {
        field: 'targets',
        code: 'NO_TARGETS',
        message: 'Name departments, tags or members, or address everyone (all).',
      },
    ]);
  return targets;
}

@ApiTags('announcements')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/announcements')
export class AnnouncementsController {
  constructor(private readonly announcements: AnnouncementsService) {}

  @Post()
  @Idempotent()
  @ApiOperation({
    summary:
      'Publish an announcement now, or schedule it (publishAt): super admins to anyone, department admins with announcements:publish within their scope',
  })
  @ApiCreatedResponse({ type: AnnouncementResponse })
  async create(
    @CurrentPrincipal() caller: Principal,
    @Body() body: CreateAnnouncementDto,
  ): Promise<AnnouncementResponse> {
    const created = await this.announcements.create(caller, {
      title: body.title,
      body: body.body,
      attachments: body.attachments ?? [],
      priority: body.priority ?? 'normal',
      pinned: body.pinned ?? false,
      noForward: body.noForward ?? false,
      targets: targetsOf(body.targets),
      publishAt: body.publishAt ? new Date(body.publishAt) : undefined,
      expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
    });
    return AnnouncementResponse.of(created.announcement, { manage: { readCount: 0 } });
  }

  @Get()
  @ApiOperation({
    summary:
      'The caller’s announcements (addressed to them): pinned first, then newest; archived=true for the expired ones',
  })
  @ApiOkResponse({ type: ReceivedPageResponse })
  async received(
    @CurrentPrincipal() caller: Principal,
    @Query() query: ReceivedQuery,
  ): Promise<ReceivedPageResponse> {
    const limit = query.limit ?? 50;
    const items = await this.announcements.received(
      caller,
      query.archived ?? false,
      decodeCursor(query.cursor, isReceivedCursor),
      limit + 1,
    );
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return ReceivedPageResponse.of(
      page,
      items.length > limit && last
        ? encodeCursor({
            pinned: last.announcement.pinned,
            publishedAt: (last.announcement.publishedAt as Date).toISOString(),
            id: last.announcement.id,
          })
        : null,
    );
  }

  @Get('managed')
  @ApiOperation({
    summary:
      'Announcements the caller manages, newest first: a department admin’s own, every one of the corp for a super admin',
  })
  @ApiOkResponse({ type: ManagedPageResponse })
  async managed(
    @CurrentPrincipal() caller: Principal,
    @Query() query: ManagedQuery,
  ): Promise<ManagedPageResponse> {
    const limit = query.limit ?? 50;
    const items = await this.announcements.list(
      caller,
      query.status,
      decodeCursor(query.cursor, isManagedCursor),
      limit + 1,
    );
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return ManagedPageResponse.of(
      page,
      items.length > limit && last
        ? encodeCursor({
            createdAt: last.announcement.createdAt.toISOString(),
            id: last.announcement.id,
          })
        : null,
    );
  }

  @Get(':id')
  @ApiOperation({
    summary:
      'One announcement: to its recipients (published or archived) with their read time, to its managers with targets and counts',
  })
  @ApiOkResponse({ type: AnnouncementResponse })
  async get(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<AnnouncementResponse> {
    const view = await this.announcements.view(caller, id);
    return AnnouncementResponse.of(view.announcement, view);
  }

  @Patch(':id')
  @ApiOperation({
    summary:
      'Change a scheduled announcement (anything), or pin/unpin and change the expiry of a published one',
  })
  @ApiOkResponse({ type: AnnouncementResponse })
  async update(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: UpdateAnnouncementDto,
  ): Promise<AnnouncementResponse> {
    const changes: AnnouncementChanges = {
      title: body.title,
      body: body.body,
      attachments: body.attachments,
      priority: body.priority,
      pinned: body.pinned,
      noForward: body.noForward,
      targets: body.targets ? targetsOf(body.targets) : undefined,
      publishAt: body.publishAt ? new Date(body.publishAt) : undefined,
      expiresAt:
        body.expiresAt === null ? null : body.expiresAt ? new Date(body.expiresAt) : undefined,
    };
    if (Object.values(changes).every((v) => v === undefined))
      throw new ValidationFailedException([
        { field: 'body', code: 'NOTHING_TO_CHANGE', message: 'Give at least one field to change.' },
      ]);
    const updated = await this.announcements.update(caller, id, changes);
    const view = await this.announcements.view(caller, updated.id);
    return AnnouncementResponse.of(view.announcement, view);
  }

  @Post(':id/withdraw')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Withdraw: a scheduled one is cancelled; a published or archived one disappears for its recipients (statistics stay)',
  })
  @ApiOkResponse({ type: AnnouncementResponse })
  async withdraw(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<AnnouncementResponse> {
    const withdrawn = await this.announcements.withdraw(caller, id);
    const view = await this.announcements.view(caller, withdrawn.id);
    return AnnouncementResponse.of(view.announcement, view);
  }

  @Post(':id/read')
  @HttpCode(204)
  @ApiOperation({ summary: 'Mark an announcement read (its first read time counts)' })
  @ApiNoContentResponse()
  async read(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<void> {
    await this.announcements.markRead(caller, id);
  }

  @Get(':id/stats')
  @ApiOperation({ summary: 'Read statistics: read and unread counts, time to read' })
  @ApiOkResponse({ type: StatsResponse })
  async stats(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<StatsResponse> {
    const { announcement, stats } = await this.announcements.stats(caller, id);
    return StatsResponse.of(announcement, stats);
  }

  @Get(':id/recipients')
  @ApiOperation({
    summary: 'Recipients by userid, with read time: state=unread for the unread list (cursor)',
  })
  @ApiOkResponse({ type: RecipientPageResponse })
  async recipients(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Query() query: RecipientsQuery,
  ): Promise<RecipientPageResponse> {
    const limit = query.limit ?? 100;
    const items = await this.announcements.recipients(
      caller,
      id,
      query.state ?? 'all',
      decodeCursor(query.cursor, isUseridCursor)?.userid,
      limit + 1,
    );
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return RecipientPageResponse.of(
      page,
      items.length > limit && last ? encodeCursor({ userid: last.userid }) : null,
    );
  }

  @Post(':id/remind')
  @Idempotent()
  @ApiOperation({
    summary:
      'Remind the unread (an event for SMS/e-mail channels and a WebSocket frame); rate-limited per announcement',
  })
  @ApiCreatedResponse({ type: ReminderResponse })
  async remind(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<ReminderResponse> {
    return ReminderResponse.of(await this.announcements.remind(caller, id));
  }

  @Get(':id/reminders')
  @ApiOperation({
    summary:
      'The reminders of the unread, newest first: by managers, and automatic ones of an important announcement (managers only)',
  })
  @ApiOkResponse({ type: ReminderListResponse })
  async reminders(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<ReminderListResponse> {
    const found = await this.announcements.reminders(caller, id);
    return ReminderListResponse.of(found.announcement, found.reminders, found.remindersLeft);
  }

  @Get(':id/attachments/:mediaId')
  @ApiOperation({ summary: 'A presigned download URL of one attachment' })
  @ApiOkResponse({ type: AttachmentDownloadResponse })
  async attachment(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Param('mediaId', UuidPipe) mediaId: string,
  ): Promise<AttachmentDownloadResponse> {
    const found = await this.announcements.attachmentUrl(caller, id, mediaId);
    return {
      ...AttachmentResponse.of(found.attachment),
      url: found.url,
      expiresInSeconds: found.expiresInSeconds,
    };
  }
}
