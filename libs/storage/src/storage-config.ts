import { z } from 'zod';

/** Where a service keeps objects: MinIO (or any S3) in production, s3rver on one machine. */
export const storageConfigSchema = z.object({
  /** `https://minio.example:9000`; `npm start` points it at its s3rver. */
  S3_ENDPOINT: z.url(),
  S3_ACCESS_KEY: z.string().min(1),
  S3_SECRET_KEY: z.string().min(1),
  S3_REGION: z.string().min(1).default('us-east-1'),
});

export type StorageConfig = z.infer<typeof storageConfigSchema>;
