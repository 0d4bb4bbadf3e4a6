import { join } from 'node:path';
import { describeStoreProcesses } from '@falai/store-conformance';
import { createSqliteStore } from '../src/index.js';

describeStoreProcesses({
  name: 'sqlite',
  worker: join(import.meta.dirname, 'worker.ts'),
  target: (dir, label) => join(dir, `${label}.db`),
  open: (path) => createSqliteStore({ path }),
});
