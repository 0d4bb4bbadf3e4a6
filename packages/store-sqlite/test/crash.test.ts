import { join } from 'node:path';
import {
  type BundledWorker,
  bundleWorker,
  minimalRecord,
  runAndKill,
  tempDir,
} from '@falai/store-conformance';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/index.js';

describe('sqlite store: a writer killed with SIGKILL mid-write', () => {
  let worker: BundledWorker;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    worker = await bundleWorker(join(import.meta.dirname, 'worker.ts'));
    tmp = await tempDir('store-sqlite-crash');
  }, 60_000);
  afterAll(async () => {
    await worker?.dispose();
    await tmp?.cleanup();
  });

  it('loses no acknowledged record and the database stays intact', async () => {
    const path = join(tmp.dir, 'pending.db');
    const acknowledged: string[] = [];
    for (const [round, [killAfter, delayMs]] of [
      [5, 7],
      [2, 23],
      [30, 3],
      [1, 41],
    ].entries()) {
      const run = await runAndKill(
        worker.file,
        ['loop', path, String(round)],
        killAfter ?? 1,
        {},
        delayMs,
      );
      expect(run.signal).toBe('SIGKILL');
      acknowledged.push(...run.lines);
      const store = createSqliteStore({ path });
      const ids = new Set((await store.list()).map((r) => r.requestId));
      for (const id of acknowledged) expect(ids.has(id)).toBe(true);
      await store.close();
    }
    const check = new Database(path, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
    const store = createSqliteStore({ path });
    const after = minimalRecord();
    await store.put(after);
    expect(await store.get(after.requestId)).toEqual(after);
    await store.close();
  }, 120_000);
});
