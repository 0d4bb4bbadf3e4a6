import { join } from 'node:path';
import { describeStoreProcesses } from '@falai/store-conformance';
import { createFileStore } from '../src/index.js';

describeStoreProcesses({
  name: 'file',
  worker: join(import.meta.dirname, 'worker.ts'),
  target: (dir, label) => join(dir, `${label}.json`),
  open: (path) => createFileStore({ path }),
});
