import type { PendingStore } from '@falai/core/store-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET_CRASH, BUDGET_RACE, minimalRecord } from './fixtures.js';
import {
  type BundledWorker,
  bundleWorker,
  runAndKill,
  runConcurrentWorkers,
  tempDir,
} from './workers.js';

/** How a store plugs into the shared multi-process tests. */
export interface StoreProcessOptions<S extends PendingStore = PendingStore> {
  /** Shown in the test names, e.g. `file`. */
  readonly name: string;
  /** The store's worker script: a file that calls `runStoreWorker` with its factory. */
  readonly worker: string;
  /** Where one test keeps its data, from the test file's temp folder and a label. */
  readonly target: (dir: string, label: string) => string;
  /** Opens the store at `target` in the test process. */
  readonly open: (target: string) => S | Promise<S>;
  /** Added to every worker's environment (e.g. `REDIS_URL`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Skips the tests, e.g. when the backend is not reachable. */
  readonly skip?: boolean;
  /** Removes what the tests left outside the temp folder (e.g. Redis keys). */
  readonly cleanup?: () => Promise<void>;
}

/** What a crash test adds: the kill points and the store-specific checks. */
export interface StoreCrashOptions<S extends PendingStore = PendingStore>
  extends StoreProcessOptions<S> {
  /**
   * One round per entry: `[lines, ms]` kills the writer `ms` after its `lines`-th
   * acknowledgement. Vary them so the kills land at different moments of a write.
   */
  readonly rounds: readonly (readonly [number, number])[];
  /** Fills the store before the first round; returns the ids it wrote (all acknowledged). */
  readonly seed?: (store: S) => Promise<readonly string[]>;
  /** Checks the backing data after every round (`round`) and after the final write (`end`). */
  readonly check?: (target: string, stage: 'round' | 'end') => Promise<void>;
}

/**
 * A temp folder made before the tests of the enclosing `describe` (or file) and removed after
 * them; read `dir` inside a test or hook.
 */
export function useTempDir(label: string): { readonly dir: string } {
  let tmp: Awaited<ReturnType<typeof tempDir>> | undefined;
  beforeAll(async () => {
    tmp = await tempDir(label);
  });
  afterAll(() => tmp?.cleanup());
  return {
    get dir() {
      if (!tmp) throw new Error(`useTempDir(${label}): the folder exists only inside tests`);
      return tmp.dir;
    },
  };
}

/** Bundles the worker and makes a temp folder for one `describe`, and removes both after. */
function useWorker<S extends PendingStore>(label: string, options: StoreProcessOptions<S>) {
  const tmp = useTempDir(`store-${options.name}-${label}`);
  let worker: BundledWorker | undefined;
  beforeAll(async () => {
    worker = await bundleWorker(options.worker);
  }, 60_000);
  afterAll(async () => {
    await worker?.dispose();
    await options.cleanup?.();
  });
  return {
    file: () => (worker as BundledWorker).file,
    target: (name: string) => options.target(tmp.dir, name),
  };
}

/**
 * The multi-process tests every cross-process store passes: 8 processes × 50 writes lose
 * nothing, 8 processes racing to finalise the same requests finalise each exactly once, and
 * 8 processes × 20 budget reservations never pass the cap together.
 */
export function describeStoreProcesses<S extends PendingStore>(
  options: StoreProcessOptions<S>,
): void {
  describe.skipIf(options.skip ?? false)(`${options.name} store across processes`, () => {
    const worker = useWorker('mp', options);

    it('8 processes writing 50 records each end with exactly 400 records', async () => {
      const target = worker.target('write');
      const runs = await runConcurrentWorkers(worker.file(), {
        processes: 8,
        perProcess: 50,
        args: ['write', target],
        ...(options.env ? { env: options.env } : {}),
      });
      for (const run of runs) expect(run.stderr).toBe('');
      expect(runs.map((run) => run.code)).toEqual(Array(8).fill(0));
      const store = await options.open(target);
      const records = await store.list();
      expect(records).toHaveLength(400);
      expect(new Set(records.map((r) => r.requestId)).size).toBe(400);
      const acknowledged = runs.flatMap((run) => run.stdout.trim().split('\n'));
      expect(acknowledged.sort()).toEqual(records.map((r) => r.requestId).sort());
      await store.close();
    }, 120_000);

    it('processes racing to finalise the same requests: each is finalised exactly once', async () => {
      const target = worker.target('race');
      const store = await options.open(target);
      for (let n = 0; n < 30; n++) {
        await store.put(minimalRecord({ requestId: `race-${n}`, status: 'running' }));
      }
      const runs = await runConcurrentWorkers(worker.file(), {
        processes: 8,
        perProcess: 30,
        args: ['finalise', target],
        ...(options.env ? { env: options.env } : {}),
      });
      expect(runs.map((run) => run.code)).toEqual(Array(8).fill(0));
      const wins = runs.flatMap((run) => run.stdout.split('\n').filter(Boolean));
      expect(wins).toHaveLength(30);
      expect(new Set(wins).size).toBe(30);
      expect(await store.list({ status: 'completed' })).toHaveLength(30);
      await store.close();
    }, 120_000);

    it('8 processes × 20 budget reservations: exactly floor(cap / amount) granted, never more', async () => {
      const target = worker.target('budget');
      const runs = await runConcurrentWorkers(worker.file(), {
        processes: 8,
        perProcess: 20,
        args: ['reserve', target],
        // A start line a little ahead, so every process races from the same moment.
        env: { ...options.env, FALAI_TEST_START_AT: String(Date.now() + 1_500) },
      });
      for (const run of runs) expect(run.stderr).toBe('');
      expect(runs.map((run) => run.code)).toEqual(Array(8).fill(0));
      const lines = runs.flatMap((run) => run.stdout.split('\n').filter(Boolean));
      expect(lines).toHaveLength(160);
      const granted = lines.filter((line) => line.startsWith('granted '));
      // 23 × 0.1 ≤ 2.3 only in integer micro-dollars: floating point would grant 22.
      expect(granted).toHaveLength(BUDGET_RACE.granted);
      expect(granted.length * BUDGET_RACE.amountUsd).toBeLessThanOrEqual(BUDGET_RACE.capUsd + 1e-9);
      expect(new Set(granted.map((line) => line.split(' ')[1])).size).toBe(BUDGET_RACE.granted);

      const store = await options.open(target);
      const budget = store.budget;
      if (!budget) throw new Error(`the ${options.name} store has no budget ledger`);
      expect(await budget.usage(BUDGET_RACE.scope)).toEqual({
        spentUsd: 0,
        reservedUsd: BUDGET_RACE.capUsd,
      });
      // Any process can settle what another reserved: settle every grant at its estimate.
      for (const line of granted) {
        await budget.settle(line.split(' ')[2] ?? '', BUDGET_RACE.amountUsd);
      }
      expect(await budget.usage(BUDGET_RACE.scope)).toEqual({
        spentUsd: BUDGET_RACE.capUsd,
        reservedUsd: 0,
      });
      await store.close();
    }, 120_000);
  });
}

/**
 * A writer killed with SIGKILL mid-write, round after round on the same data: no
 * acknowledged record is lost, the store stays readable, and a new writer gets through.
 */
export function describeStoreCrash<S extends PendingStore>(options: StoreCrashOptions<S>): void {
  describe.skipIf(options.skip ?? false)(
    `${options.name} store: a writer killed with SIGKILL mid-write`,
    () => {
      const worker = useWorker('crash', options);

      it('loses no acknowledged record and stays readable and writable', async () => {
        const target = worker.target('crash');
        const acknowledged: string[] = [];
        if (options.seed) {
          const seeding = await options.open(target);
          acknowledged.push(...(await options.seed(seeding)));
          await seeding.close();
        }
        for (const [round, [killAfter, delayMs]] of options.rounds.entries()) {
          const run = await runAndKill(
            worker.file(),
            ['loop', target, String(round)],
            killAfter,
            options.env,
            delayMs,
          );
          expect(run.signal).toBe('SIGKILL');
          expect(run.lines.length).toBeGreaterThanOrEqual(killAfter);
          acknowledged.push(...run.lines);

          const store = await options.open(target);
          const ids = new Set((await store.list()).map((r) => r.requestId));
          for (const id of acknowledged) expect(ids.has(id)).toBe(true);
          await store.close();
          await options.check?.(target, 'round');
        }
        const store = await options.open(target);
        const after = minimalRecord();
        await store.put(after);
        expect(await store.get(after.requestId)).toEqual(after);
        await store.close();
        await options.check?.(target, 'end');
      }, 120_000);

      it('a budget writer killed mid-write loses no acknowledged reservation', async () => {
        const target = worker.target('budget-crash');
        const acknowledged: string[] = [];
        for (const [round, [killAfter, delayMs]] of options.rounds.entries()) {
          const run = await runAndKill(
            worker.file(),
            ['reserve-loop', target, String(round)],
            killAfter,
            options.env,
            delayMs,
          );
          expect(run.signal).toBe('SIGKILL');
          expect(run.lines.length).toBeGreaterThanOrEqual(killAfter);
          acknowledged.push(...run.lines);

          const store = await options.open(target);
          const budget = store.budget;
          if (!budget) throw new Error(`the ${options.name} store has no budget ledger`);
          const usage = await budget.usage(BUDGET_CRASH.scope);
          // At least every acknowledged one (an unacknowledged last one may have landed too).
          expect(usage.spentUsd).toBe(0);
          expect(Math.round(usage.reservedUsd / BUDGET_CRASH.amountUsd)).toBeGreaterThanOrEqual(
            acknowledged.length,
          );
          expect(Math.round(usage.reservedUsd / BUDGET_CRASH.amountUsd)).toBeLessThanOrEqual(
            acknowledged.length + options.rounds.length,
          );
          await store.close();
        }
        // Each acknowledged key is still held: reserving it again counts nothing new.
        const store = await options.open(target);
        const budget = store.budget as NonNullable<PendingStore['budget']>;
        const before = await budget.usage(BUDGET_CRASH.scope);
        for (const requestKey of acknowledged) {
          const again = await budget.reserve({
            scope: BUDGET_CRASH.scope,
            window: { endsAt: BUDGET_CRASH.endsAt },
            amountUsd: BUDGET_CRASH.amountUsd,
            capUsd: BUDGET_CRASH.capUsd,
            requestKey,
          });
          expect(again).toMatchObject({ ok: true, duplicate: true });
        }
        expect(await budget.usage(BUDGET_CRASH.scope)).toEqual(before);
        await store.close();
      }, 120_000);
    },
  );
}
