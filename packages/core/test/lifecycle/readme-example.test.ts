import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonExact } from '../../src/json/index.js';
import type { OutputFile, PendingRecord } from '../../src/store/index.js';
import { GOOD_KEY, GOOD_SECRET, logged, startTestEmulator } from '../queue/emulator-harness.js';

/**
 * The first example of the core README, run verbatim in a fresh Node process against the
 * emulator, the way a program that installed `@falai/core` and `@falai/store-file` runs it:
 * settings from the environment (`FALAI_BASE_URL`, `FAL_KEY`, `FALAI_STORE`), the file store
 * found in the application's node_modules. Then a second process re-attaches by request id.
 * Both processes run the built packages (`dist/`): turbo builds them before this test.
 */
const CORE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STORE_FILE_DIR = resolve(CORE_DIR, '..', 'store-file');

let emulator: Emulator;
let app: string;
let env: Record<string, string>;

/** The first TypeScript block of the README: the example the test runs as it is written. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(CORE_DIR, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error('packages/core/README.md has no ```ts example');
  return match[1];
}

function runNode(
  script: string,
  args: readonly string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  for (const built of [
    join(CORE_DIR, 'dist', 'index.js'),
    join(STORE_FILE_DIR, 'dist', 'index.js'),
  ])
    if (!existsSync(built)) throw new Error(`${built} is missing: run pnpm build first.`);
  emulator = await startTestEmulator();
  app = await mkdtemp(join(tmpdir(), 'falai-readme-'));
  // An application folder with both packages installed (links to this checkout's builds).
  await mkdir(join(app, 'node_modules', '@falai'), { recursive: true });
  await symlink(CORE_DIR, join(app, 'node_modules', '@falai', 'core'), 'dir');
  await symlink(STORE_FILE_DIR, join(app, 'node_modules', '@falai', 'store-file'), 'dir');
  await writeFile(join(app, 'package.json'), '{ "type": "module", "private": true }\n');
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(app, 'home'),
    XDG_CONFIG_HOME: join(app, 'config'),
    XDG_STATE_HOME: join(app, 'state'),
    FAL_KEY: GOOD_KEY,
    FALAI_BASE_URL: emulator.url,
    FALAI_STORE: `file:${join(app, 'pending.json')}`,
  };
});
afterAll(async () => {
  await emulator?.close();
  if (app) await rm(app, { recursive: true, force: true });
});

describe('the README example', () => {
  it('runs as written, and a second process re-attaches by request id without a new submit', async () => {
    await writeFile(join(app, 'example.mjs'), await readmeExample());
    const first = await runNode('example.mjs');
    expect(first.stderr).not.toContain(GOOD_SECRET);
    expect(first.code, first.stderr).toBe(0);

    // Progress was reported: the submit, the wait, the saved files.
    const phases = first.stderr.split('\n').filter(Boolean);
    expect(phases).toEqual(expect.arrayContaining(['submitted', 'completed', 'saved']));
    const requestId = first.stdout.trim().split(/\s+/)[0] as string;
    const job = emulator.job(requestId);
    expect(job?.input).toEqual({ prompt: 'a lighthouse' });

    // The outputs are in ./out, under the names the example printed.
    const saved = await readdir(join(app, 'out'));
    expect(saved.length).toBeGreaterThan(0);
    for (const name of saved) {
      expect(first.stdout).toContain(join(app, 'out', name));
      expect((await stat(join(app, 'out', name))).size).toBeGreaterThan(0);
    }

    // A second process: the store has the request; its result and files need no new submit.
    await writeFile(
      join(app, 'reattach.mjs'),
      [
        "import { falai, stringifyJsonExact } from '@falai/core';",
        'const job = await falai.job(process.argv[2]);',
        'const done = await job.result();',
        "const files = await job.download('./again');",
        'process.stdout.write(stringifyJsonExact({ endpointId: job.endpointId, output: done.output, files, record: await job.record() }));',
        '',
      ].join('\n'),
    );
    const resultCalls = logged(emulator, 'result', requestId).length;
    const second = await runNode('reattach.mjs', [requestId]);
    expect(second.code, second.stderr).toBe(0);
    const reattached = parseJsonExact(second.stdout) as {
      endpointId: string;
      output: unknown;
      files: OutputFile[];
      record: PendingRecord;
    };
    expect(reattached.endpointId).toBe('fal-ai/nano-banana-pro');
    expect(reattached.output).toEqual(job?.output);
    expect(reattached.files).toHaveLength(saved.length);
    for (const file of reattached.files) {
      expect(file.path.startsWith(join(app, 'again'))).toBe(true);
      expect((await stat(file.path)).size).toBe(file.size);
    }
    // The record in the file store: provenance, and the files of the latest download.
    expect(reattached.record).toMatchObject({
      requestId,
      endpointId: 'fal-ai/nano-banana-pro',
      status: 'completed',
      input: { fields: { prompt: 'a lighthouse' }, files: [] },
      outputs: reattached.files,
    });
    expect(reattached.record.completedAt).toBeDefined();

    // One submit in all, and the second process answered from the store (no result call).
    expect(logged(emulator, 'submit')).toHaveLength(1);
    expect(logged(emulator, 'result', requestId)).toHaveLength(resultCalls);
    expect(await readFile(join(app, 'pending.json'), 'utf8')).not.toContain(GOOD_SECRET);
  });
});
