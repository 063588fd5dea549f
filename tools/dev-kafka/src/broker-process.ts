import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface DevKafkaProcess {
  /** `host:port` to bootstrap clients from. */
  bootstrap: string;
  /** The broker's process id (benchmarks read its CPU time). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * The standalone broker (the compiled `main.js` beside this file) as a child process on a free
 * port: benchmarks run it apart from their clients, so broker and clients use separate cores.
 */
export async function spawnDevKafka(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<DevKafkaProcess> {
  const proc = spawn(process.execPath, [join(__dirname, 'main.js')], {
    env: { ...process.env, DEV_KAFKA_PORT: '0', DEV_KAFKA_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /bootstrap (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    proc.once('exit', (code) => reject(new Error(`dev-kafka exited with ${code}`)));
  });
  return {
    bootstrap,
    pid: proc.pid as number,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
