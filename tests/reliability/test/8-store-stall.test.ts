import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Emulator } from '@falai/emulator';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cliBin,
  cliEnv,
  keepEmulatorLog,
  openSpec,
  runCli,
  startFal,
  storeSpec,
  suite,
  workDir,
} from './helpers.js';

/**
 * Stores under stalls, through the built CLI against the emulator:
 * - a `falai submit` frozen right before its store commit (SIGSTOP, as a laptop suspend or an
 *   I/O stall would freeze it) for longer than the file store's stale-lock period, while a
 *   `poll --watch` and another `submit` keep writing: when it resumes, every acknowledged write
 *   of all three is still there (FALAI_TEST_STORE_STOP freezes the writer at that point);
 * - a `poll --watch` on Redis while Redis is killed and restarted: it rides the outage out and
 *   finalises everything instead of exiting.
 */

const ENDPOINT = 'fal-ai/nano-banana-pro';
const OUTPUT = { images: [{ url: 'https://example.invalid/out.png', content_type: 'image/png' }] };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emulator(name: string, runMs: number): Promise<Emulator> {
  const fal = await startFal();
  fal.setModel(ENDPOINT, { queueMs: [0, 0], runMs: [runMs, runMs], output: OUTPUT });
  cleanups.push(async () => {
    keepEmulatorLog(fal, name);
    await fal.close();
  });
  return fal;
}

/** A CLI process this test controls (signals), with what it printed so far. */
interface LiveCli {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  /** Resolves once stderr contains `text`; rejects if the process ends first. */
  waitForStderr(text: string): Promise<void>;
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startCli(args: readonly string[], env: NodeJS.ProcessEnv): LiveCli {
  const child = spawn(process.execPath, [cliBin(), ...args], {
    env,
    cwd: suite().runDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
    for (const waiter of waiters.filter((w) => output.stderr.includes(w.text))) waiter.resolve();
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, ...output })),
  );
  // A hung child must not outlive the test.
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  void exited.then(() => clearTimeout(timer));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
  return {
    child,
    output,
    exited,
    waitForStderr: (text) =>
      new Promise<void>((resolve, reject) => {
        if (output.stderr.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void exited.then((run) =>
          reject(
            new Error(
              `exited (${run.code}) before printing "${text}": ${run.stderr} ${run.stdout}`,
            ),
          ),
        );
      }),
  };
}

const requestIdOf = (stdout: string): string => JSON.parse(stdout).requestId;

describe('a CLI writer frozen before its store commit', () => {
  for (const point of ['snapshot', 'journal'] as const) {
    it(`never overwrites newer writes (frozen before its ${point === 'snapshot' ? 'rename' : 'journal append'})`, async () => {
      const fal = await emulator(`store-stall-${point}`, 15_000);
      const spec = storeSpec('file', `stall-${point}`);
      const env = cliEnv({ FALAI_STORE: spec, FALAI_BASE_URL: fal.url });
      const acknowledged: string[] = [];
      const submit = async (label: string) => {
        const run = await runCli(
          ['submit', ENDPOINT, JSON.stringify({ prompt: label }), '--json'],
          {
            env,
          },
        );
        expect(run.code, run.stderr).toBe(0);
        return requestIdOf(run.stdout);
      };
      for (const n of [1, 2]) acknowledged.push(await submit(`before ${n}`));
      if (point === 'snapshot') {
        // The store as an older falai wrote it (format 2, no journal): the frozen write is
        // then the upgrade to a new snapshot, a temp file and a rename.
        const path = spec.slice('file:'.length);
        const store = await openSpec(spec);
        const records = await store.list();
        await store.close();
        const lines = records.map((record) => JSON.stringify(record)).join(',\n');
        await writeFile(path, `{"version":2,"requests":[\n${lines}\n]}\n`);
        for (const name of await readdir(dirname(path))) {
          if (name.startsWith(`${basename(path)}.`) && name.endsWith('.journal')) {
            await rm(join(dirname(path), name));
          }
        }
      }

      // The long-lived user: it keeps claiming, updating and finalising while the writer is
      // frozen (its claims break the frozen writer's lock once it goes stale). On the old
      // format it starts once the writer is frozen, or its own first write would upgrade it.
      const watch = () =>
        startCli(['poll', '--watch', '--interval', '200ms', '--timeout', '150s', '--json'], env);
      let watcher = point === 'journal' ? watch() : undefined;
      const frozen = startCli(
        ['submit', ENDPOINT, JSON.stringify({ prompt: 'frozen' }), '--json'],
        {
          ...env,
          FALAI_TEST_STORE_STOP: point,
        },
      );
      await frozen.waitForStderr(`falai-test: store commit stopped (${point})`);
      watcher ??= watch();
      // Written and acknowledged while the frozen writer still holds its stale change.
      acknowledged.push(await submit('during'));

      frozen.child.kill('SIGCONT');
      const resumed = await frozen.exited;
      expect(resumed.code, resumed.stderr).toBe(0);
      acknowledged.push(requestIdOf(resumed.stdout));

      const watched = await watcher.exited;
      expect(watched.code, watched.stderr).toBe(0);
      const report = JSON.parse(watched.stdout) as { completed: { requestId: string }[] };

      const store = await openSpec(spec);
      try {
        const records = await store.list();
        const ids = records.map((r) => r.requestId);
        expect(acknowledged.filter((id) => !ids.includes(id))).toEqual([]);
        expect(ids.sort()).toEqual([...acknowledged].sort());
        // The watcher's finalisations (acknowledged updates) were not reverted either.
        const finalised = report.completed.map((item) => item.requestId);
        expect(finalised.sort()).toEqual([...acknowledged].sort());
        expect(records.filter((r) => r.status !== 'completed')).toEqual([]);
      } finally {
        await store.close();
      }
    });
  }
});

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer && process.env.CI) {
  throw new Error('redis-server is not installed and CI is set: the Redis restart test must run.');
}
if (!hasRedisServer) {
  console.warn('\n  ⚠ SKIPPING the Redis restart test: redis-server is not installed.\n');
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A redis-server of this test on `port`, persisting to `dir` so a restart keeps the data. */
async function startRedisServer(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  return child;
}

describe.skipIf(!hasRedisServer)('poll --watch on Redis while Redis restarts', () => {
  it('rides out the outage and finalises every request', async () => {
    const fal = await emulator('store-stall-redis', 6_000);
    const port = await freePort();
    const dir = workDir('redis-restart');
    let redis = await startRedisServer(port, dir);
    const spec = `redis://127.0.0.1:${port}?prefix=${suite().redisPrefix}-restart`;
    const env = cliEnv({ FALAI_STORE: spec, FALAI_BASE_URL: fal.url });
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const run = await runCli(
        ['submit', ENDPOINT, JSON.stringify({ prompt: `restart ${n}` }), '--json'],
        {
          env,
        },
      );
      expect(run.code, run.stderr).toBe(0);
      ids.push(requestIdOf(run.stdout));
    }

    // Human output: the notes on stderr show the outage was seen and ridden out.
    const watcher = startCli(['poll', '--watch', '--interval', '300ms', '--timeout', '120s'], env);
    // Once the watcher is polling, Redis goes away for a while, then comes back.
    while (!fal.log.some((entry) => entry.kind === 'status')) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    redis.kill('SIGTERM');
    await once(redis, 'exit');
    await watcher.waitForStderr('(retrying)');
    redis = await startRedisServer(port, dir);

    const watched = await watcher.exited;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stderr).toMatch(/failed to .*Check that Redis is running.*\(retrying\)/);
    for (const id of ids) expect(watched.stdout).toContain(`✓ ${id}  ${ENDPOINT}  completed`);
    expect(watched.stdout).toContain('3 finished, 0 still pending.');
    const store = await openSpec(spec);
    try {
      const records = await store.list();
      expect(records.map((r) => [r.requestId, r.status]).sort()).toEqual(
        ids.map((id) => [id, 'completed']).sort(),
      );
    } finally {
      await store.close();
    }
  });
});
