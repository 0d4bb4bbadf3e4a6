import { join } from 'node:path';
import {
  type BundledWorker,
  bundleWorker,
  minimalRecord,
  runConcurrentWorkers,
} from '@falai/store-conformance';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';
import { adminClient, deletePrefix, describeWithRedis, REDIS_URL, testPrefix } from './helpers.js';

describeWithRedis('redis store across processes', () => {
  let worker: BundledWorker;
  const root = testPrefix('mp');
  const admin = adminClient();
  beforeAll(async () => {
    worker = await bundleWorker(join(import.meta.dirname, 'worker.ts'));
  }, 60_000);
  afterAll(async () => {
    await worker?.dispose();
    await deletePrefix(admin, root);
    admin.disconnect();
  });

  it('8 processes writing 50 records each end with exactly 400 records', async () => {
    const prefix = `${root}-write`;
    const runs = await runConcurrentWorkers(worker.file, {
      processes: 8,
      perProcess: 50,
      args: ['write', prefix],
      env: { REDIS_URL },
    });
    for (const run of runs) expect(run.stderr).toBe('');
    expect(runs.map((run) => run.code)).toEqual(Array(8).fill(0));
    const store = createRedisStore({ url: REDIS_URL, prefix });
    const records = await store.list();
    expect(records).toHaveLength(400);
    const acknowledged = runs.flatMap((run) => run.stdout.trim().split('\n'));
    expect(acknowledged.sort()).toEqual(records.map((r) => r.requestId).sort());
    await store.close();
  }, 120_000);

  it('processes racing to finalise the same requests: each is finalised exactly once', async () => {
    const prefix = `${root}-race`;
    const store = createRedisStore({ url: REDIS_URL, prefix });
    for (let n = 0; n < 30; n++) {
      await store.put(minimalRecord({ requestId: `race-${n}`, status: 'running' }));
    }
    const runs = await runConcurrentWorkers(worker.file, {
      processes: 8,
      perProcess: 30,
      args: ['finalise', prefix],
      env: { REDIS_URL },
    });
    expect(runs.map((run) => run.code)).toEqual(Array(8).fill(0));
    const wins = runs.flatMap((run) => run.stdout.split('\n').filter(Boolean));
    expect(wins).toHaveLength(30);
    expect(new Set(wins).size).toBe(30);
    expect(await store.list({ status: 'completed' })).toHaveLength(30);
    await store.close();
  }, 120_000);
});
