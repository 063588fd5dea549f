import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@qiwei/testing';

const run = promisify(execFile);

async function lint(files: string[]): Promise<{ code: number; output: string }> {
  // The boundaries rule reads Nx's project graph: compute it first, as `npm run lint` does.
  await run(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, NX_DAEMON: 'false' },
    },
  );
  try {
    const { stdout } = await run(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', ...files],
      { cwd: REPO_ROOT },
    );
    return { code: 0, output: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/**
 * Module boundaries are enforced, not decorative: a service importing another service, or a
 * library importing a service, fails lint. Probe projects are written, linted and removed.
 */
describe('module boundaries', () => {
  const probeService = join(REPO_ROOT, 'services/zz-boundary-probe');
  const probeLibFile = join(REPO_ROOT, 'libs/platform/src/zz-boundary-probe.ts');

  afterAll(async () => {
    await rm(probeService, { recursive: true, force: true });
    await rm(probeLibFile, { force: true });
    // Leave Nx's cached project graph without the probes, for whoever lints next.
    await run(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NX_DAEMON: 'false' },
      },
    );
  });

  it('fails lint when a service imports another service or a library imports a service', async () => {
    await mkdir(join(probeService, 'src'), { recursive: true });
    await writeFile(
      join(probeService, 'project.json'),
      JSON.stringify({
        name: 'zz-boundary-probe',
        projectType: 'application',
        tags: ['scope:zz', 'type:app'],
      }),
    );
    await writeFile(
      join(probeService, 'src/main.ts'),
      "import { identityConfigSchema } from '../../identity/src/config';\nexport const probe = identityConfigSchema;\n",
    );
    await writeFile(
      probeLibFile,
      "import { IDENTITY_OPENAPI } from '../../../services/identity/src/openapi';\nexport const probe = IDENTITY_OPENAPI;\n",
    );
    const result = await lint([join(probeService, 'src/main.ts'), probeLibFile]);
    expect(result.code).not.toBe(0);
    const report = JSON.parse(result.output) as {
      filePath: string;
      messages: { ruleId: string | null }[];
    }[];
    const violating = report
      .filter((file) => file.messages.some((m) => m.ruleId === '@nx/enforce-module-boundaries'))
      .map((file) => file.filePath);
    expect(violating.sort()).toEqual([probeLibFile, join(probeService, 'src/main.ts')].sort());
  });

  it('declares the same @qiwei path aliases for the type-checker and the build', async () => {
    const tsconfig = JSON.parse(await readFile(join(REPO_ROOT, 'tsconfig.base.json'), 'utf8'));
    const swcrc = JSON.parse(await readFile(join(REPO_ROOT, '.swcrc'), 'utf8'));
    expect(swcrc.jsc.paths).toEqual(tsconfig.compilerOptions.paths);
  });

  it('gives every project both a scope and a type tag', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects', '--json'],
      { cwd: REPO_ROOT, env: { ...process.env, NX_DAEMON: 'false' } },
    );
    const projects = (JSON.parse(stdout) as string[]).filter((p) => !p.startsWith('zz-'));
    for (const name of projects) {
      const { stdout: detail } = await run(
        process.execPath,
        [join(REPO_ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'project', name, '--json'],
        { cwd: REPO_ROOT, env: { ...process.env, NX_DAEMON: 'false' } },
      );
      const tags = (JSON.parse(detail) as { tags?: string[] }).tags ?? [];
      expect({
        name,
        scope: tags.some((t) => t.startsWith('scope:')),
        type: tags.some((t) => t.startsWith('type:')),
      }).toEqual({ name, scope: true, type: true });
    }
  });
});
