import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorOutputSchema, ListOutputSchema } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIR, createTestEnv, type TestEnv } from './helpers.js';

/**
 * A paid request is never lost to a signal: SIGINT/SIGTERM while the submit POST is in
 * flight, or while the store write waits for another process's lock, leaves the request
 * recorded (or its id printed) and exits 130/143. The emulator holds the POST with a delay
 * fault; a second process holds the file store's lock.
 */
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  env.emulator!.setModel('acme/slow', { queueMs: 50, runMs: 60_000 });
});
afterAll(async () => {
  await env.close();
});

const INPUT = '{"prompt":"a paid request"}';
let storeSeq = 0;

/** A store file of its own for one test. */
function freshStore(): { path: string; spec: string } {
  const path = join(env.dir, `interrupts-${++storeSeq}.json`);
  return { path, spec: `file:${path}` };
}

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Makes the emulator sit on the next submit; `arrived` says when that POST is in flight. */
function holdNextSubmit(ms = 2000): { arrived: () => boolean; answered: () => boolean } {
  const emulator = env.emulator!;
  const before = emulator.log.filter((entry) => entry.kind === 'submit').length;
  emulator.inject({ match: { kind: 'submit' }, action: { type: 'delay', ms }, times: 1 });
  const entry = () => emulator.log.filter((item) => item.kind === 'submit')[before];
  return {
    arrived: () => entry() !== undefined,
    answered: () => (entry()?.status ?? 0) > 0,
  };
}

/** Sends `signal` to the CLI once `ready` holds. */
function signalWhen(ready: () => boolean, signal: NodeJS.Signals) {
  return (child: ChildProcess) => {
    void until(ready).then(() => child.kill(signal));
  };
}

async function listed(spec: string) {
  const list = await env.run(['list', '--all', '--json'], { env: { FALAI_STORE: spec } });
  return list.json(ListOutputSchema).requests;
}

/** Another process holding the file store's lock, as a second falai would. */
async function holdLock(storePath: string) {
  const holder = spawn(
    process.execPath,
    [join(CLI_DIR, 'test/fixtures/hold-lock.mjs'), storePath],
    {
      cwd: CLI_DIR,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let out = '';
  holder.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise<void>((resolve) => holder.on('close', () => resolve()));
  await until(() => out.includes('locked'));
  return {
    release: async () => {
      holder.stdin.end('release\n');
      await exited;
    },
  };
}

describe('a signal during the submit POST', () => {
  it('submit: SIGINT is held until the request is recorded, then exit 130 with its id', async () => {
    const store = freshStore();
    const hold = holdNextSubmit();
    const result = await env.run(['submit', 'fal-ai/nano-banana-pro', INPUT, '--json'], {
      env: { FALAI_STORE: store.spec },
      onSpawn: signalWhen(hold.arrived, 'SIGINT'),
    });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(130);
    const { error } = result.json(ErrorOutputSchema);
    expect(error.code).toBe('ABORTED');
    const details = error.details as Record<string, unknown>;
    expect(details).toMatchObject({ recorded: true, signal: 'SIGINT' });
    const requestId = String(details.requestId);
    expect(error.message).toContain(`falai wait ${requestId}`);
    expect(result.stderr).toMatch(/Interrupted \(SIGINT\): waiting for fal to answer/);
    // Recorded, and accepted by fal exactly once.
    const records = await listed(store.spec);
    expect(records.map((record) => record.requestId)).toEqual([requestId]);
    expect(env.emulator!.job(requestId)).toBeDefined();
  });

  it('run: SIGTERM is held until the request is recorded, then exit 143 without waiting', async () => {
    const store = freshStore();
    const hold = holdNextSubmit();
    const result = await env.run(['run', 'acme/slow', INPUT], {
      env: { FALAI_STORE: store.spec },
      onSpawn: signalWhen(hold.arrived, 'SIGTERM'),
    });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(143);
    const records = await listed(store.spec);
    expect(records).toHaveLength(1);
    const requestId = records[0]!.requestId;
    expect(records[0]!.status).toBe('queued');
    expect(result.stderr).toContain(
      `after request ${requestId} was submitted to acme/slow and recorded; it is still pending. Resume with: falai wait ${requestId} --download`,
    );
    // It stopped at once: no status call was made for the request.
    expect(
      env.emulator!.log.filter((entry) => entry.requestId === requestId && entry.kind !== 'submit'),
    ).toEqual([]);
  });
});

describe('a signal while the store write waits for another process', () => {
  it('SIGTERM while the lock is held: the record is written once the lock is free, exit 143', async () => {
    const store = freshStore();
    const lock = await holdLock(store.path);
    const hold = holdNextSubmit(200);
    let stderr = '';
    const running = env.run(['submit', 'fal-ai/nano-banana-pro', INPUT, '--json'], {
      env: { FALAI_STORE: store.spec },
      onSpawn: signalWhen(hold.answered, 'SIGTERM'),
      onStderr: (chunk) => {
        stderr += chunk;
      },
    });
    // The id is on stderr as soon as the signal meets a request fal has named.
    await until(() => /recording request \S+ \(fal-ai\/nano-banana-pro\)/.test(stderr));
    const requestId = /recording request (\S+)/.exec(stderr)![1]!;
    expect(stderr).toContain(`falai wait fal-ai/nano-banana-pro ${requestId}`);
    await lock.release();
    const result = await running;
    expect(result.code).toBe(143);
    const { error } = result.json(ErrorOutputSchema);
    expect(error.details).toMatchObject({ requestId, recorded: true, signal: 'SIGTERM' });
    const records = await listed(store.spec);
    expect(records.map((record) => record.requestId)).toEqual([requestId]);
  });

  it('a second SIGTERM stops waiting for the lock: exit 143 with the id, endpoint and resume command', async () => {
    const store = freshStore();
    const lock = await holdLock(store.path);
    try {
      const hold = holdNextSubmit(200);
      let stderr = '';
      const result = await env.run(['submit', 'fal-ai/nano-banana-pro', INPUT, '--json'], {
        env: { FALAI_STORE: store.spec },
        onSpawn: signalWhen(hold.answered, 'SIGTERM'),
        onStderr: (chunk, child) => {
          const before = stderr;
          stderr += chunk;
          if (!/recording request/.test(before) && /recording request/.test(stderr)) {
            child.kill('SIGTERM');
          }
        },
      });
      expect(result.signal).toBeNull();
      expect(result.code).toBe(143);
      const { error } = result.json(ErrorOutputSchema);
      expect(error.code).toBe('ABORTED');
      const details = error.details as Record<string, unknown>;
      const requestId = String(details.requestId);
      expect(details).toMatchObject({
        endpointId: 'fal-ai/nano-banana-pro',
        recorded: false,
        signal: 'SIGTERM',
        resume: `falai wait fal-ai/nano-banana-pro ${requestId}`,
      });
      expect(error.message).toContain(
        `Keep this id: falai wait fal-ai/nano-banana-pro ${requestId}`,
      );
      expect(result.stderr).toContain(`falai wait fal-ai/nano-banana-pro ${requestId}`);
      expect(env.emulator!.job(requestId)).toBeDefined();
      // Nothing was written behind the lock's back.
      await expect(readFile(store.path, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await lock.release();
    }
  });
});
