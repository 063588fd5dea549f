import { z } from 'zod';

const flag = z.coerce.number().int();

/** Which ArchiveIndex runs, and the Elasticsearch settings when it is Elasticsearch. */
export const archiveIndexConfigShape = {
  /** `postgres` (embedded default: in the archive's transaction) or `elasticsearch`. */
  ARCHIVE_INDEX: z.enum(['postgres', 'elasticsearch']).default('postgres'),
  /** `https://es.example:9200` (comma-separated for several nodes). */
  ELASTICSEARCH_URL: z.string().optional(),
  ELASTICSEARCH_USERNAME: z.string().min(1).optional(),
  ELASTICSEARCH_PASSWORD: z.string().min(1).optional(),
  /** An API key (base64 `id:api_key`), instead of a username and password. */
  ELASTICSEARCH_API_KEY: z.string().min(1).optional(),
  /** SHA-256 fingerprint of the cluster's CA certificate (self-signed clusters). */
  ELASTICSEARCH_CA_FINGERPRINT: z.string().min(1).optional(),
  /** Prefix of the index template, index and alias (`qiwei-` → `qiwei-archive`). */
  ELASTICSEARCH_INDEX_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,40}$/, 'lowercase letters, digits, - and _')
    .default('qiwei-'),
  ELASTICSEARCH_SHARDS: flag.min(1).max(1024).default(1),
  ELASTICSEARCH_REPLICAS: flag.min(0).max(16).default(1),
  /** Records per bulk request. */
  ELASTICSEARCH_BULK_SIZE: flag.min(1).max(5000).default(500),
  /** How often the indexer looks for queued records when it found none. */
  ELASTICSEARCH_INDEX_INTERVAL_MS: flag.min(10).max(60_000).default(200),
  /** Attempts before a retriable rejection is parked as failed (shown, retried on request). */
  ELASTICSEARCH_MAX_ATTEMPTS: flag.min(1).max(1000).default(12),
  ELASTICSEARCH_REQUEST_TIMEOUT_MS: flag.min(100).max(300_000).default(30_000),
};

export type ArchiveIndexConfig = z.infer<z.ZodObject<typeof archiveIndexConfigShape>>;

/** The settings that only make sense together; checked when the service starts. */
export function checkArchiveIndexConfig(config: ArchiveIndexConfig): void {
  if (config.ARCHIVE_INDEX !== 'elasticsearch') return;
  const urls = (config.ELASTICSEARCH_URL ?? '').split(',').filter(Boolean);
  if (!urls.length || urls.some((u) => !URL.canParse(u)))
    throw new Error('ARCHIVE_INDEX=elasticsearch needs ELASTICSEARCH_URL (one or more URLs)');
  if (!!config.ELASTICSEARCH_USERNAME !== !!config.ELASTICSEARCH_PASSWORD)
    throw new Error('ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD go together');
  if (config.ELASTICSEARCH_API_KEY && config.ELASTICSEARCH_USERNAME)
    throw new Error('Give ELASTICSEARCH_API_KEY or a username and password, not both');
}
