import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BudgetCap } from '../cost/budget.js';
import type { CostEstimator } from '../cost/estimator.js';
import { InputError } from '../errors/falai-error.js';
import { intentsWithRef, type SubmitIntentJournal } from '../lifecycle/intents.js';
import type { SaveSettings } from '../lifecycle/save.js';
import type { ModelRegistry } from '../models/registry.js';
import type { PlatformClient } from '../platform/client.js';
import type { FalClient } from '../queue/types.js';
import { requireBudgetLedger } from '../store/budget.js';
import type { PendingStore } from '../store/types.js';
import { errorOf } from './entry-error.js';
import { batchIntentRef, lostSubmitResolver } from './lost.js';
import { type BatchPlan, type PlannedRow, verifyPlan } from './plan.js';
import {
  type BatchManifestEntry,
  type BatchRowContext,
  type BatchRowStatus,
  type BatchRowWork,
  batchCostStep,
  batchRecords,
  batchRowWork,
  runBatchRow,
} from './row.js';

/** The default number of rows in flight at fal (submitted, not finished). */
export const DEFAULT_BATCH_CONCURRENCY = 8;

/** Progress of a run, as it goes. */
export interface BatchProgress {
  readonly type: 'progress' | 'row' | 'end';
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly running: number;
  readonly queued: number;
  readonly spentUsd: number;
  /** Rows finished per second in this run. */
  readonly rate: number;
  /** Seconds left at the current rate, when known. */
  readonly etaSeconds?: number;
  /** Current bound on rows in flight (adapts down on 429s). */
  readonly concurrency: number;
  readonly entry?: BatchManifestEntry;
}

/** Options of {@link runBatch}. */
export interface RunBatchOptions {
  readonly plan: BatchPlan;
  readonly store: PendingStore;
  readonly client: FalClient;
  readonly registry: ModelRegistry;
  /** @default DEFAULT_BATCH_CONCURRENCY */
  readonly concurrency?: number;
  /**
   * Hard cap in US dollars for the batch: each row's estimate is reserved in the store's
   * ledger (scope `batch:<hash>`) before its submit, as a budget cap of core's cost step, and
   * settled with the actual cost at finalise; the run stops submitting when the next row would
   * pass it. Needs `estimator`.
   */
  readonly maxCostUsd?: number;
  /**
   * Prices each row before its submit (core's estimator, `costEstimatorFor(settings, …)`): the
   * estimate and unit price go on the record, so the actual cost is known at finalise.
   */
  readonly estimator?: CostEstimator;
  /**
   * The config's budget caps (`budgetCapsFor(settings.budget, …)`, or `submitCostOptions`'s
   * `budgets`): every row's submit reserves in them too, exactly as a single submit does.
   */
  readonly budgets?: readonly BudgetCap[];
  /** Folder the outputs go to; without it nothing is downloaded. */
  readonly outDir?: string;
  /** The settings whose download limits apply to the outputs (`saveOutputs`). */
  readonly settings?: SaveSettings;
  /** Output names: `{row.id}`, `{row.n}` (row number), `{key}` plus `--name`'s fields. */
  readonly name?: string;
  /** The results manifest (JSONL), written as rows finish. */
  readonly manifestPath?: string;
  /** Fresh submits per row in this run when fal provably took nothing (429, ingress 5xx). @default 3 */
  readonly maxAttempts?: number;
  /**
   * The store's journal of submits ("sent, answer unknown": `intentJournalFor(store)`): each
   * row's submit is noted there before its POST, under the row (`batch:<hash>:<row key>`), so
   * `falai recover` and a later run can find a submit whose answer was lost.
   */
  readonly intents?: SubmitIntentJournal;
  /**
   * fal's Platform API: with `intents`, a row whose submit's answer was lost (or that a run
   * which died had noted) is looked for in fal's request history and followed when fal has it,
   * or submitted once fal's history shows it never arrived — instead of ending `unknown`.
   */
  readonly platform?: PlatformClient;
  /** How long fal's history may take to show a noted submit before it counts as never sent. @default 120000 */
  readonly lostSubmitGraceMs?: number;
  readonly onProgress?: (progress: BatchProgress) => void;
  /**
   * Stops submitting and waiting; submitted rows stay recorded for the next run. A SIGINT or
   * SIGTERM that a row's submit holds back (until its id is recorded) also stops new rows at
   * once: it reaches the program's own handler, which aborts this signal, only afterwards.
   */
  readonly signal?: AbortSignal;
  readonly cwd?: string;
}

/** What a run did. */
export interface BatchSummary {
  readonly batch: string;
  readonly endpointId: string;
  readonly total: number;
  readonly counts: Readonly<Record<BatchRowStatus, number>>;
  /** Rows this run submitted (0 on a re-run of a finished batch). */
  readonly submitted: number;
  readonly spentUsd: number;
  readonly manifestPath?: string;
  readonly entries: readonly BatchManifestEntry[];
}

/**
 * Runs a planned batch through the lifecycle: at most `concurrency` rows in flight at fal
 * (halved on a 429, grown back by one per finished row), each row claimed in the store's
 * ledger (`batch-claim:<hash>`, keyed by row key and attempt) before its one submit and
 * recorded with the batch and row tags by `submitAndRecord`, so a re-run — or another
 * process — never submits it again: it waits for pending rows, skips done ones, and submits
 * again only rows whose failure is worth retrying. With `maxCostUsd` each row's estimate is
 * reserved in `batch:<hash>` first and submitting stops when the next row would pass the cap.
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchSummary> {
  const { plan, store, client, registry } = options;
  verifyPlan(plan);
  requireBudgetLedger(store);
  const max = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_BATCH_CONCURRENCY));
  const maxAttempts = options.maxAttempts ?? 3;
  if (options.maxCostUsd !== undefined && !options.estimator) {
    throw new InputError(
      '--max-cost needs a cost estimate per row, and no cost estimator was given; pass one (costEstimatorFor) or run without --max-cost.',
      [{ path: ['maxCost'], message: 'cost unknown', kind: 'budget' }],
    );
  }
  // Core's cost step for every row's submit: estimate, then reserve in the config's budgets and
  // in the batch's own cap (released if the submit never happens, settled at finalise).
  const costStep = batchCostStep({
    plan,
    ...(options.maxCostUsd === undefined ? {} : { maxCostUsd: options.maxCostUsd }),
    ...(options.estimator ? { estimator: options.estimator } : {}),
    ...(options.budgets ? { budgets: options.budgets } : {}),
  });
  const existing = await batchRecords(store, plan);
  const started = Date.now();
  let manifest: WriteStream | undefined;
  if (options.manifestPath) {
    await mkdir(dirname(options.manifestPath), { recursive: true });
    manifest = createWriteStream(options.manifestPath, { flags: 'w' });
  }
  const entries: BatchManifestEntry[] = [];
  const counts: Record<BatchRowStatus, number> = {
    completed: 0,
    failed: 0,
    unknown: 0,
    'over-budget': 0,
    'not-submitted': 0,
  };
  let submitted = 0;
  let running = 0;
  let spentUsd = 0;
  let limit = max;
  let stopSubmitting = false;
  // Ctrl-C held back by a row's submit (until it is recorded): no row starts meanwhile.
  let interrupted = false;
  const stopping = () => interrupted || options.signal?.aborted === true;
  const total = plan.rows.length;
  const progress = (type: BatchProgress['type'], entry?: BatchManifestEntry) => {
    if (!options.onProgress) return;
    const finished = entries.length;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? finished / seconds : 0;
    const left = total - finished;
    options.onProgress({
      type,
      total,
      done: counts.completed,
      failed: finished - counts.completed,
      running,
      queued: left - running,
      spentUsd: Math.round(spentUsd * 1e6) / 1e6,
      rate: Math.round(rate * 100) / 100,
      ...(rate > 0 ? { etaSeconds: Math.round(left / rate) } : {}),
      concurrency: Math.floor(limit),
      ...(entry ? { entry } : {}),
    });
  };
  const finish = (entry: BatchManifestEntry) => {
    entries.push(entry);
    counts[entry.status] += 1;
    if (entry.costUsd !== undefined) spentUsd += entry.costUsd;
    manifest?.write(`${JSON.stringify(entry)}\n`);
    progress('row', entry);
  };
  // Each row's notes in the store's journal, and what decides a submit nobody recorded.
  const journal = options.intents;
  const rowNotes = journal
    ? (row: PlannedRow) => intentsWithRef(journal, batchIntentRef(plan.hash, row))
    : undefined;
  const resolve = lostSubmitResolver({
    plan,
    store,
    journal: (row) => rowNotes?.(row),
    platform: options.platform,
    // Another run may hold a claim it has not yet noted: without a note, nothing is sent.
    unnoted: 'unknown',
    graceMs: options.lostSubmitGraceMs,
  });
  // The row step (claim, submit and record, wait and finalise, save, entry), as the
  // distributed worker runs it; the run adapts its concurrency to what the rows meet.
  const context: BatchRowContext = {
    plan,
    store,
    client,
    registry,
    costStep,
    maxAttempts,
    ...(options.outDir ? { outDir: options.outDir } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.name ? { name: options.name } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(rowNotes ? { intents: rowNotes } : {}),
    resolveLost: (row, attempt) => resolve(row, attempt, options.signal),
    onSubmitted: () => {
      submitted += 1;
      limit = Math.min(max, limit + 1 / Math.max(1, limit));
    },
    onRateLimited: () => {
      limit = Math.max(1, limit / 2);
    },
    onInterrupt: () => {
      interrupted = true;
    },
  };

  // What each row needs.
  type Work = { row: PlannedRow; work: Exclude<BatchRowWork, { kind: 'done' }> };
  const work: Work[] = [];
  for (const row of plan.rows) {
    const needed = batchRowWork(row, existing.get(row.key) ?? []);
    if (needed.kind === 'done') finish(needed.entry);
    else work.push({ row, work: needed });
  }

  progress('progress');
  const ticker = options.onProgress ? setInterval(() => progress('progress'), 1000) : undefined;
  ticker?.unref();
  try {
    let next = 0;
    const inFlight = new Set<Promise<void>>();
    // Woken by whichever row ends (not a Promise.race over every row in flight, which would
    // hang one more reaction on each pending row per finished row: O(n × concurrency)).
    let wake: () => void = () => {};
    while (next < work.length || inFlight.size > 0) {
      while (next < work.length && inFlight.size < Math.floor(limit) && !stopping()) {
        const item = work[next++] as Work;
        if (item.work.kind === 'submit' && stopSubmitting) {
          finish({
            row: item.row.row,
            ...(item.row.id ? { id: item.row.id } : {}),
            key: item.row.key,
            status: 'over-budget',
            outputs: [],
            submitted: false,
          });
          continue;
        }
        running += 1;
        const task = runBatchRow(context, item.row, item.work)
          .then((entry) => {
            if (entry.status === 'over-budget') stopSubmitting = true;
            finish(entry);
          })
          .catch((error: unknown) => {
            // Stopped: the row is left for the next run. Anything else (the store failing
            // mid-row) still gets its line, so no row goes unaccounted for.
            if (options.signal?.aborted) return;
            finish({
              row: item.row.row,
              ...(item.row.id ? { id: item.row.id } : {}),
              key: item.row.key,
              status: 'unknown',
              outputs: [],
              submitted: false,
              error: errorOf(error),
            });
          })
          .finally(() => {
            running -= 1;
            inFlight.delete(task);
            wake();
          });
        inFlight.add(task);
      }
      if (inFlight.size === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (stopping()) {
      for (const item of work.slice(next)) {
        finish({
          row: item.row.row,
          ...(item.row.id ? { id: item.row.id } : {}),
          key: item.row.key,
          status: 'not-submitted',
          outputs: [],
          submitted: false,
        });
      }
    }
  } finally {
    if (ticker) clearInterval(ticker);
    if (manifest) await new Promise<void>((resolve) => manifest?.end(resolve));
  }
  progress('end');
  entries.sort((a, b) => a.row - b.row);
  return {
    batch: plan.hash,
    endpointId: plan.endpointId,
    total,
    counts,
    submitted,
    spentUsd: Math.round(spentUsd * 1e6) / 1e6,
    ...(options.manifestPath ? { manifestPath: options.manifestPath } : {}),
    entries,
  };
}
