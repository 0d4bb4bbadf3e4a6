import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BudgetCap } from '../cost/budget.js';
import { formatUsd } from '../cost/estimate.js';
import type { CostEstimator } from '../cost/estimator.js';
import { ApiError, InputError, toFalaiError } from '../errors/falai-error.js';
import { fillNamePattern } from '../lifecycle/output-names.js';
import { type SaveSettings, saveOutputs } from '../lifecycle/save.js';
import { submitAndRecord } from '../lifecycle/submit.js';
import type { SubmitCostOptions } from '../lifecycle/submit-cost.js';
import { waitAndFinalise } from '../lifecycle/wait.js';
import type { ModelRegistry } from '../models/registry.js';
import type { FalClient } from '../queue/types.js';
import { MAX_BUDGET_USD, MAX_RESERVATION_TTL_MS, requireBudgetLedger } from '../store/budget.js';
import type { PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { type BatchPlan, canonicalJson, type PlannedRow, verifyPlan } from './plan.js';

/** Tags a batch puts on each request record it submits. */
export const BATCH_TAGS = {
  batch: 'falai.batch',
  row: 'falai.batch.row',
  index: 'falai.batch.index',
} as const;

/** The default number of rows in flight at fal (submitted, not finished). */
export const DEFAULT_BATCH_CONCURRENCY = 8;

/** Where a row ended in this run. */
export type BatchRowStatus =
  | 'completed'
  | 'failed'
  /** Submitted by an earlier run or another worker and not found, or a submit fal may have taken. */
  | 'unknown'
  /** Not submitted: the next row would have passed `--max-cost`. */
  | 'over-budget'
  /** Not submitted: the run was stopped first. */
  | 'not-submitted';

/** One line of the results manifest. */
export interface BatchManifestEntry {
  readonly row: number;
  readonly id?: string;
  readonly key: string;
  readonly requestId?: string;
  readonly status: BatchRowStatus;
  readonly outputs: readonly string[];
  readonly costUsd?: number;
  readonly error?: { readonly code: string; readonly message: string };
  /** True when this run submitted the row (false: found done or pending from before). */
  readonly submitted: boolean;
}

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
  readonly onProgress?: (progress: BatchProgress) => void;
  /** Stops submitting and waiting; submitted rows stay recorded for the next run. */
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

/** A record's row tags, when it belongs to batch `hash`. */
function rowOf(record: PendingRecord, hash: string): string | undefined {
  return record.tags?.[BATCH_TAGS.batch] === hash ? record.tags[BATCH_TAGS.row] : undefined;
}

/** The records of a batch by row key, oldest first. */
export async function batchRecords(
  store: PendingStore,
  plan: Pick<BatchPlan, 'hash' | 'endpointId'>,
): Promise<Map<string, PendingRecord[]>> {
  const byRow = new Map<string, PendingRecord[]>();
  for (const record of await store.list({ endpointId: plan.endpointId })) {
    const key = rowOf(record, plan.hash);
    if (key === undefined) continue;
    const list = byRow.get(key) ?? [];
    list.push(record);
    byRow.set(key, list);
  }
  return byRow;
}

/** A submit error that proves fal enqueued nothing: safe to submit the row again. */
export function submitNotTaken(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 429) return true;
  return [502, 503, 504].includes(error.status) && error.requestId === undefined;
}

/** A fal-side failure worth a fresh submit on the next run (the platform, not the input). */
export function failureRetryable(record: PendingRecord): boolean {
  if (record.status === 'expired') return false;
  if (record.status !== 'failed') return false;
  const code = record.error?.code ?? '';
  return (
    !['INPUT_INVALID', 'MEDIA_INVALID', 'CONTENT_POLICY'].includes(code) &&
    code !== 'REQUEST_CANCELLED'
  );
}

/** Puts the batch and row tags on a record (one conditional-free update). */
async function tagRecord(
  store: PendingStore,
  record: PendingRecord,
  hash: string,
  row: PlannedRow,
): Promise<PendingRecord> {
  if (rowOf(record, hash) === row.key) return record;
  const tags = {
    ...record.tags,
    [BATCH_TAGS.batch]: hash,
    [BATCH_TAGS.row]: row.key,
    [BATCH_TAGS.index]: String(row.row),
  };
  const outcome = await store.update(record.requestId, { tags });
  return outcome.kind === 'updated' ? outcome.record : { ...record, tags };
}

/**
 * A record of this endpoint whose stored input is the row's input and that belongs to no
 * batch: the request of a row whose process died between storing the record and tagging it.
 */
async function untaggedRecordFor(
  store: PendingStore,
  endpointId: string,
  row: PlannedRow,
): Promise<PendingRecord | undefined> {
  const wanted = canonicalJson(row.input);
  for (const record of await store.list({ endpointId })) {
    if (record.tags?.[BATCH_TAGS.batch] !== undefined) continue;
    if ((record.input?.files.length ?? 0) > 0) continue;
    if (record.input && canonicalJson(record.input.fields) === wanted) return record;
  }
  return undefined;
}

const claimScope = (hash: string) => `batch-claim:${hash}`;
/** The ledger scope of a batch's `maxCostUsd`. */
export const batchBudgetScope = (hash: string): string => `batch:${hash}`;
const farWindow = () => ({ endsAt: Date.now() + MAX_RESERVATION_TTL_MS });

function outputsOf(record: PendingRecord): string[] {
  return (record.outputs ?? []).map((file) => file.path);
}

function costOf(record: PendingRecord): number | undefined {
  return record.provenance?.cost?.amount;
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
  const ledger = requireBudgetLedger(store);
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
  const batchCap: BudgetCap | undefined =
    options.maxCostUsd === undefined
      ? undefined
      : {
          scope: batchBudgetScope(plan.hash),
          window: farWindow(),
          capUsd: options.maxCostUsd,
          setting: 'maxCostUsd',
        };
  const budgets = [...(options.budgets ?? []), ...(batchCap ? [batchCap] : [])];
  const cost: SubmitCostOptions | undefined =
    options.estimator || budgets.length > 0
      ? {
          ...(options.estimator ? { estimator: options.estimator } : {}),
          ...(budgets.length > 0 ? { budgets } : {}),
        }
      : undefined;
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
  const errorOf = (error: unknown) => {
    const falai = toFalaiError(error);
    return { code: falai.code, message: falai.message.split('\n')[0] ?? falai.code };
  };

  const save = async (
    row: PlannedRow,
    record: PendingRecord,
    output: unknown,
  ): Promise<string[]> => {
    if (!options.outDir) return outputsOf(record);
    if ((record.outputs?.length ?? 0) > 0) return outputsOf(record);
    const pattern = options.name
      ?.replaceAll('{row.id}', (row.id ?? `row${row.row}`).replace(/[/\\]/g, '_'))
      .replaceAll('{row.n}', String(row.row))
      .replaceAll('{key}', row.key.slice(0, 12));
    const files = await saveOutputs({
      store,
      requestId: record.requestId,
      result: output,
      outDir: options.outDir,
      settings: options.settings ?? {},
      force: true,
      ...(pattern
        ? {
            fileName: (index: number, count: number, ext: string) =>
              fillNamePattern(pattern, {
                requestId: record.requestId,
                index,
                count,
                ext,
                endpointId: plan.endpointId,
                now: new Date(),
              }),
          }
        : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return files.map((file) => file.path);
  };

  /** Waits for a recorded request and finishes its row. */
  const follow = async (row: PlannedRow, record: PendingRecord, fresh: boolean) => {
    const base = {
      row: row.row,
      ...(row.id ? { id: row.id } : {}),
      key: row.key,
      requestId: record.requestId,
      submitted: fresh,
    };
    try {
      const done = await waitAndFinalise({
        client,
        store,
        endpointId: plan.endpointId,
        requestId: record.requestId,
        record,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const after = (await store.get(record.requestId)) ?? record;
      const outputs = await save(row, after, done.output);
      const cost = costOf((await store.get(record.requestId)) ?? after);
      finish({
        ...base,
        status: 'completed',
        outputs,
        ...(cost === undefined ? {} : { costUsd: cost }),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      finish({ ...base, status: 'failed', outputs: [], error: errorOf(error) });
    }
  };

  /** Claims, reserves and submits one row (attempt n); resolves when its row is finished. */
  const submitRow = async (row: PlannedRow, attempt: number): Promise<void> => {
    const base = { row: row.row, ...(row.id ? { id: row.id } : {}), key: row.key };
    const requestKey = `${row.key}:${attempt}`;
    const claim = await ledger.reserve({
      scope: claimScope(plan.hash),
      window: farWindow(),
      amountUsd: 0,
      capUsd: MAX_BUDGET_USD,
      requestKey,
      ttlMs: MAX_RESERVATION_TTL_MS,
    });
    if (claim.ok && claim.duplicate) {
      // Claimed by an earlier run or another worker: its record may have appeared since, or
      // been stored without its batch tags (a crash between the two writes).
      const again =
        (await batchRecords(store, plan)).get(row.key)?.at(-1) ??
        (await untaggedRecordFor(store, plan.endpointId, row));
      if (again) return follow(row, await tagRecord(store, again, plan.hash, row), false);
      finish({
        ...base,
        status: 'unknown',
        outputs: [],
        submitted: false,
        error: {
          code: 'CLAIMED',
          message: `row ${row.row} was claimed for submission by another run and has no record; it is not submitted again (a duplicate would be paid twice). Check fal's request history.`,
        },
      });
      return;
    }
    let record: PendingRecord;
    try {
      const result = await submitAndRecord({
        endpointId: plan.endpointId,
        input: row.input,
        registry,
        client,
        store,
        signals: { replay: true, onInterrupt: () => {} },
        ...(cost ? { cost } : {}),
        ...(options.cwd ? { cwd: options.cwd } : {}),
      });
      record = await tagRecord(store, result.record, plan.hash, row);
      submitted += 1;
      limit = Math.min(max, limit + 1 / Math.max(1, limit));
    } catch (error) {
      if (submitNotTaken(error)) {
        if (error instanceof ApiError && error.status === 429) limit = Math.max(1, limit / 2);
        await ledger.release(claim.ok ? claim.reservationId : '').catch(() => {});
        if (attempt + 1 < maxAttempts && !options.signal?.aborted)
          return submitRow(row, attempt + 1);
        finish({ ...base, status: 'failed', outputs: [], submitted: false, error: errorOf(error) });
        return;
      }
      const falai = toFalaiError(error);
      if (falai.code === 'BUDGET_EXCEEDED' || falai.code === 'COST_UNKNOWN') {
        // Refused by the cost step before anything was sent (its holds already released): the
        // row stays unclaimed, so a later run with more budget submits it.
        await ledger.release(claim.ok ? claim.reservationId : '').catch(() => {});
        const over = falai.code === 'BUDGET_EXCEEDED';
        if (over) stopSubmitting = true;
        finish({
          ...base,
          status: over ? 'over-budget' : 'not-submitted',
          outputs: [],
          submitted: false,
          error: { code: falai.code, message: budgetMessage(falai, batchCap) },
        });
        return;
      }
      finish({
        ...base,
        status: falai.code === 'INPUT_INVALID' ? 'failed' : 'unknown',
        outputs: [],
        submitted: false,
        error: errorOf(error),
      });
      return;
    }
    await follow(row, record, true);
  };

  // What each row needs.
  type Work =
    | { row: PlannedRow; kind: 'follow'; record: PendingRecord }
    | { row: PlannedRow; kind: 'submit'; attempt: number };
  const work: Work[] = [];
  for (const row of plan.rows) {
    const records = existing.get(row.key) ?? [];
    const done = records.find((record) => record.status === 'completed');
    const active = records.find(
      (record) => record.status === 'queued' || record.status === 'running',
    );
    const last = records.at(-1);
    if (done) work.push({ row, kind: 'follow', record: done });
    else if (active) work.push({ row, kind: 'follow', record: active });
    else if (last && !failureRetryable(last)) {
      finish({
        row: row.row,
        ...(row.id ? { id: row.id } : {}),
        key: row.key,
        requestId: last.requestId,
        status: last.status === 'failed' ? 'failed' : 'unknown',
        outputs: [],
        submitted: false,
        ...(last.error ? { error: { code: last.error.code, message: last.error.message } } : {}),
      });
    } else work.push({ row, kind: 'submit', attempt: records.length });
  }

  progress('progress');
  const ticker = options.onProgress ? setInterval(() => progress('progress'), 1000) : undefined;
  ticker?.unref();
  try {
    let next = 0;
    const inFlight = new Set<Promise<void>>();
    while (next < work.length || inFlight.size > 0) {
      while (next < work.length && inFlight.size < Math.floor(limit) && !options.signal?.aborted) {
        const item = work[next++] as Work;
        if (item.kind === 'submit' && stopSubmitting) {
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
        const task = (
          item.kind === 'follow'
            ? follow(item.row, item.record, false)
            : submitRow(item.row, item.attempt)
        ).finally(() => {
          running -= 1;
          inFlight.delete(task);
        });
        inFlight.add(task);
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight).catch(() => {});
    }
    if (options.signal?.aborted) {
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

/**
 * The manifest's words for a row the cost step refused: the batch cap in the batch's terms,
 * a config budget (or an unknown cost) in core's own message.
 */
function budgetMessage(error: ReturnType<typeof toFalaiError>, cap: BudgetCap | undefined): string {
  const details = (error.details ?? {}) as {
    scope?: unknown;
    estimateUsd?: unknown;
    spentUsd?: unknown;
    reservedUsd?: unknown;
  };
  const money = (value: unknown) => formatUsd(typeof value === 'number' ? value : 0);
  if (cap && details.scope === cap.scope) {
    return `${money(details.estimateUsd)} more would pass the batch cap of ${formatUsd(cap.capUsd)} (${money(details.spentUsd)} spent, ${money(details.reservedUsd)} held by rows still running).`;
  }
  return error.message.split('\n')[0] ?? error.code;
}
