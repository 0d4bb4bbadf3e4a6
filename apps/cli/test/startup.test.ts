import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListOutputSchema } from '@falai/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI_DIR, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: false });
});
afterAll(async () => {
  await env.close();
});

/**
 * The sources a traced run loaded. The build bundles the CLI (scripts/bundle.mjs), so each
 * file loaded from dist/ is mapped back to the sources in it through dist/chunks.json; a dist
 * file the map does not know is reported as such (the test then fails).
 */
async function loadedSources(trace: string): Promise<string[]> {
  const dist = join(CLI_DIR, 'dist');
  const chunks = JSON.parse(await readFile(join(dist, 'chunks.json'), 'utf8')) as Record<
    string,
    string[]
  >;
  const urls = (await readFile(trace, 'utf8')).split('\n').filter(Boolean);
  return urls.flatMap((url) => {
    if (!url.startsWith('file:')) return [url];
    const path = fileURLToPath(url);
    const inDist = relative(dist, path);
    if (inDist.startsWith('..')) return [path];
    return chunks[inDist] ?? [`unknown dist file: ${inDist}`];
  });
}

/** Start-up stays cheap: `falai list --json` never loads media parsers, the emulator or native drivers. */
it('falai list --json does not load heavy modules', async () => {
  const trace = join(env.dir, 'modules.txt');
  const result = await env.run(['list', '--json'], {
    env: {
      NODE_OPTIONS: `--import=${join(CLI_DIR, 'test', 'fixtures', 'trace-imports.mjs')}`,
      FALAI_TRACE_FILE: trace,
    },
  });
  expect(result.code).toBe(0);
  expect(result.json(ListOutputSchema).count).toBe(0);
  const loaded = await loadedSources(trace);
  expect(loaded.filter((source) => source.startsWith('unknown dist file'))).toEqual([]);
  const all = loaded.join('\n');
  expect(all).toContain('packages/store-file/');
  expect(all).toContain('@oclif/core');
  for (const heavy of [
    'mediabunny',
    'file-type',
    'image-size',
    'sharp',
    'eventsource-parser',
    'ofetch',
    'packages/emulator',
    'better-sqlite3',
    'ioredis',
    // oclif's optional parts that falai never runs (see scripts/bundle.mjs, bin/run.js)
    'semver',
    '@oclif/plugin-autocomplete',
    '@oclif/plugin-not-found',
    'node:http',
  ]) {
    expect(all, heavy).not.toContain(heavy);
  }
});

/** oclif reads oclif.manifest.json instead of importing every command file to list them. */
it('the build writes an oclif manifest with every command, and oclif uses it', async () => {
  const manifest = JSON.parse(await readFile(join(CLI_DIR, 'oclif.manifest.json'), 'utf8')) as {
    version: string;
    commands: Record<string, { relativePath?: string[] }>;
  };
  const pkg = JSON.parse(await readFile(join(CLI_DIR, 'package.json'), 'utf8')) as {
    version: string;
  };
  expect(manifest.version).toBe(pkg.version);
  const root = join(CLI_DIR, 'src', 'commands');
  const files = (await readdir(root, { recursive: true }))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => file.replace(/\.ts$/, '').split(/[\\/]/).join(':'))
    .sort();
  expect(Object.keys(manifest.commands).sort()).toEqual(files);
  expect(manifest.commands.list?.relativePath).toEqual(['dist', 'commands', 'list.js']);

  const trace = join(env.dir, 'modules-manifest.txt');
  const result = await env.run(['models', '--json'], {
    env: {
      NODE_OPTIONS: `--import=${join(CLI_DIR, 'test', 'fixtures', 'trace-imports.mjs')}`,
      FALAI_TRACE_FILE: trace,
    },
  });
  expect(result.code).toBe(0);
  const commandFiles = [
    ...new Set(
      (await readFile(trace, 'utf8')).split('\n').filter((url) => url.includes('/dist/commands/')),
    ),
  ];
  // Only the command that runs is imported.
  expect(commandFiles.map((url) => url.replace(/.*\/dist\/commands\//, ''))).toEqual(['models.js']);
});
