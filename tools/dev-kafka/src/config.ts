import * as path from 'node:path';
import { DevKafkaLogger, quietLogger } from './logger';
import { RetentionPolicy } from './storage/partition-log';

export interface DevKafkaRetentionOptions extends Partial<RetentionPolicy> {
  /** How often retention runs over all partitions. */
  checkIntervalMs?: number;
}

export interface DevKafkaOptions {
  /** 0 picks a free port; the default is 9092. */
  port?: number;
  host?: string;
  /** The address put in Metadata/FindCoordinator; must be reachable by clients. */
  advertisedHost?: string;
  dataDir: string;
  autoCreateTopics?: boolean;
  /** Partitions of auto-created topics and of CreateTopics with numPartitions = -1. */
  defaultPartitions?: number;
  retention?: DevKafkaRetentionOptions;
  /** Lower than Kafka's 6 s default so tests can evict a dead member quickly. */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  logger?: DevKafkaLogger;
}

export interface DevKafkaConfig {
  port: number;
  host: string;
  advertisedHost: string;
  dataDir: string;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  retention: RetentionPolicy;
  retentionCheckIntervalMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  logger: DevKafkaLogger;
}

export const DEFAULT_PORT = 9092;
export const DEFAULT_HOST = '127.0.0.1';

function advertisedFor(host: string): string {
  // Clients reconnect to the advertised address; `localhost` may resolve to ::1 on Node ≥ 17.
  if (host === '0.0.0.0' || host === '::' || host === 'localhost') return '127.0.0.1';
  return host;
}

export function resolveConfig(options: DevKafkaOptions): DevKafkaConfig {
  const host = options.host ?? DEFAULT_HOST;
  const retention = options.retention ?? {};
  const config: DevKafkaConfig = {
    port: options.port ?? DEFAULT_PORT,
    host,
    advertisedHost: options.advertisedHost ?? advertisedFor(host),
    dataDir: path.resolve(options.dataDir),
    autoCreateTopics: options.autoCreateTopics ?? true,
    defaultPartitions: options.defaultPartitions ?? 1,
    retention: {
      segmentBytes: retention.segmentBytes ?? 64 * 1024 * 1024,
      maxBytes: retention.maxBytes ?? -1,
      maxAgeMs: retention.maxAgeMs ?? 7 * 24 * 60 * 60 * 1000,
    },
    retentionCheckIntervalMs: retention.checkIntervalMs ?? 60_000,
    minSessionTimeoutMs: options.minSessionTimeoutMs ?? 1_000,
    maxSessionTimeoutMs: options.maxSessionTimeoutMs ?? 1_800_000,
    logger: options.logger ?? quietLogger,
  };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new Error(`dev-kafka: invalid port ${String(config.port)}`);
  }
  if (!Number.isInteger(config.defaultPartitions) || config.defaultPartitions < 1) {
    throw new Error(`dev-kafka: defaultPartitions must be a positive integer`);
  }
  if (config.retention.segmentBytes < 1024)
    throw new Error('dev-kafka: retention.segmentBytes must be at least 1024');
  return config;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value))
    throw new Error(`dev-kafka: ${name} must be an integer, got "${raw}"`);
  return value;
}

/** The standalone broker's settings; the only place that reads the environment. */
export function optionsFromEnv(env: NodeJS.ProcessEnv, cwd: string): DevKafkaOptions {
  const autoCreate = env.DEV_KAFKA_AUTO_CREATE_TOPICS;
  return {
    port: intFromEnv(env, 'DEV_KAFKA_PORT') ?? DEFAULT_PORT,
    host: env.DEV_KAFKA_HOST || DEFAULT_HOST,
    advertisedHost: env.DEV_KAFKA_ADVERTISED_HOST || undefined,
    dataDir: env.DEV_KAFKA_DATA_DIR || path.join(cwd, '.qiwei', 'kafka'),
    autoCreateTopics:
      autoCreate === undefined || autoCreate === ''
        ? true
        : autoCreate !== 'false' && autoCreate !== '0',
    defaultPartitions: intFromEnv(env, 'DEV_KAFKA_DEFAULT_PARTITIONS'),
    retention: {
      segmentBytes: intFromEnv(env, 'DEV_KAFKA_SEGMENT_BYTES'),
      maxBytes: intFromEnv(env, 'DEV_KAFKA_RETENTION_BYTES'),
      maxAgeMs: intFromEnv(env, 'DEV_KAFKA_RETENTION_MS'),
    },
  };
}
