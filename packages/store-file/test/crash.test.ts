import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BundledWorker,
  bundleWorker,
  fullRecord,
  minimalRecord,
  runAndKill,
  tempDir,
} from '@falai/store-conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../src/index.js';

describe('file store: a writer killed with SIGKILL mid-write', () => {
  let worker: BundledWorker;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    worker = await bundleWorker(join(import.meta.dirname, 'worker.ts'));
    tmp = await tempDir('store-file-crash');
  }, 60_000);
  afterAll(async () => {
    await worker?.dispose();
    await tmp?.cleanup();
  });

  it('loses no acknowledged record and stays readable and writable', async () => {
    const path = join(tmp.dir, 'pending.json');
    // A few thousand records make every write take a while, so kills land inside writes.
    const seed = createFileStore({ path });
    const filler = Array.from({ length: 3_000 }, () => fullRecord({ lease: undefined }));
    await seed.putMany(filler);
    await seed.close();
    const acknowledged: string[] = filler.map((r) => r.requestId);
    // Kill points vary between rounds so the kill lands at different moments of a write.
    for (const [round, [killAfter, delayMs]] of [
      [5, 7],
      [2, 23],
      [9, 3],
      [1, 41],
    ].entries()) {
      const run = await runAndKill(
        worker.file,
        ['loop', path, String(round)],
        killAfter ?? 1,
        { LOCK_STALE_MS: '2000' },
        delayMs,
      );
      expect(run.signal).toBe('SIGKILL');
      expect(run.lines.length).toBeGreaterThanOrEqual(killAfter ?? 1);
      acknowledged.push(...run.lines);

      const store = createFileStore({ path, lockStaleMs: 2000 });
      const ids = new Set((await store.list()).map((r) => r.requestId));
      for (const id of acknowledged) expect(ids.has(id)).toBe(true);
      JSON.parse(await readFile(path, 'utf8'));
      await store.close();
    }
    // The lock the killed writer left behind goes stale and is broken; writes go on.
    const store = createFileStore({ path, lockStaleMs: 2000 });
    const after = minimalRecord();
    await store.put(after);
    expect(await store.get(after.requestId)).toEqual(after);
    // Its stray temp files were cleaned up under the lock.
    expect((await readdir(tmp.dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await store.close();
  }, 120_000);
});
