import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmulatorOutputSchema, RunOutputSchema } from '@falai/core';
import * as v from 'valibot';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, RUN_JS, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: false });
});
afterAll(async () => {
  await env.close();
});

/** The README's offline demo: `falai emulator`, then `falai run …` against it. */
it('falai emulator serves fal locally until SIGINT, and falai run makes a real image with it', async () => {
  const child = spawn(process.execPath, [RUN_JS, 'emulator', '--port', '0', '--json'], {
    env: env.baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline >= 0) resolve(buffer.slice(0, newline));
    });
    child.on('close', (code) => reject(new Error(`emulator exited early (${code}): ${buffer}`)));
  });
  const { url, env: exports } = v.parse(EmulatorOutputSchema, JSON.parse(firstLine));
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(exports.FALAI_BASE_URL).toBe(url);

  const out = join(env.dir, 'demo');
  const result = await env.run(
    [
      'run',
      'fal-ai/nano-banana-pro',
      '--set',
      'prompt=a lighthouse at dusk',
      '--out',
      out,
      '--json',
    ],
    { env: { FALAI_BASE_URL: url } },
  );
  expect(result.code).toBe(0);
  const output = result.json(RunOutputSchema);
  const bytes = await readFile(output.outputs[0]!.path);
  expect(bytes.subarray(0, 4).toString('latin1')).toBe('\x89PNG');

  child.kill('SIGINT');
  expect(await exited).toBe(0);
});
