import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, createTestEnv, redisForTest, type TestEnv } from './helpers.js';

/**
 * `falai batch run --distributed` and `falai batch worker` end to end: the built CLI, the
 * emulator, a real Redis. One host enqueues and works; a worker process on the same Redis
 * takes rows too; the batch completes with each row submitted once and the manifest written.
 */
const redisUrl = await redisForTest('the distributed batch CLI tests');
const prefix = `falaitest-cli-bq-${randomBytes(6).toString('hex')}`;
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv({
    // fal's per-account limit lifted: the queue's global limit is what bounds the rows.
    emulator: { concurrency: Number.POSITIVE_INFINITY, defaultLatency: { queueMs: 0, runMs: 150 } },
  });
});
afterAll(async () => {
  await env.close();
  if (!redisUrl) return;
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
});

describe.skipIf(!redisUrl)('falai batch run --distributed / batch worker', () => {
  const store = () => `${redisUrl?.replace(/\/$/, '')}?prefix=${prefix}`;

  it('a run that enqueues and works, plus a worker process, completes the batch once', async () => {
    const rows = Array.from({ length: 16 }, (_, i) => `d${i},distributed shot ${i}`).join('\n');
    await writeFile(join(env.dir, 'dist.csv'), `id,prompt\n${rows}\n`);
    let worker: ChildProcess | undefined;
    let ready: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const workerRun: Promise<CliResult> = env.run(
      ['batch', 'worker', '--store', store(), '--concurrency', '2'],
      {
        onSpawn: (child) => {
          worker = child;
        },
        onStderr: (chunk) => {
          if (chunk.includes('Working on batches')) ready();
        },
      },
    );
    await started;
    const run = await env.run([
      'batch',
      'run',
      'dist.csv',
      '--model',
      'fal-ai/nano-banana-pro',
      '--distributed',
      '--store',
      store(),
      '--concurrency',
      '3',
      '--manifest',
      'dist.jsonl',
      '--json',
    ]);
    worker?.kill('SIGTERM');
    const stopped = await workerRun;
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      batch: string;
      counts: { completed: number };
      finishedHere: number;
      lost: number;
    };
    expect(result.counts.completed).toBe(16);
    expect(result.lost).toBe(0);
    // The other rows were the worker process's.
    expect(stopped.code).toBe(0);
    const byWorker = stopped.stderr
      .split('\n')
      .filter((line) => line.startsWith('{"type":"row"'))
      .map((line) => JSON.parse(line) as { status: string });
    expect(byWorker.length + result.finishedHere).toBe(16);
    expect(byWorker.length).toBeGreaterThan(0);
    expect(stopped.stdout).toContain(`${byWorker.length} row(s) finished by this worker`);
    // Progress events on stderr (no terminal), the manifest with every row.
    const events = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; distributed?: boolean });
    expect(events.at(-1)).toMatchObject({ type: 'progress', distributed: true });
    const manifest = (await readFile(join(env.dir, 'dist.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { row: number; status: string });
    expect(manifest.map((entry) => entry.row).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    expect(manifest.every((entry) => entry.status === 'completed')).toBe(true);
    // Each row went to fal once, within the global limit of 3.
    const prompts = (env.emulator?.jobs() ?? [])
      .map((job) => String((job.input as { prompt?: unknown }).prompt))
      .filter((prompt) => prompt.startsWith('distributed shot '));
    expect(prompts).toHaveLength(16);
    expect(new Set(prompts).size).toBe(16);
    expect(Math.max(...Object.values(env.emulator?.stats.peakRunning ?? {}))).toBeLessThanOrEqual(
      3,
    );

    // status sees the batch through the queue; a second run submits nothing.
    const status = await env.run([
      'batch',
      'status',
      result.batch.slice(0, 12),
      '--store',
      store(),
      '--json',
    ]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      batch: result.batch,
      distributed: { total: 16, finished: 16, running: 0, queued: 0, counts: { completed: 16 } },
    });
    const again = await env.run([
      'batch',
      'run',
      'dist.csv',
      '--model',
      'fal-ai/nano-banana-pro',
      '--distributed',
      '--store',
      store(),
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ queued: 0, counts: { completed: 16 } });
    expect((env.emulator?.jobs() ?? []).length).toBe(16);
  });

  it('--distributed needs a Redis store, and says how to give one', async () => {
    await writeFile(join(env.dir, 'one.jsonl'), '{"prompt":"one"}\n');
    const run = await env.run([
      'batch',
      'run',
      'one.jsonl',
      '--model',
      'fal-ai/nano-banana-pro',
      '--distributed',
      '--json',
    ]);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout).error).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('--store redis://'),
    });
  });
});
