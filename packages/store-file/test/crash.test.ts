import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describeStoreCrash, fullRecord } from '@falai/store-conformance';
import { expect } from 'vitest';
import { createFileStore } from '../src/index.js';

describeStoreCrash({
  name: 'file',
  worker: join(import.meta.dirname, 'worker.ts'),
  target: (dir, label) => join(dir, `${label}.json`),
  // The lock a killed writer leaves behind goes stale (and is broken) after 2 s.
  open: (path) => createFileStore({ path, lockStaleMs: 2000 }),
  // A small compaction threshold, so budget writers are also killed inside file rewrites.
  env: { LOCK_STALE_MS: '2000', COMPACT_BYTES: '2048' },
  rounds: [
    [5, 7],
    [2, 23],
    [9, 3],
    [1, 41],
  ],
  // A few thousand records make every write take a while, so kills land inside writes.
  seed: async (store) => {
    const filler = Array.from({ length: 3_000 }, () => fullRecord({ lease: undefined }));
    await store.putMany(filler);
    return filler.map((r) => r.requestId);
  },
  check: async (path, stage) => {
    JSON.parse(await readFile(path, 'utf8'));
    // The killed writers' stray temp files were cleaned up under the lock by the last write.
    if (stage === 'end') {
      const names = await readdir(dirname(path));
      expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    }
  },
});
