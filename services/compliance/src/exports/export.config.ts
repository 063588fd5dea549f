import { z } from 'zod';

const int = z.coerce.number().int();

/** Exports: where they are kept, how they are produced and handed out. */
export const exportConfigShape = {
  /** Created at start if missing. Keep a lifecycle rule that expires old exports (README). */
  EXPORT_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, 'must be an S3 bucket name')
    .default('qiwei-compliance-exports'),
  /** Records read and written per step; progress is saved after each. */
  EXPORT_CHUNK_SIZE: int.min(1).max(5000).default(500),
  /** Exports one replica produces at once; 0 for replicas that only answer requests. */
  EXPORT_WORKERS: int.min(0).max(8).default(1),
  /** A worker's claim on a job; a crashed worker's job is taken over after it lapses. */
  EXPORT_LEASE_SECONDS: int.min(5).max(3600).default(60),
  EXPORT_POLL_INTERVAL_MS: int.min(10).max(60_000).default(1000),
  /** Attempts (claims) before a job that keeps failing is marked failed. */
  EXPORT_MAX_ATTEMPTS: int.min(1).max(100).default(5),
  /** Most records one export may hold. */
  EXPORT_MAX_RECORDS: int.min(1).max(100_000_000).default(1_000_000),
  /** How long a download URL stays valid. */
  EXPORT_URL_EXPIRY_SECONDS: int
    .min(60)
    .max(7 * 86_400)
    .default(900),
};
