import { z } from 'zod';

/** Settings every service has. Services extend this schema with their own variables. */
export const platformConfigSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  HTTP_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
});

export type PlatformConfig = z.infer<typeof platformConfigSchema>;

export class ConfigurationError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`,
    );
    this.name = 'ConfigurationError';
  }
}

/**
 * Reads and validates the environment once, at start-up. Every problem is reported with the
 * name of the variable, so a misconfigured deployment says what to fix.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  // Empty strings count as unset, as a shell `FOO= cmd` or a blank Helm value means.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigurationError(
    result.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      message:
        issue.code === 'invalid_type' && cleaned[String(issue.path[0])] === undefined
          ? 'is required but not set'
          : issue.message,
    })),
  );
}
