import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  const loaded = await readFile(trace, 'utf8');
  expect(loaded).toContain('store-file');
  for (const heavy of [
    'mediabunny',
    'file-type',
    'image-size',
    'sharp',
    'eventsource-parser',
    'packages/emulator',
    'better-sqlite3',
    'ioredis',
  ]) {
    expect(loaded, heavy).not.toContain(heavy);
  }
});
