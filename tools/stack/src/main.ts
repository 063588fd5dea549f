import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import {
  startEmbeddedPostgres,
  takeOverShutdownSignals,
  type RunningPostgres,
} from '@qiwei/embedded-postgres';
import { optionsFromEnv, quietLogger, startDevKafka, type DevKafka } from '@qiwei/dev-kafka';
import { startEmbeddedS3, type RunningS3 } from '@qiwei/embedded-s3';
import { databaseUrl, ensureDatabase } from '@qiwei/persistence';
import {
  loadStackConfig,
  RUNNABLE_SERVICES,
  serviceDatabase,
  type ServiceName,
  type StackConfig,
} from './stack-config';

// dist/tools/stack/src/main.js → the repository root.
const REPO_ROOT = resolve(__dirname, '../../../..');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

interface RunningService {
  name: ServiceName;
  url: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

const say = (line: string) => process.stdout.write(`[stack] ${line}\n`);

function startService(
  config: StackConfig,
  name: ServiceName,
  postgres: RunningPostgres,
  kafka: DevKafka,
  s3: RunningS3,
): RunningService {
  const entry = join(config.repoRoot, 'dist/services', name, 'src/main.js');
  const child = spawn(process.execPath, [entry], {
    cwd: config.repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HOST: config.host,
      PORT: String(config.ports[name]),
      DATABASE_URL: databaseUrl(postgres.url, serviceDatabase(name)),
      QIWEI_PLATFORM_TOKEN: config.platformToken,
      IDENTITY_KEY_ENCRYPTION_KEY: config.identityKeyEncryptionKey,
      COMPLIANCE_SIGNING_KEY: config.complianceSigningKey,
      KAFKA_BROKERS: kafka.brokers.join(','),
      // Every service verifies identity's tokens against its key set.
      IDENTITY_JWKS_URL: `http://${config.host}:${config.ports.identity}/.well-known/jwks.json`,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      LOG_LEVEL: config.logLevel,
    },
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) =>
      process.stdout.write(`[${name}] ${line}\n`),
    );
  }
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { name, url: `http://${config.host}:${config.ports[name]}`, process: child, exited };
}

async function waitReady(service: RunningService): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exitCode: number | null | undefined;
  void service.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`${service.name} exited with code ${exitCode} while starting`);
    try {
      const res = await fetch(`${service.url}/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${service.name} was not ready within ${READY_TIMEOUT_MS / 1000} s`);
}

async function stopService(service: RunningService): Promise<void> {
  if (service.process.exitCode !== null || service.process.signalCode !== null) return;
  service.process.kill('SIGTERM');
  const timer = setTimeout(() => service.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await service.exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const config = loadStackConfig(process.env, REPO_ROOT);
  const services: RunningService[] = [];
  let postgres: RunningPostgres | undefined;
  let kafka: DevKafka | undefined;
  let s3: RunningS3 | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (exitCode: number) => {
    stopping ??= (async () => {
      say('stopping…');
      // Services first (they drain and close their connections), then the engines.
      await Promise.all(services.map(stopService));
      await kafka?.stop();
      await s3?.stop();
      await postgres?.stop();
      say('stopped');
      process.exit(exitCode);
    })();
    return stopping;
  };
  takeOverShutdownSignals();
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  try {
    say(`data directory ${config.dataDir}`);
    postgres = await startEmbeddedPostgres({
      dataDir: join(config.dataDir, 'postgres'),
      port: config.postgresPort,
      persistent: true,
    });
    kafka = await startDevKafka({
      ...optionsFromEnv(process.env, config.repoRoot),
      dataDir: process.env.DEV_KAFKA_DATA_DIR || join(config.dataDir, 'kafka'),
      logger: quietLogger,
    });
    s3 = await startEmbeddedS3({ directory: join(config.dataDir, 's3'), port: config.s3Port });
    for (const name of RUNNABLE_SERVICES) await ensureDatabase(postgres.url, serviceDatabase(name));
    for (const name of RUNNABLE_SERVICES) {
      const service = startService(config, name, postgres, kafka, s3);
      services.push(service);
      void service.exited.then((code) => {
        if (!stopping) {
          say(`${name} exited unexpectedly (code ${code}); stopping the stack`);
          void stop(1);
        }
      });
    }
    await Promise.all(services.map(waitReady));
  } catch (error) {
    say(`failed to start: ${(error as Error).message}`);
    await stop(1);
    return;
  }

  const rows: [string, string][] = [
    ['PostgreSQL (embedded)', `postgres://postgres:postgres@127.0.0.1:${config.postgresPort}`],
    ['Kafka (dev-kafka broker)', kafka.brokers.join(',')],
    ['S3 (s3rver)', s3.endpoint],
    ...services.map((s): [string, string] => [s.name, `${s.url}  (docs: ${s.url}/docs)`]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  say(`Qiwei is running (ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s):`);
  for (const [name, url] of rows) say(`  ${name.padEnd(width)}  ${url}`);
  say(
    config.platformTokenGenerated
      ? `platform admin token (generated, kept in ${join(config.dataDir, 'platform-token')}): ${config.platformToken}`
      : `platform admin token: from ${process.env.QIWEI_PLATFORM_TOKEN ? 'QIWEI_PLATFORM_TOKEN' : join(config.dataDir, 'platform-token')}`,
  );
  say('press Ctrl-C to stop');
}

void main();
