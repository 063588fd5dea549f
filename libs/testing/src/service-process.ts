import { randomBytes } from 'node:crypto';
import { eventually } from './eventually';
import { freePort } from './free-port';
import { distEntry, spawnNode, type SpawnedProcess } from './processes';

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

/** Identity as its own process, with a platform token and a key-encryption key of its own. */
export async function startIdentityProcess(options: {
  databaseUrl: string;
  brokers: string[];
}): Promise<ServiceProcess & { platformToken: string }> {
  const platformToken = `test-platform-${randomBytes(12).toString('hex')}`;
  const identity = await startServiceProcess('identity', {
    DATABASE_URL: options.databaseUrl,
    KAFKA_BROKERS: options.brokers.join(','),
    QIWEI_PLATFORM_TOKEN: platformToken,
    IDENTITY_KEY_ENCRYPTION_KEY: `test:${randomBytes(32).toString('base64')}`,
  });
  return { ...identity, platformToken };
}
