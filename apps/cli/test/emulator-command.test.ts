import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmulatorOutputSchema, ErrorOutputSchema, RunOutputSchema } from '@falai/core';
import * as v from 'valibot';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, FAL_KEY, RUN_JS, type TestEnv } from './helpers.js';

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

/** Starts `falai emulator <args> --json` and resolves with its URL once it listens. */
async function startCommand(
  args: readonly string[],
): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [RUN_JS, 'emulator', '--port', '0', '--json', ...args], {
    env: env.baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  const line = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline >= 0) resolve(buffer.slice(0, newline));
    });
    let errors = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      errors += chunk;
    });
    child.on('close', (code) =>
      reject(new Error(`emulator exited early (${code}): ${buffer}${errors}`)),
    );
  });
  return { url: v.parse(EmulatorOutputSchema, JSON.parse(line)).url, child, exited };
}

const auth = { authorization: `Key ${FAL_KEY}`, 'content-type': 'application/json' };

it('takes the emulator flags of `pnpm emulator`: --strict, --concurrency, --model, --fault, --time-scale, --log-file', async () => {
  const logFile = join(env.dir, 'emulator-log.ndjson');
  const { url, child, exited } = await startCommand([
    '--strict',
    '--concurrency',
    '1',
    '--time-scale',
    '0.00001',
    '--bandwidth',
    '64k',
    '--model',
    'acme/slow={"queueMs":60000,"queueDepth":2}',
    '--model',
    'acme/fast={"queueMs":0,"runMs":0,"output":{"images":[]}}',
    '--fault',
    '{"match":{"kind":"submit","endpointId":"acme/slow"},"action":{"type":"status","status":503},"times":1}',
    '--log-file',
    logFile,
  ]);
  const submit = (endpoint: string) =>
    fetch(`${url}/${endpoint}`, { method: 'POST', headers: auth, body: '{}' });
  // --strict: an endpoint id the emulator does not know is a 404.
  expect((await submit('acme/unknown')).status).toBe(404);
  // --fault, then --model (the phantom queue depth shows in queue_position).
  expect((await submit('acme/slow')).status).toBe(503);
  const slow = await submit('acme/slow');
  expect(((await slow.json()) as { queue_position: number }).queue_position).toBe(2);
  // --concurrency reaches the emulator.
  const stats = (await (await fetch(`${url}/_emulator/stats`)).json()) as { concurrency: number };
  expect(stats.concurrency).toBe(1);
  // --time-scale: at 1/100,000 an hour of retention is 36 ms, then the result is gone.
  const fast = (await (await submit('acme/fast')).json()) as { status_url: string };
  let code = 0;
  for (let tries = 0; tries < 400 && code !== 404; tries++) {
    code = (await fetch(fast.status_url, { headers: auth })).status;
    if (code !== 404) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(code).toBe(404);
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  const kinds = (await readFile(logFile, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { kind: string }).kind);
  expect(kinds.slice(0, 3)).toEqual(['submit', 'submit', 'submit']);
});

it("explains bad emulator flags with the emulator's own messages (exit 2)", async () => {
  const bandwidth = await env.run(['emulator', '--port', '0', '--bandwidth', 'fast']);
  expect(bandwidth.code).toBe(2);
  expect(bandwidth.stderr).toContain('--bandwidth expects bytes per second, e.g. 65536, 64k or 1m');
  const model = await env.run(['emulator', '--port', '0', '--model', 'acme/app', '--json']);
  expect(model.code).toBe(2);
  expect(model.json(ErrorOutputSchema).error).toMatchObject({
    code: 'USAGE',
    message: expect.stringContaining('--model expects <endpoint id>=<json>'),
  });
});

it('says which flag fixes a busy port instead of "listen EADDRINUSE"', async () => {
  const { startEmulator } = await import('@falai/emulator');
  const busy = await startEmulator({ port: 0 });
  try {
    const result = await env.run(['emulator', '--port', String(busy.port)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `port ${busy.port} is in use; pick another with --port (0 picks a free one)`,
    );
    expect(result.stderr).not.toContain('EADDRINUSE');
  } finally {
    await busy.close();
  }
});
