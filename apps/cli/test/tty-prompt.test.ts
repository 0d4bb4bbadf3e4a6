import { spawn, spawnSync } from 'node:child_process';
import { ListOutputSchema } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, RUN_JS, SECRET, type TestEnv } from './helpers.js';

/**
 * The "cancel or leave pending?" prompt after Ctrl-C in `run`: a second Ctrl-C or a Ctrl-D
 * answers "leave it" (exit 130 with the resume hint), never a crash. Runs on a pseudo-terminal
 * made by `script` (util-linux); under CI a missing `script` fails this file.
 */
const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript && process.env.CI) {
  throw new Error('`script` (util-linux) is needed for the terminal tests under CI.');
}

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  env.emulator!.setModel('acme/tty-prompt', { runMs: 60_000, logs: ['working'] });
});
afterAll(async () => {
  await env.close();
});

/** Runs the CLI on a pseudo-terminal; `script -e` exits with the command's status. */
function onTty(args: readonly string[], store: string) {
  const command = [process.execPath, RUN_JS, ...args]
    .map((part) => `'${part.replaceAll("'", "'\\''")}'`)
    .join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: env.dir,
    env: { ...env.baseEnv, FALAI_STORE: store, TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(output)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return {
    child,
    exited,
    output: () => output,
    waitFor: (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        if (pattern.test(output)) resolve();
        else waiters.push({ pattern, resolve });
      }),
  };
}

describe.skipIf(!hasScript)('the cancel prompt on a terminal', () => {
  for (const [name, key] of [
    ['a second Ctrl-C', '\x03'],
    ['Ctrl-D', '\x04'],
  ] as const) {
    it(`${name} at the prompt leaves the request pending: exit 130 with the resume hint`, async () => {
      const store = `file:${env.dir}/prompt-${key.charCodeAt(0)}.json`;
      const tty = onTty(['run', 'acme/tty-prompt', '{"prompt":"leave"}'], store);
      await tty.waitFor(/running|queued/);
      tty.child.stdin.write('\x03');
      await tty.waitFor(/Cancel the request or leave it pending\? \[c\/L\]/);
      tty.child.stdin.write(key);
      expect(await tty.exited).toBe(130);
      const output = tty.output();
      expect(output).toMatch(/still pending\. Resume with: falai wait \S+ --download/);
      expect(output).not.toContain('Unexpected error');
      expect(output).not.toContain(SECRET);
      const list = await env.run(['list', '--json'], { env: { FALAI_STORE: store } });
      const requests = list.json(ListOutputSchema).requests;
      expect(requests).toHaveLength(1);
      expect(['queued', 'running']).toContain(requests[0]!.status);
      expect(env.emulator!.job(requests[0]!.requestId)?.cancelled).toBeFalsy();
    });
  }
});
