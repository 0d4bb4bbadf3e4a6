/**
 * The body of the child processes used by multi-process tests. Each store package has a tiny
 * worker file that calls `runStoreWorker` with its factory; `bundleWorker` turns that file into
 * plain JavaScript. Kept apart from the suite so a worker never loads vitest.
 *
 * Modes (argv after the script): `<mode> <target> <index> <count>`
 * - `write`: puts `count` records `w<index>-<n>`, printing each id once it is acknowledged;
 * - `loop`: puts records forever (until killed), printing each acknowledged id;
 * - `finalise`: tries to finalise records `race-0…race-<count-1>` (status `running` →
 *   `completed`), printing `won <id>` for every conditional update it won;
 * - `reserve`: makes `count` budget reservations `p<index>-<n>` of `BUDGET_RACE`, printing
 *   `granted <key> <reservationId>` or `refused <key>` for each. With `FALAI_TEST_START_AT`
 *   (epoch ms) it opens the store first and waits until then, so the processes race;
 * - `reserve-loop`: reserves `BUDGET_CRASH.amountUsd` forever (until killed) under keys
 *   `c<index>-<n>`, printing each key once its reservation is acknowledged.
 */
import type { PendingStore } from '@falai/core/store-kit';
import { BUDGET_CRASH, BUDGET_RACE, minimalRecord } from './fixtures.js';

function write(line: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(`${line}\n`)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}

/** Runs one worker process against the store `open(target)` returns. */
export async function runStoreWorker(
  open: (target: string) => PendingStore | Promise<PendingStore>,
): Promise<void> {
  const [mode, target = '', indexText = '0', countText = '0'] = process.argv.slice(2);
  const index = Number(indexText);
  const count = Number(countText);
  const store = await open(target);
  try {
    if (mode === 'write' || mode === 'loop') {
      for (let n = 0; mode === 'loop' || n < count; n++) {
        const requestId = `w${index}-${n}`;
        await store.put(
          minimalRecord({ requestId, submittedAt: new Date().toISOString(), status: 'queued' }),
        );
        await write(requestId);
      }
    } else if (mode === 'finalise') {
      for (let n = 0; n < count; n++) {
        const requestId = `race-${n}`;
        const outcome = await store.update(
          requestId,
          { status: 'completed', result: { by: index } },
          { status: 'running' },
        );
        if (outcome.kind === 'updated') await write(`won ${requestId}`);
      }
    } else if (mode === 'reserve') {
      const budget = store.budget;
      if (!budget) throw new Error('this store has no budget ledger');
      // Connect (and migrate) before the start line, so the processes start together.
      await budget.usage(BUDGET_RACE.scope);
      const startAt = Number(process.env.FALAI_TEST_START_AT ?? 0);
      if (startAt > Date.now()) await new Promise((r) => setTimeout(r, startAt - Date.now()));
      for (let n = 0; n < count; n++) {
        const requestKey = `p${index}-${n}`;
        const outcome = await budget.reserve({
          scope: BUDGET_RACE.scope,
          window: { endsAt: BUDGET_RACE.endsAt },
          amountUsd: BUDGET_RACE.amountUsd,
          capUsd: BUDGET_RACE.capUsd,
          requestKey,
        });
        await write(
          outcome.ok ? `granted ${requestKey} ${outcome.reservationId}` : `refused ${requestKey}`,
        );
      }
    } else if (mode === 'reserve-loop') {
      const budget = store.budget;
      if (!budget) throw new Error('this store has no budget ledger');
      for (let n = 0; ; n++) {
        const requestKey = `c${index}-${n}`;
        const outcome = await budget.reserve({
          scope: BUDGET_CRASH.scope,
          window: { endsAt: BUDGET_CRASH.endsAt },
          amountUsd: BUDGET_CRASH.amountUsd,
          capUsd: BUDGET_CRASH.capUsd,
          requestKey,
        });
        if (!outcome.ok) throw new Error(`reservation ${requestKey} refused under a huge cap`);
        await write(requestKey);
      }
    } else {
      throw new Error(`unknown worker mode ${mode}`);
    }
  } finally {
    await store.close();
  }
}
