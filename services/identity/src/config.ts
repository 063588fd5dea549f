import { eventsConfigSchema } from '@qiwei/events';
import { databaseConfigSchema } from '@qiwei/persistence';
import { platformConfigSchema } from '@qiwei/platform';
import { storageConfigSchema } from '@qiwei/storage';
import { z } from 'zod';
import { keyEncryptionKeysSchema } from './crypto/key-encryption-keys';

export const identityConfigSchema = platformConfigSchema
  .extend(databaseConfigSchema.shape)
  .extend(eventsConfigSchema.shape)
  .extend(storageConfigSchema.shape)
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4001),
    /** The platform operator's token: creates corps. Keep it secret. */
    QIWEI_PLATFORM_TOKEN: z.string().min(24, 'must be at least 24 characters'),
    /** Seals signing keys and TOTP secrets at rest: `<id>:<base64 32 bytes>[,<older id>:<key>…]`. */
    IDENTITY_KEY_ENCRYPTION_KEY: keyEncryptionKeysSchema,
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(7_200),
    /** Lifetime of an app's access token (WeCom's `expires_in` is 7200). */
    APP_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(7_200),
    DEPARTMENT_MAX_DEPTH: z.coerce.number().int().min(2).max(100).default(15),
    DEPARTMENT_MAX_PER_CORP: z.coerce.number().int().min(1).max(1_000_000).default(30_000),
    /** Consecutive failed sign-ins that lock an account, and for how long. */
    SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
    SIGN_IN_LOCK_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(15),
    REFRESH_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(300)
      .max(365 * 86_400)
      .default(30 * 86_400),
    /** Members per corp, whatever their status (the member API and imports refuse more). */
    CORP_MEMBER_LIMIT: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
    /** Data rows one member import may hold, and the largest file it accepts. */
    IMPORT_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(50_000),
    IMPORT_MAX_FILE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(512 * 1024 * 1024)
      .default(20 * 1024 * 1024),
    /**
     * The bucket of WeCom's temporary media (`media/upload`, shared with messaging): the batch
     * jobs read their CSV from it by media_id. Identity only reads it.
     */
    WECOM_MEDIA_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, 'must be an S3 bucket name')
      .default('qiwei-wecom-media'),
    /** A batch job's callback (batch_job_result): each attempt's timeout, attempts, pause between. */
    BATCH_CALLBACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    BATCH_CALLBACK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
    BATCH_CALLBACK_RETRY_DELAY_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
    /**
     * replace_user's protection against wiping the directory (WeCom's rule, errcode 45026): the
     * job stops, changing nothing, when it would delete more than BATCH_REPLACE_DELETE_MAX_SHARE of
     * the members in the caller's range and more than BATCH_REPLACE_DELETE_SMALL_COUNT members, or
     * (at most that many) more than BATCH_REPLACE_DELETE_SMALL_MAX_SHARE of them.
     */
    BATCH_REPLACE_DELETE_SMALL_COUNT: z.coerce.number().int().min(0).max(1_000_000).default(50),
    BATCH_REPLACE_DELETE_MAX_SHARE: z.coerce.number().min(0).max(1).default(0.2),
    BATCH_REPLACE_DELETE_SMALL_MAX_SHARE: z.coerce.number().min(0).max(1).default(0.8),
  });

export type IdentityConfig = z.infer<typeof identityConfigSchema>;
export const IDENTITY_CONFIG = Symbol('IDENTITY_CONFIG');
