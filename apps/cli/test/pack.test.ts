import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ModelsOutputSchema } from '@falai/core';
import * as v from 'valibot';
import { afterAll, expect, it } from 'vitest';
import { CLI_DIR } from './helpers.js';

const run = promisify(execFile);
let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * The packed tarball is self-contained: the @falai/* workspace packages are bundled in, so
 * plain npm installs it into an empty folder (third-party packages come from the npm
 * cache or registry; `--prefer-offline` keeps repeat runs local).
 */
it('pnpm pack makes a tarball that npm installs into an empty folder, and falai runs from it', async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-pack-test-'));
  const packDir = join(dir, 'pack');
  const appDir = join(dir, 'app');
  await mkdir(appDir);
  await run('pnpm', ['pack', '--pack-destination', packDir], { cwd: CLI_DIR });
  const [tarball] = (await readdir(packDir)).filter((name) => name.endsWith('.tgz'));
  expect(tarball).toBeDefined();
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      join(packDir, tarball!),
    ],
    { cwd: appDir, env: { ...process.env, npm_config_loglevel: 'error' } },
  );
  const bin = join(appDir, 'node_modules', '.bin', 'falai');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: join(dir, 'home'),
    XDG_STATE_HOME: join(dir, 'state'),
  };
  const version = await run(bin, ['--version'], { cwd: appDir, env });
  expect(version.stdout).toMatch(/^falai\/\d+\.\d+\.\d+/);
  const models = await run(bin, ['models', '--json'], { cwd: appDir, env });
  const parsed = v.parse(ModelsOutputSchema, JSON.parse(models.stdout));
  expect(parsed.models.map((model) => model.endpointId)).toContain('fal-ai/nano-banana-pro');
  // The workspace packages are inside the tarball, not installed from a registry.
  const installed = await readdir(join(appDir, 'node_modules'));
  expect(installed).not.toContain('@falai');

  // `falai skill build` ships the single-file CLI packed in the tarball (dist-bundle/), so it
  // works outside the repo, and the built skill runs on its own (no node_modules beside it).
  const skillDir = join(dir, 'skill');
  const built = await run(bin, ['skill', 'build', '--out', skillDir, '--json'], {
    cwd: appDir,
    env,
  });
  expect(JSON.parse(built.stdout)).toMatchObject({
    dir: skillDir,
    problems: [],
    files: expect.arrayContaining(['SKILL.md', 'scripts/falai.mjs', 'scripts/falai-cli.mjs']),
  });
  const workspace = join(dir, 'workspace');
  await mkdir(workspace);
  const skillModels = await run(
    process.execPath,
    [join(skillDir, 'scripts', 'falai.mjs'), 'models', '--json'],
    { cwd: workspace, env: { ...env, OPENCLAW_WORKSPACE_DIR: workspace } },
  );
  const skillParsed = v.parse(ModelsOutputSchema, JSON.parse(skillModels.stdout));
  expect(skillParsed.models.map((model) => model.endpointId)).toContain('fal-ai/nano-banana-pro');
}, 600_000);

/** The single-file build the OpenClaw skill ships: every command, no node_modules needed. */
it('pnpm bundle makes dist-bundle/falai.mjs, which runs on its own', async () => {
  await run('pnpm', ['run', 'bundle'], { cwd: CLI_DIR });
  dir ??= await mkdtemp(join(tmpdir(), 'falai-pack-test-'));
  const copy = join(dir, 'bundle');
  const { cp } = await import('node:fs/promises');
  await cp(join(CLI_DIR, 'dist-bundle'), copy, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: join(dir, 'home'),
    XDG_STATE_HOME: join(dir, 'state'),
  };
  const bundle = join(copy, 'falai.mjs');
  const version = await run(process.execPath, [bundle, '--version'], { cwd: dir, env });
  expect(version.stdout).toMatch(/^falai\/\d+\.\d+\.\d+/);
  const models = await run(process.execPath, [bundle, 'models', '--json'], { cwd: dir, env });
  const parsed = v.parse(ModelsOutputSchema, JSON.parse(models.stdout));
  expect(parsed.count).toBeGreaterThanOrEqual(5);
  const list = await run(process.execPath, [bundle, 'list', '--json'], { cwd: dir, env });
  expect(JSON.parse(list.stdout)).toMatchObject({ count: 0 });
}, 120_000);
