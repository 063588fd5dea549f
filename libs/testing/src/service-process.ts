import { randomBytes } from 'node:crypto';
import { eventually } from './eventually';
import { freePort } from './free-port';
import { distEntry, spawnNode, type SpawnedProcess } from './processes';
import { startTestS3 } from './test-s3';

export interface ServiceProcess {
  url: string;
  process: SpawnedProcess;
  /** SIGTERM, then waits for the exit (nothing if it already exited). */
  stop(): Promise<void>;
}

/**
 * A built service (`dist/services/<name>/src/main.js`, as in production) as its own process on
 * a free port, once its `/health/ready` answers. Tests of one service run the services it
 * depends on this way: they never import each other's code.
 */
export async function startServiceProcess(
  name: string,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnNode(distEntry(`services/${name}/src/main.js`), {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATABASE_POOL_SIZE: '4',
    OUTBOX_POLL_INTERVAL_MS: '100',
    OTEL_SDK_DISABLED: 'true',
    ...env,
  });
  const stop = async () => {
    if (child.child.exitCode !== null || child.child.signalCode !== null) return;
    child.child.kill('SIGTERM');
    await child.exited;
  };
  try {
    await eventually(
      async () => {
        if (child.child.exitCode !== null) throw new Error(`${name} exited: ${child.output()}`);
        const ready = await fetch(`${url}/health/ready`);
        if (!ready.ok) throw new Error(`${name} not ready`);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, process: child, stop };
}

/**
 * Identity as its own process, with a platform token and a key-encryption key of its own.
 * Identity reads WeCom's temporary media (batch CSVs) from object storage: pass the caller's S3
 * settings (`TestS3.env`) to share one server with messaging; without them identity gets an S3
 * server of its own, stopped with it.
 */
export async function startIdentityProcess(options: {
  databaseUrl: string;
  brokers: string[];
  storage?: Record<string, string>;
}): Promise<ServiceProcess & { platformToken: string }> {
  const platformToken = `test-platform-${randomBytes(12).toString('hex')}`;
  const ownS3 = options.storage ? undefined : await startTestS3();
  let identity: ServiceProcess;
  try {
    identity = await startServiceProcess('identity', {
      DATABASE_URL: options.databaseUrl,
      KAFKA_BROKERS: options.brokers.join(','),
      QIWEI_PLATFORM_TOKEN: platformToken,
      IDENTITY_KEY_ENCRYPTION_KEY: `test:${randomBytes(32).toString('base64')}`,
      ...(options.storage ?? ownS3?.env),
    });
  } catch (error) {
    await ownS3?.stop();
    throw error;
  }
  return {
    ...identity,
    platformToken,
    async stop() {
      await identity.stop();
      await ownS3?.stop();
    },
  };
}
