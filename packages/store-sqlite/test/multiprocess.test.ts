import { join } from 'node:path';
import {
  type BundledWorker,
  bundleWorker,
  minimalRecord,
  runConcurrentWorkers,
  tempDir,
} from '@falai/store-conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/index.js';

describe('sqlite store across processes', () => {
  let worker: BundledWorker;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    worker = await bundleWorker(join(import.meta.dirname, 'worker.ts'));
    tmp = await tempDir('store-sqlite-mp');
  }, 60_000);
  afterAll(async () => {
    await worker?.dispose();
    await tmp?.cleanup();
  });

  it('8 processes writing 50 records each end with exactly 400 records', async () => {
    const path = join(tmp.dir, 'pending.db');
    const runs = await runConcurrentWorkers(worker.file, {
      processes: 8,
      perProcess: 50,
      args: ['write', path],
    });
    for (const run of runs) expect(run.stderr).toBe('');
    expect(runs.map((run) => run.code)).toEqual(Array(8).fill(0));
    const store = createSqliteStore({ path });
    const records = await store.list();
    expect(records).toHaveLength(400);
    expect(new Set(records.map((r) => r.requestId)).size).toBe(400);
    const acknowledged = runs.flatMap((run) => run.stdout.trim().split('\n'));
    expect(acknowledged.sort()).toEqual(records.map((r) => r.requestId).sort());
    await store.close();
  }, 120_000);

  it('processes racing to finalise the same requests: each is finalised exactly once', async () => {
    const path = join(tmp.dir, 'race.db');
    const store = createSqliteStore({ path });
    for (let n = 0; n < 30; n++) {
      await store.put(minimalRecord({ requestId: `race-${n}`, status: 'running' }));
    }
    const runs = await runConcurrentWorkers(worker.file, {
      processes: 8,
      perProcess: 30,
      args: ['finalise', path],
    });
    expect(runs.map((run) => run.code)).toEqual(Array(8).fill(0));
    const wins = runs.flatMap((run) => run.stdout.split('\n').filter(Boolean));
    expect(wins).toHaveLength(30);
    expect(new Set(wins).size).toBe(30);
    expect((await store.list({ status: 'completed' })).length).toBe(30);
    await store.close();
  }, 120_000);
});
