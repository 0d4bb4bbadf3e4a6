/**
 * A writer that stops itself (SIGSTOP) right before its commit becomes visible, the way a
 * laptop suspend or an I/O stall would freeze it: `<path> <requestId> <snapshot|journal>`.
 * It prints `paused` just before it stops and `acked <id>` once its put resolved.
 */
import { minimalRecord } from '@falai/store-conformance';
import { createFileStore } from '../src/index.js';

const [path = '', requestId = '', point = 'journal'] = process.argv.slice(2);
let stopped = false;
const store = createFileStore({
  path,
  lockStaleMs: 2_000,
  // `snapshot`: every write folds the journal, so the commit is a temp write and a rename.
  ...(point === 'snapshot' ? { compactBytes: 1 } : {}),
  beforeCommit: (at) => {
    if (stopped || at !== point) return;
    stopped = true;
    process.stdout.write('paused\n');
    process.kill(process.pid, 'SIGSTOP');
  },
});
await store.put(minimalRecord({ requestId, submittedAt: new Date().toISOString() }));
process.stdout.write(`acked ${requestId}\n`);
await store.close();
