import { z } from 'zod';

/** The variables every service with a database reads (one PostgreSQL database per service). */
export const databaseConfigSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// connection URL'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
});

export type DatabaseConfig = z.infer<typeof databaseConfigSchema>;
