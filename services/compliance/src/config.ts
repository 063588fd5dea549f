import { eventsConfigSchema } from '@qiwei/events';
import { databaseConfigSchema } from '@qiwei/persistence';
import { platformConfigSchema } from '@qiwei/platform';
import { storageConfigSchema } from '@qiwei/storage';
import { z } from 'zod';
import { parseSigningKeys } from './chain/chain-signing-keys';
import { exportConfigShape } from './exports/export.config';
import { archiveIndexConfigShape } from './search/archive-index.config';

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** The archive's own bucket (media copies, signed chain heads), media copying and retention. */
const archiveStorageConfig = {
  /** Created at start if missing; in production an object-locked (WORM) bucket: see README. */
  ARCHIVE_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, 'must be an S3 bucket name')
    .default('qiwei-compliance-archive'),
  /** How often pending media copies are looked for (each copy starts as soon as it is seen). */
  MEDIA_COPY_INTERVAL_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
  /** Copies of one medium tried before a missing or mismatching source is a recorded fault. */
  MEDIA_COPY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** First retry delay of a failed copy; doubles each attempt, capped at an hour. */
  MEDIA_COPY_RETRY_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  /** How often the retention purge runs (it also runs on `POST /v1/archive/retention/purge`). */
  RETENTION_PURGE_INTERVAL_SECONDS: seconds(60, 30 * 86_400, 86_400),
};

export const complianceConfigSchema = platformConfigSchema
  .extend(databaseConfigSchema.shape)
  .extend(eventsConfigSchema.shape)
  .extend(storageConfigSchema.shape)
  .extend(archiveStorageConfig)
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4006),
    /** Identity's key set: tokens are verified locally against it. */
    IDENTITY_JWKS_URL: z.url(),
    /**
     * Ed25519 keys that sign chain heads: `<id>:<32-byte seed, base64>[,<id>:<seed>…]`. The
     * first signs; every one listed verifies (list the old key after a new one while rotating).
     */
    COMPLIANCE_SIGNING_KEY: z.string().superRefine((value, ctx) => {
      try {
        parseSigningKeys(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
    /** How often each corp's chain head is signed and stored (when it moved). */
    CHAIN_HEAD_INTERVAL_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(3600),
  })
  .extend(archiveIndexConfigShape)
  .extend(exportConfigShape);

export type ComplianceConfig = z.infer<typeof complianceConfigSchema>;
export const COMPLIANCE_CONFIG = Symbol('COMPLIANCE_CONFIG');
