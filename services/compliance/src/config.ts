import { eventsConfigSchema } from '@qiwei/events';
import { databaseConfigSchema } from '@qiwei/persistence';
import { platformConfigSchema } from '@qiwei/platform';
import { storageConfigSchema } from '@qiwei/storage';
import { z } from 'zod';
import { parseSigningKeys } from './chain/chain-signing-keys';
import { exportConfigShape } from './exports/export.config';
import { archiveIndexConfigShape } from './search/archive-index.config';

export const complianceConfigSchema = platformConfigSchema
  .extend(databaseConfigSchema.shape)
  .extend(eventsConfigSchema.shape)
  .extend(storageConfigSchema.shape)
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
