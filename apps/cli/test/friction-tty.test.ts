import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, SECRET, type TestEnv } from './helpers.js';
import { hasScript, onTty, requireScript } from './pty.js';

requireScript('friction-tty.test.ts');

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  env.emulator!.setModel('acme/narrow', {
    queueMs: 0,
    runMs: 60_000,
    cancelAware: true,
    logs: [{ message: 'started', atMs: 10 }],
  });
});
afterAll(async () => {
  await env.close();
});

describe.skipIf(!hasScript)('on a narrow terminal', () => {
  it('the progress line fits 50 columns, so redrawing it never leaves copies behind', async () => {
    const tty = onTty(['run', 'acme/narrow', '{"prompt":"narrow"}'], {
      env: env.baseEnv,
      cwd: env.dir,
      columns: 50,
    });
    // Several frames of the spinner (it redraws every 120 ms), each while running.
    await tty.waitFor(/(running[^\r]*\r\x1b\[2K[^\r]*){4}/);
    tty.child.stdin.write('\x03');
    await tty.waitFor(/\[c\/L\]/);
    tty.child.stdin.write('c\r');
    expect(await tty.exited).toBe(130);
    const frames = tty
      .output()
      .split('^C')[0]!
      .split('\r\x1b[2K')
      .slice(1)
      .map((frame) => frame.split(/[\r\n]/)[0] ?? '')
      .filter((frame) => /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(frame));
    expect(frames.length).toBeGreaterThanOrEqual(4);
    for (const frame of frames) expect(Array.from(frame).length).toBeLessThan(50);
    // The request id is still recognisable, cut with an ellipsis.
    expect(frames.at(-1)).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] [0-9a-f-]+/);
    expect(frames.some((frame) => frame.endsWith('…'))).toBe(true);
    expect(tty.output()).not.toContain(SECRET);
  });

  it('a mistyped command on a terminal suggests the right one and asks nothing', async () => {
    const tty = onTty(['sumbit', 'fal-ai/nano-banana-pro', '--set', 'prompt=x'], {
      env: env.baseEnv,
      cwd: env.dir,
    });
    expect(await tty.exited).toBe(127);
    expect(tty.output()).toContain('Did you mean submit?');
    expect(tty.output()).not.toContain('to-data-uri');
    expect(tty.output()).not.toMatch(/\(Y\/n\)/i);
  });
});
