import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorOutputSchema, ListOutputSchema } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

/**
 * `--timeout` covers the whole command: for `run` the submit, the wait and the download; for
 * `wait` the wait and the download. The emulator's CDN stalls (a long delay before it
 * answers a file GET), which no timeout used to bound.
 */
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  env.emulator!.clearFaults();
  await env.close();
});

/** The CDN answers no file request for far longer than any --timeout below. */
function stallDownloads(): void {
  env.emulator!.inject({ match: { kind: 'file' }, action: { type: 'delay', ms: 25_000 } });
}

describe('--timeout covers the download', () => {
  it('run: a stalled CDN ends in TIMEOUT (exit 6) that says falai download resumes', async () => {
    stallDownloads();
    try {
      const out = join(env.dir, 'run-out');
      const result = await env.run([
        'run',
        'fal-ai/nano-banana-pro',
        '{"prompt":"stalled"}',
        '--timeout',
        '3s',
        '--out',
        out,
        '--json',
      ]);
      expect(result.code).toBe(6);
      const { error } = result.json(ErrorOutputSchema);
      expect(error.code).toBe('TIMEOUT');
      const requestId = String((error.details as { requestId: string }).requestId);
      expect(error.message).toContain(`falai download ${requestId}`);
      expect(error.message).toContain('--timeout 3s');
      // The request completed and is recorded with its result: download can pick it up.
      const list = await env.run(['list', '--all', '--json']);
      const record = list.json(ListOutputSchema).requests.find((r) => r.requestId === requestId);
      expect(record?.status).toBe('completed');
      // No partial file is left behind.
      expect((await readdir(out).catch(() => [])).filter((name) => name.endsWith('.part'))).toEqual(
        [],
      );
    } finally {
      env.emulator!.clearFaults();
    }
  });

  it('wait --download: the same bound, human mode', async () => {
    const submitted = await env.run(['submit', 'fal-ai/nano-banana-pro', '{"prompt":"later"}']);
    expect(submitted.code).toBe(0);
    const requestId = submitted.stdout.trim();
    stallDownloads();
    try {
      const result = await env.run([
        'wait',
        requestId,
        '--download',
        '--timeout',
        '3s',
        '--out',
        join(env.dir, 'wait-out'),
      ]);
      expect(result.code).toBe(6);
      expect(result.stderr).toContain(`save its files with: falai download ${requestId}`);
    } finally {
      env.emulator!.clearFaults();
    }
    const again = await env.run(['download', requestId, '--out', join(env.dir, 'wait-out')]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(requestId);
  });
});
