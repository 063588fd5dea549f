import { eventsConfigSchema } from '@qiwei/events';
import { databaseConfigSchema } from '@qiwei/persistence';
import { platformConfigSchema } from '@qiwei/platform';
import { storageConfigSchema } from '@qiwei/storage';
import { DEFAULT_WECOM_MEDIA_LIMITS } from '@qiwei/wecom';
import { z } from 'zod';

export const messagingConfigSchema = platformConfigSchema
  .extend(databaseConfigSchema.shape)
  .extend(eventsConfigSchema.shape)
  .extend(storageConfigSchema.shape)
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4002),
    /** Identity's key set: tokens are verified locally against it. */
    IDENTITY_JWKS_URL: z.url(),
    /** Largest text or markdown message, in UTF-8 bytes. */
    MESSAGE_TEXT_MAX_BYTES: z.coerce.number().int().min(16).max(1_048_576).default(4_096),
    /** Members a group may have (internal and department groups; a group's owner may set less). */
    GROUP_MEMBER_LIMIT: z.coerce.number().int().min(2).max(100_000).default(2_000),
    /** Members and external contacts an external group may have (its owner may set less). */
    EXTERNAL_GROUP_MEMBER_LIMIT: z.coerce.number().int().min(2).max(100_000).default(500),
    /** How long a sender may recall their message. */
    RECALL_WINDOW_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(24 * 60),
    /** The bucket of message media (created at start if missing). */
    MEDIA_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, 'must be an S3 bucket name')
      .default('qiwei-messaging-media'),
    /** Largest upload per kind, in bytes. */
    MEDIA_MAX_IMAGE_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .default(10 * 1024 * 1024),
    MEDIA_MAX_VOICE_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .default(2 * 1024 * 1024),
    MEDIA_MAX_VIDEO_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .default(100 * 1024 * 1024),
    MEDIA_MAX_FILE_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .default(2 * 1024 * 1024 * 1024),
    /** Uploads larger than this go in parts of this size (S3's minimum part is 5 MiB). */
    MEDIA_PART_BYTES: z.coerce
      .number()
      .int()
      .min(5 * 1024 * 1024)
      .max(5 * 1024 * 1024 * 1024)
      .default(64 * 1024 * 1024),
    /** How long presigned upload and download URLs stay valid. */
    MEDIA_URL_EXPIRY_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .default(3_600),
    /** App messages an app may send one member (fixed minute and hour windows). */
    APP_MESSAGE_PER_MEMBER_PER_MINUTE: z.coerce.number().int().min(1).default(30),
    APP_MESSAGE_PER_MEMBER_PER_HOUR: z.coerce.number().int().min(1).default(1_000),
    /**
     * Messages one member may receive from one app in its app chats (appchat/send; fixed minute
     * and UTC-day windows). WeCom's are 200 and 10,000.
     */
    APP_CHAT_PER_MEMBER_PER_MINUTE: z.coerce.number().int().min(1).default(200),
    APP_CHAT_PER_MEMBER_PER_DAY: z.coerce.number().int().min(1).default(10_000),
    /** Messages a group robot may send a minute (fixed windows); WeCom's is 20. */
    ROBOT_MESSAGES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(20),
    /** Largest image a group robot sends (its bytes, before base64); WeCom's is 2 MB. */
    ROBOT_IMAGE_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(20 * 1024 * 1024)
      .default(2 * 1024 * 1024),
    /**
     * WeCom's temporary media (media/upload): the bucket shared with identity (which reads batch
     * CSVs from it), created at start if missing, and the largest upload per type.
     */
    WECOM_MEDIA_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, 'must be an S3 bucket name')
      .default('qiwei-wecom-media'),
    WECOM_MEDIA_MAX_IMAGE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(DEFAULT_WECOM_MEDIA_LIMITS.image),
    WECOM_MEDIA_MAX_VOICE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(DEFAULT_WECOM_MEDIA_LIMITS.voice),
    WECOM_MEDIA_MAX_VIDEO_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(DEFAULT_WECOM_MEDIA_LIMITS.video),
    WECOM_MEDIA_MAX_FILE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(5 * 1024 * 1024 * 1024)
      .default(DEFAULT_WECOM_MEDIA_LIMITS.file),
    /** Largest text or markdown of WeCom's message/send and appchat/send, in UTF-8 bytes. */
    WECOM_TEXT_MAX_BYTES: z.coerce.number().int().min(16).max(1_048_576).default(2_048),
    /** How long an app may recall its app message (WeCom's message/recall: 24 h). */
    APP_MESSAGE_RECALL_WINDOW_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(24 * 60),
    /** Largest announcement body (markdown source), in UTF-8 bytes. */
    ANNOUNCEMENT_BODY_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1_048_576)
      .default(64 * 1024),
    /** How often each instance looks for scheduled announcements due and expiries passed. */
    ANNOUNCEMENT_SCHEDULER_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(50)
      .max(3_600_000)
      .default(5_000),
    /** "Remind the unread" of one announcement: at most this often, and this many times. */
    ANNOUNCEMENT_REMIND_INTERVAL_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
    ANNOUNCEMENT_REMINDERS_MAX: z.coerce.number().int().min(1).max(100).default(5),
    /**
     * Important announcements (强提醒) re-notify their unread recipients by themselves: this long
     * after publishing, then as long after each reminder (automatic or not), this many times
     * (0: never by themselves).
     */
    ANNOUNCEMENT_IMPORTANT_REMIND_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
    ANNOUNCEMENT_IMPORTANT_AUTO_REMINDERS: z.coerce.number().int().min(0).max(100).default(3),
    /** Urgent reminders (强提醒) of one message: how late after sending, how often, how many. */
    URGENT_REMINDER_WINDOW_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(30 * 24 * 60)
      .default(24 * 60),
    URGENT_REMINDER_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
    URGENT_REMINDERS_PER_MESSAGE: z.coerce.number().int().min(1).max(100).default(3),
    /** A socket whose unsent frames pass this is closed (its client resyncs by seq). */
    REALTIME_MAX_BUFFERED_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(4 * 1024 * 1024),
    /**
     * How long a member's or app's standing (the token revocation check of every request) is
     * cached at most. Changes reach every instance at once through LISTEN/NOTIFY; this is only
     * the safety net. 0: no cache (a query per request).
     */
    /**
     * Group commit of members' sends (text and other messages that need no lookup besides their
     * conversation): at most this many sends in one transaction; 1 turns it off.
     */
    SEND_BATCH_MAX: z.coerce.number().int().min(1).max(1_000).default(64),
    /** Send transactions in flight at once; further sends wait and go in the next batch. */
    SEND_BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    STANDING_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  });

export type MessagingConfig = z.infer<typeof messagingConfigSchema>;
export const MESSAGING_CONFIG = Symbol('MESSAGING_CONFIG');
