import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../../..');

/** A compiled entry point; `npm test` builds first (`npm run build`). */
export function distEntry(relativePath: string): string {
  const path = join(REPO_ROOT, 'dist', relativePath);
  if (!existsSync(path))
    throw new Error(`${path} is missing: run \`npm run build\` first (npm test does).`);
  return path;
}

export interface SpawnedProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a compiled Node entry point under the same Node as the tests, capturing its output. */
export function spawnNode(
  entry: string,
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): SpawnedProcess {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Whether something accepts TCP connections on the port. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}
