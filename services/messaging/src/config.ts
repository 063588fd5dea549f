import { eventsConfigSchema } from '@qiwei/events';
import { databaseConfigSchema } from '@qiwei/persistence';
import { platformConfigSchema } from '@qiwei/platform';
import { z } from 'zod';

export const messagingConfigSchema = platformConfigSchema
  .extend(databaseConfigSchema.shape)
  .extend(eventsConfigSchema.shape)
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4002),
    /** Identity's key set: tokens are verified locally against it. */
    IDENTITY_JWKS_URL: z.url(),
    /** Largest text or markdown message, in UTF-8 bytes. */
    MESSAGE_TEXT_MAX_BYTES: z.coerce.number().int().min(16).max(1_048_576).default(4_096),
    /** Members a group may have. */
    GROUP_MEMBER_LIMIT: z.coerce.number().int().min(2).max(100_000).default(2_000),
    /** How long a sender may recall their message. */
    RECALL_WINDOW_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(24 * 60),
    /** A socket whose unsent frames pass this is closed (its client resyncs by seq). */
    REALTIME_MAX_BUFFERED_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(4 * 1024 * 1024),
  });

export type MessagingConfig = z.infer<typeof messagingConfigSchema>;
export const MESSAGING_CONFIG = Symbol('MESSAGING_CONFIG');
