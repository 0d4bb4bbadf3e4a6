import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SubmitOutputSchema } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, RUN_JS, SECRET, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: { defaultLatency: { queueMs: 10, runMs: 40 } } });
});
afterAll(async () => {
  await env.close();
});

/** The built `falai webhook serve` as a child process, with a way to wait for output. */
function startServe(args: readonly string[]) {
  const child = spawn(process.execPath, [RUN_JS, 'webhook', 'serve', '--port', '0', ...args], {
    cwd: env.dir,
    env: env.baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  exited.then(wake);
  const output = () => ({ stdout, stderr });
  async function waitFor(check: (out: { stdout: string; stderr: string }) => boolean) {
    while (!check(output())) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`webhook serve exited early:\n${stdout}\n${stderr}`);
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }
  return { child, exited, output, waitFor };
}

/** Submits one request to the emulator with the receiver as its webhook, recorded in the store. */
async function submitWithWebhook(url: string): Promise<string> {
  const submitted = await env.run([
    'submit',
    'fal-ai/nano-banana-pro',
    '--set',
    'prompt=a fox at night',
    '--webhook',
    url,
    '--json',
  ]);
  expect(submitted.code).toBe(0);
  return submitted.json(SubmitOutputSchema).requestId;
}

describe('falai webhook serve (built CLI, file store)', () => {
  it('stops cleanly on SIGINT after a delivery: exit 0, downloads finished, JSON summary last', async () => {
    const out = join(env.dir, 'renders');
    const serve = startServe(['--json', '--download', '--out', out]);
    await serve.waitFor(({ stdout }) => stdout.includes('"event":"listening"'));
    const listening = JSON.parse(serve.output().stdout.split('\n')[0]!) as { url: string };
    const requestId = await submitWithWebhook(listening.url);
    await serve.waitFor(({ stdout }) => stdout.includes('"event":"downloaded"'));

    serve.child.kill('SIGINT');
    const { code, signal } = await serve.exited;
    const { stdout, stderr } = serve.output();
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.event === 'finalised')).toMatchObject({
      requestId,
      status: 'completed',
    });
    expect(lines.at(-1)).toMatchObject({
      url: listening.url,
      finalised: 1,
      downloaded: 1,
      rejected: 0,
    });
    expect(stdout).not.toContain(SECRET);
  });

  it('prints "Stopped." on SIGTERM in human mode after a delivery', async () => {
    const serve = startServe([]);
    await serve.waitFor(({ stdout }) => stdout.includes('Listening for fal webhooks on '));
    const url = /Listening for fal webhooks on (\S+)/.exec(serve.output().stdout)![1]!;
    const requestId = await submitWithWebhook(url);
    await serve.waitFor(({ stdout }) => stdout.includes(`${requestId}  completed`));

    serve.child.kill('SIGTERM');
    const { code, signal } = await serve.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(serve.output().stderr).toContain('Stopped. 1 finalised, 0 duplicates');
  });
});
