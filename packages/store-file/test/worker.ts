import { runStoreWorker } from '@falai/store-conformance/worker';
import { createFileStore } from '../src/index.js';

await runStoreWorker((path) =>
  createFileStore({
    path,
    lockStaleMs: Number(process.env.LOCK_STALE_MS ?? 10_000),
    compactBytes: Number(process.env.COMPACT_BYTES ?? 256 * 1024),
  }),
);
