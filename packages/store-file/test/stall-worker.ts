/**
 * A writer that stops itself (SIGSTOP) right before its commit becomes visible, the way a
 * laptop suspend or an I/O stall would freeze it:
 * `<path> <requestId> <snapshot|journal|budget-append|budget-rewrite>`. At a records point it
 * puts a record; at a budget point it reserves $0.10 of `daily:stall` under the key
 * `<requestId>`. It prints `paused` just before it stops and `acked <id>` once its write resolved.
 */
import { minimalRecord } from '@falai/store-conformance';
import { type CommitPoint, createFileStore } from '../src/index.js';

const [path = '', requestId = '', point = 'journal'] = process.argv.slice(2) as [
  string,
  string,
  CommitPoint,
];
let stopped = false;
const store = createFileStore({
  path,
  lockStaleMs: 2_000,
  // `snapshot` / `budget-rewrite`: every write folds what was appended, so the commit is a temp
  // write and a rename.
  ...(point === 'snapshot' || point === 'budget-rewrite' ? { compactBytes: 1 } : {}),
  beforeCommit: (at) => {
    if (stopped || at !== point) return;
    stopped = true;
    process.stdout.write('paused\n');
    process.kill(process.pid, 'SIGSTOP');
  },
});
if (point === 'budget-append' || point === 'budget-rewrite') {
  const outcome = await store.budget.reserve({
    scope: 'daily:stall',
    window: { endsAt: '2999-01-01T00:00:00.000Z' },
    amountUsd: 0.1,
    capUsd: 100,
    requestKey: requestId,
  });
  if (!outcome.ok) throw new Error(`reservation refused: ${JSON.stringify(outcome)}`);
} else {
  await store.put(minimalRecord({ requestId, submittedAt: new Date().toISOString() }));
}
process.stdout.write(`acked ${requestId}\n`);
await store.close();
