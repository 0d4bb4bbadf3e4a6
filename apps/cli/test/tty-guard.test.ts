import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI_DIR } from './helpers.js';

/**
 * The terminal tests need `script`; without it they must not pass silently. This runs the
 * real tty.test.ts under vitest with a PATH where `script` cannot be found: a warning and
 * skipped tests normally, a failed file under CI.
 */
const run = promisify(execFile);
const vitest = join(
  dirname(createRequire(join(CLI_DIR, 'package.json')).resolve('vitest/package.json')),
  'vitest.mjs',
);

let emptyPath: string;
beforeAll(async () => {
  emptyPath = await mkdtemp(join(tmpdir(), 'falai-no-script-'));
});
afterAll(async () => {
  await rm(emptyPath, { recursive: true, force: true });
});

async function runTtyTests(extraEnv: Record<string, string>) {
  const env: Record<string, string> = {
    PATH: emptyPath,
    HOME: emptyPath,
    FALAI_TEST_SKIP_BUILD: '1',
    NO_COLOR: '1',
    ...extraEnv,
  };
  return run(process.execPath, [vitest, 'run', 'test/tty.test.ts'], { cwd: CLI_DIR, env }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: error.code ?? -1,
      output: (error.stdout ?? '') + (error.stderr ?? ''),
    }),
  );
}

it('without `script` the terminal tests skip with a warning, and fail under CI', async () => {
  const local = await runTtyTests({});
  expect(local.output).toContain('SKIPPING tty.test.ts');
  expect(local.output).toMatch(/skipped/);
  expect(local.code).toBe(0);

  const ci = await runTtyTests({ CI: '1' });
  expect(ci.code).not.toBe(0);
  expect(ci.output).toContain('`script` (util-linux) is not installed and CI is set');
}, 120_000);
