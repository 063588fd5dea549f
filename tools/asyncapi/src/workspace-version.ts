import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Qiwei's release version (the root package.json), which versions the AsyncAPI document. */
export function workspaceVersion(repoRoot: string): string {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version?: unknown;
  };
  if (typeof manifest.version !== 'string') throw new Error('package.json has no version');
  return manifest.version;
}
