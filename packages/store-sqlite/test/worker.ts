import { runStoreWorker } from '@falai/store-conformance/worker';
import { createSqliteStore } from '../src/index.js';

await runStoreWorker((path) => createSqliteStore({ path, busyTimeoutMs: 20_000 }));
