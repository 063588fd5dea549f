import { type DynamicModule, Global, Module } from '@nestjs/common';
import { JwtTokenVerifier, RevocationAwareVerifier, TOKEN_VERIFIER } from '@qiwei/auth';
import { MESSAGING_TOPICS } from '@qiwei/contracts';
import {
  CreateEventTables1763800000000,
  EventsModule,
  OutboxNotifyAfterCommit1765100000000,
} from '@qiwei/events';
import { CreateIdempotencyKeys1763900000000, PersistenceModule } from '@qiwei/persistence';
import { MESSAGING_CONFIG, type MessagingConfig } from './config';
import { ConversationsController } from './conversations/conversations.controller';
import { ConversationsRepository } from './conversations/conversations.repository';
import { ConversationsService } from './conversations/conversations.service';
import { Directory } from './directory/directory';
import { DirectoryProjection } from './directory/directory-projection';
import { MessagesController } from './messages/messages.controller';
import { MessagesRepository } from './messages/messages.repository';
import { MessagesService } from './messages/messages.service';
import { RealtimeGateway } from './realtime/realtime.gateway';
import { MessagingSchema1765000000000 } from './migrations/1765000000000-initial-schema';
import { MessagingMedia1765200000000 } from './migrations/1765200000000-media';
import { AppMessages1765300000000 } from './migrations/1765300000000-app-messages';
import { AppMessagesController } from './app-messages/app-messages.controller';
import { AppMessagesService } from './app-messages/app-messages.service';
import { OrganisationProjection } from './directory/organisation-projection';
import { MediaController } from './media/media.controller';
import { MediaService } from './media/media.service';
import { ObjectStorage } from '@qiwei/storage';
import { GroupRobots1765400000000 } from './migrations/1765400000000-group-robots';
import { RobotsController } from './robots/robots.controller';
import { RobotsRepository } from './robots/robots.repository';
import { RobotsService } from './robots/robots.service';
import { WebhookController } from './robots/webhook.controller';
import { WecomEnvelope } from './wecom/wecom-envelope';
import { DepartmentGroupsRepository } from './conversations/department-groups.repository';
import { DepartmentGroupsService } from './conversations/department-groups.service';
import { GroupWelcome } from './conversations/group-welcome';
import { GroupKinds1765600000000 } from './migrations/1765600000000-group-kinds';
import { MessageSearchController } from './search/message-search.controller';
import { MessageSearchService } from './search/message-search.service';
import { SearchIndexer } from './search/search-indexer';
import { WecomMessaging1765700000000 } from './migrations/1765700000000-wecom-messaging';
import { AnnouncementAutoReminders1765800000000 } from './migrations/1765800000000-announcement-auto-reminders';
import { DepartmentGroupWaitlist1765810000000 } from './migrations/1765810000000-department-group-waitlist';
import { AppChatSendCounters1765820000000 } from './migrations/1765820000000-app-chat-send-counters';
import { TemplateCards1765830000000 } from './migrations/1765830000000-template-cards';
import { DirectoryChangeNotify1766400000000 } from './migrations/1766400000000-directory-change-notify';
import { WecomMediaStore } from '@qiwei/wecom';
import { WecomAccessTokenGuard } from './wecom/wecom-access-token.guard';
import { WecomMediaController } from './wecom/wecom-media.controller';
import { WecomMessagesController } from './wecom/wecom-messages.controller';
import { WecomMessageContent } from './wecom/wecom-message-content';
import { AppChatsController } from './app-chats/app-chats.controller';
import { AppChatsService } from './app-chats/app-chats.service';
import { Announcements1765500000000 } from './migrations/1765500000000-announcements';
import { UrgentReminders1765510000000 } from './migrations/1765510000000-urgent-reminders';
import { AdminScopeProjection } from './directory/admin-scope-projection';
import { AnnouncementsController } from './announcements/announcements.controller';
import { AnnouncementsRepository } from './announcements/announcements.repository';
import { AnnouncementsService } from './announcements/announcements.service';
import { AnnouncementScheduler } from './announcements/announcement-scheduler';
import { UrgentRemindersController } from './urgent/urgent-reminders.controller';
import { UrgentRemindersService } from './urgent/urgent-reminders.service';

export const MESSAGING_MIGRATIONS = [
  CreateEventTables1763800000000,
  CreateIdempotencyKeys1763900000000,
  MessagingSchema1765000000000,
  MessagingMedia1765200000000,
  AppMessages1765300000000,
  OutboxNotifyAfterCommit1765100000000,
  GroupRobots1765400000000,
  Announcements1765500000000,
  UrgentReminders1765510000000,
  GroupKinds1765600000000,
  WecomMessaging1765700000000,
  AnnouncementAutoReminders1765800000000,
  DepartmentGroupWaitlist1765810000000,
  AppChatSendCounters1765820000000,
  TemplateCards1765830000000,
  DirectoryChangeNotify1766400000000,
];

@Global()
@Module({})
class MessagingConfigModule {
  static register(config: MessagingConfig): DynamicModule {
    return {
      module: MessagingConfigModule,
      providers: [{ provide: MESSAGING_CONFIG, useValue: config }],
      exports: [MESSAGING_CONFIG],
    };
  }
}

/**
 * The messaging service: conversations (1:1, groups, external and department groups), messages,
 * read positions, recall, urgent reminders, members' search, media, app messages,
 * announcements, group robots, and the WeCom-compatible API (media, message, appchat under
 * /cgi-bin).
 */
@Module({})
export class MessagingModule {
  static register(config: MessagingConfig): DynamicModule {
    return {
      module: MessagingModule,
      imports: [
        MessagingConfigModule.register(config),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'qiwei-messaging',
          entities: [],
          migrations: MESSAGING_MIGRATIONS,
          poolSize: config.DATABASE_POOL_SIZE,
        }),
        EventsModule.forRoot({
          service: 'messaging',
          config,
          databaseUrl: config.DATABASE_URL,
          publishes: MESSAGING_TOPICS,
        }),
      ],
      controllers: [
        ConversationsController,
        MessagesController,
        MediaController,
        AppMessagesController,
        RobotsController,
        WebhookController,
        MessageSearchController,
        WecomMediaController,
        WecomMessagesController,
        AppChatsController,
        AnnouncementsController,
        UrgentRemindersController,
      ],
      providers: [
        Directory,
        DirectoryProjection,
        ConversationsRepository,
        ConversationsService,
        MessagesRepository,
        MessagesService,
        RealtimeGateway,
        MediaService,
        AppMessagesService,
        OrganisationProjection,
        RobotsRepository,
        RobotsService,
        WecomEnvelope,
        DepartmentGroupsRepository,
        DepartmentGroupsService,
        GroupWelcome,
        MessageSearchService,
        SearchIndexer,
        WecomAccessTokenGuard,
        WecomMessageContent,
        AppChatsService,
        AdminScopeProjection,
        AnnouncementsRepository,
        AnnouncementsService,
        AnnouncementScheduler,
        UrgentRemindersService,
        { provide: ObjectStorage, useValue: new ObjectStorage(config) },
        {
          // WeCom's temporary media, in the bucket identity reads batch CSVs from.
          provide: WecomMediaStore,
          inject: [ObjectStorage],
          useFactory: async (storage: ObjectStorage) => {
            const store = new WecomMediaStore(storage, {
              bucket: config.WECOM_MEDIA_BUCKET,
              limits: {
                image: config.WECOM_MEDIA_MAX_IMAGE_BYTES,
                voice: config.WECOM_MEDIA_MAX_VOICE_BYTES,
                video: config.WECOM_MEDIA_MAX_VIDEO_BYTES,
                file: config.WECOM_MEDIA_MAX_FILE_BYTES,
              },
            });
            await store.ensureBucket();
            return store;
          },
        },
        {
          // Signatures against identity's JWKS; revocation from identity's member events.
          provide: TOKEN_VERIFIER,
          inject: [Directory],
          useFactory: (directory: Directory) =>
            new RevocationAwareVerifier(
              JwtTokenVerifier.fromJwksUrl(config.IDENTITY_JWKS_URL),
              (corpId, userid) => directory.standing(corpId, userid),
              (corpId, agentId) => directory.appStanding(corpId, agentId),
            ),
        },
      ],
    };
  }
}
