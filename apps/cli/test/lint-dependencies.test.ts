import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIR } from './helpers.js';

/**
 * `pnpm lint:cli-deps` (scripts/check-cli-deps.mjs, part of `pnpm lint`): the CLI's
 * package.json dependencies are exactly what its bundles leave to node_modules. Run on a
 * small CLI package with the same bundler (scripts/bundle.mjs), and on this one.
 */
const run = promisify(execFile);
const REPO = join(CLI_DIR, '..', '..');
const script = join(REPO, 'scripts', 'check-cli-deps.mjs');

let dir: string;
const SOURCES: Record<string, string> = {
  // Plain imports, left external by the bundler.
  'src/commands/hello.ts': [
    "import { ofetch } from 'ofetch';",
    "import * as v from 'valibot';",
    'export default class Hello {',
    '  static run() {',
    '    return [ofetch, v.string()];',
    '  }',
    '}',
  ].join('\n'),
  // Loads esbuild cannot see: a createRequire call and an import of a constant.
  'src/commands/store.ts': [
    "import { createRequire } from 'node:module';",
    "const PARSER = 'eventsource-parser';",
    'export default class Store {',
    '  static async run() {',
    '    const require = createRequire(import.meta.url);',
    "    return [require('better-sqlite3'), await import(PARSER)];",
    '  }',
    '}',
  ].join('\n'),
};

async function writeManifest(dependencies: Record<string, string>, optional = {}) {
  const manifest = {
    name: 'fixture-cli',
    version: '1.0.0',
    type: 'module',
    oclif: { plugins: [] },
    dependencies,
    optionalDependencies: optional,
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

async function check(cliDir: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, cliDir], { cwd: REPO });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-cli-deps-'));
  for (const [path, text] of Object.entries(SOURCES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), `${text}\n`);
  }
  // Installed as in the workspace, where a package the CLI forgets to declare still resolves
  // (through a workspace package that declares it): oclif, which the bundler inlines, and the
  // two plain imports. Only package.json decides what is declared.
  const installed = {
    '@oclif/core': join(CLI_DIR, 'node_modules', '@oclif', 'core'),
    ofetch: join(REPO, 'packages', 'core', 'node_modules', 'ofetch'),
    valibot: join(REPO, 'packages', 'core', 'node_modules', 'valibot'),
  };
  for (const [name, from] of Object.entries(installed)) {
    const link = join(dir, 'node_modules', name);
    await mkdir(dirname(link), { recursive: true });
    await symlink(await realpath(from), link);
  }
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('pnpm lint:cli-deps', () => {
  it('fails on a runtime import missing from dependencies and on an unused dependency', async () => {
    await writeManifest({ valibot: '1.5.0', 'left-pad': '1.3.0' });
    const { code, out } = await check(dir);
    expect(code).toBe(1);
    for (const name of ['ofetch', 'better-sqlite3', 'eventsource-parser']) {
      expect(out).toMatch(
        new RegExp(
          `✗ ${name} is loaded at run time \\(src/commands/[a-z]+\\.ts\\) but package\\.json does not list it`,
        ),
      );
    }
    expect(out).toContain(
      '✗ left-pad is in dependencies but nothing the bundles leave out loads it',
    );
    expect(out).not.toMatch(/✗ valibot/);
    expect(out).toMatch(/lint:cli-deps: .*: 4 problem\(s\)/);
  }, 60_000);

  it('passes when dependencies (optional ones count) match what the bundles load', async () => {
    await writeManifest(
      { 'eventsource-parser': '3.1.1', ofetch: '1.5.1', valibot: '1.5.0' },
      { 'better-sqlite3': '12.11.1' },
    );
    const { code, out } = await check(dir);
    expect(out).toMatch(/lint:cli-deps: .*: 4 runtime packages, all in dependencies, none unused/);
    expect(code).toBe(0);
  }, 60_000);

  it('passes on the CLI itself', async () => {
    const { code, out } = await check(CLI_DIR);
    expect(out).toMatch(/lint:cli-deps: apps\/cli: \d+ runtime packages, all in dependencies/);
    expect(code).toBe(0);
  }, 120_000);
});
