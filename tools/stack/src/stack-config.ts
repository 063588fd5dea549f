import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The services `npm start` runs, with their default ports. Ports are reserved for all seven. */
export const SERVICE_PORTS = {
  identity: 4001,
  messaging: 4002,
  approvals: 4003,
  'customer-contact': 4004,
  materials: 4005,
  compliance: 4006,
  devices: 4007,
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;

/** Services that exist in this checkout (the others have ports reserved, nothing to run yet). */
export const RUNNABLE_SERVICES: ServiceName[] = ['identity', 'messaging', 'compliance'];

export interface StackConfig {
  repoRoot: string;
  dataDir: string;
  postgresPort: number;
  s3Port: number;
  host: string;
  logLevel: string;
  platformToken: string;
  platformTokenGenerated: boolean;
  identityKeyEncryptionKey: string;
  complianceSigningKey: string;
  ports: Record<ServiceName, number>;
}

function envVarOf(service: ServiceName): string {
  return `QIWEI_${service.toUpperCase().replace(/-/g, '_')}_PORT`;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be a TCP port (1–65535), got "${raw}"`);
  }
  return value;
}

interface StackSecret {
  value: string;
  generated: boolean;
}

/** A secret from its variable, or one generated once and kept (mode 0600) in the data dir. */
function stackSecret(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  spec: {
    variable: string;
    file: string;
    generate: () => string;
    /** What is wrong with a given value, if anything. */
    problem?: (value: string) => string | undefined;
  },
): StackSecret {
  const given = env[spec.variable];
  if (given) {
    const problem = spec.problem?.(given);
    if (problem) throw new Error(`${spec.variable} ${problem}`);
    return { value: given, generated: false };
  }
  const file = join(dataDir, spec.file);
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), generated: false };
  const value = spec.generate();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { value, generated: true };
}

/** The platform admin token: QIWEI_PLATFORM_TOKEN, or one generated once and kept in the data dir. */
const platformToken = (env: NodeJS.ProcessEnv, dataDir: string) =>
  stackSecret(env, dataDir, {
    variable: 'QIWEI_PLATFORM_TOKEN',
    file: 'platform-token',
    generate: () => randomBytes(32).toString('base64url'),
    problem: (v) => (v.length < 24 ? 'must be at least 24 characters' : undefined),
  });

/**
 * Identity's key-encryption key (seals signing keys and TOTP secrets): IDENTITY_KEY_ENCRYPTION_KEY
 * (identity validates it), or one generated once and kept in the data dir. Losing the file
 * loses what it sealed, like losing the database.
 */
const identityKeyEncryptionKey = (env: NodeJS.ProcessEnv, dataDir: string) =>
  stackSecret(env, dataDir, {
    variable: 'IDENTITY_KEY_ENCRYPTION_KEY',
    file: 'identity-key-encryption-key',
    generate: () => `local:${randomBytes(32).toString('base64')}`,
  });

/**
 * The Ed25519 key compliance signs its archive chain heads with: COMPLIANCE_SIGNING_KEY
 * (compliance validates it), or one generated once and kept in the data dir. Losing it does not
 * lose the archive; heads signed with it can then no longer be checked.
 */
const complianceSigningKey = (env: NodeJS.ProcessEnv, dataDir: string) =>
  stackSecret(env, dataDir, {
    variable: 'COMPLIANCE_SIGNING_KEY',
    file: 'compliance-signing-key',
    generate: () => `local:${randomBytes(32).toString('base64')}`,
  });

export function loadStackConfig(env: NodeJS.ProcessEnv, repoRoot: string): StackConfig {
  const dataDir = resolve(env.QIWEI_DATA_DIR || join(repoRoot, '.qiwei'));
  mkdirSync(dataDir, { recursive: true });
  const token = platformToken(env, dataDir);
  const ports = Object.fromEntries(
    Object.entries(SERVICE_PORTS).map(([name, fallback]) => [
      name,
      port(env, envVarOf(name as ServiceName), fallback),
    ]),
  ) as Record<ServiceName, number>;
  return {
    repoRoot,
    dataDir,
    postgresPort: port(env, 'QIWEI_PG_PORT', 5433),
    s3Port: port(env, 'S3_PORT', 9000),
    host: env.QIWEI_HOST || '127.0.0.1',
    logLevel: env.LOG_LEVEL || 'info',
    platformToken: token.value,
    platformTokenGenerated: token.generated,
    identityKeyEncryptionKey: identityKeyEncryptionKey(env, dataDir).value,
    complianceSigningKey: complianceSigningKey(env, dataDir).value,
    ports,
  };
}

export const serviceDatabase = (service: ServiceName) => `qiwei_${service.replace(/-/g, '_')}`;
