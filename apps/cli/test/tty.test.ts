import { spawn } from 'node:child_process';
import { ListOutputSchema } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, RUN_JS, SECRET, type TestEnv } from './helpers.js';
import { hasScript, requireScript } from './pty.js';

// Without `script` these tests skip with a warning, and fail under CI (see pty.ts).
requireScript('tty.test.ts');

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  // Honours cancel (fal's running apps may not: by default the emulator's finish anyway), so
  // "c" really cancels, and the request left pending can be stopped to free the account's slot.
  env.emulator!.setModel('acme/tty-slow', {
    runMs: 60_000,
    cancelAware: true,
    logs: [
      { message: 'warming up', atMs: 10 },
      { message: 'denoising step 1', atMs: 50 },
    ],
  });
  env.emulator!.setModel('acme/tty-fast', { queueMs: 10, runMs: 50, logs: ['quiet log line'] });
});
afterAll(async () => {
  await env.close();
});

/** Runs the CLI on a pseudo-terminal; `script -e` exits with the command's status. */
function onTty(args: readonly string[]) {
  const command = [process.execPath, RUN_JS, ...args]
    .map((part) => `'${part.replaceAll("'", "'\\''")}'`)
    .join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: env.dir,
    env: { ...env.baseEnv, TERM: 'xterm' },
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

describe.skipIf(!hasScript)('on a terminal', () => {
  it('run shows a progress line with the state, and Ctrl-C then "c" cancels the request', async () => {
    const tty = onTty(['run', 'acme/tty-slow', '{"prompt":"slow"}']);
    await tty.waitFor(/running/);
    expect(tty.output()).toMatch(/⠋|⠙|⠹|⠸|⠼|⠴|⠦|⠧|⠇|⠏/);
    // New log lines reach the terminal while the request runs, each once.
    await tty.waitFor(/│ denoising step 1/);
    expect(tty.output()).toContain('│ warming up');
    expect(tty.output().split('│ warming up').length).toBe(2);
    tty.child.stdin.write('\x03');
    await tty.waitFor(/Cancel the request or leave it pending\? \[c\/L\]/);
    tty.child.stdin.write('c\r');
    expect(await tty.exited).toBe(130);
    expect(tty.output()).toMatch(/was cancelled/);
    expect(tty.output()).not.toContain(SECRET);
    const list = (await env.run(['list', '--all', '--status', 'cancelled', '--json'])).json(
      ListOutputSchema,
    );
    expect(list.count).toBe(1);
    const requestId = list.requests[0]!.requestId;
    expect(env.emulator!.job(requestId)?.cancelled).toBe(true);
  });

  it('Ctrl-C then Enter leaves the request pending', async () => {
    const tty = onTty(['run', 'acme/tty-slow', '{"prompt":"leave"}']);
    await tty.waitFor(/running|queued/);
    tty.child.stdin.write('\x03');
    await tty.waitFor(/\[c\/L\]/);
    tty.child.stdin.write('\r');
    expect(await tty.exited).toBe(130);
    expect(tty.output()).toMatch(/still pending\. Resume with: falai wait/);
    const list = (await env.run(['list', '--json'])).json(ListOutputSchema);
    expect(list.count).toBe(1);
    // Stop it: a 60 s job would hold one of the emulator's two running slots (fal's default).
    const cancelled = await env.run(['cancel', list.requests[0]!.requestId]);
    expect(cancelled.code).toBe(0);
  });

  it('--quiet drops notes, progress and logs on a terminal but still prints the result', async () => {
    const out = `${env.dir}/quiet-out`;
    const tty = onTty(['run', 'acme/tty-fast', '{"prompt":"hush"}', '--quiet', '--out', out]);
    expect(await tty.exited).toBe(0);
    const output = tty.output();
    expect(output).toContain(out);
    expect(output).not.toContain('Submitted');
    expect(output).not.toContain('quiet log line');
    expect(output).not.toMatch(/⠋|⠙|⠹|⠸|⠼|⠴|⠦|⠧|⠇|⠏/);

    const loud = onTty(['run', 'acme/tty-fast', '{"prompt":"loud"}', '--out', out]);
    expect(await loud.exited).toBe(0);
    expect(loud.output()).toContain('Submitted');
  });
});
