import type { BudgetCap } from '../cost/budget.js';
import { formatUsd } from '../cost/estimate.js';
import type { CostEstimator } from '../cost/estimator.js';
import { ApiError, type FalaiError, toFalaiError } from '../errors/falai-error.js';
import type { DeferredSignal } from '../lifecycle/critical-section.js';
import type { SubmitIntentJournal } from '../lifecycle/intents.js';
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
import { errorOf } from './entry-error.js';
import { type BatchPlan, canonicalJson, type PlannedRow } from './plan.js';

/**
 * One row of a batch through the lifecycle — claim → submit and record → wait and finalise →
 * save outputs → manifest entry — the step both `runBatch` (one machine) and the distributed
 * worker (`@falai/batch-queue`, many machines) run, so what happens to a row is written once.
 */

/** Tags a batch puts on each request record it submits. */
export const BATCH_TAGS = {
  batch: 'falai.batch',
  row: 'falai.batch.row',
  index: 'falai.batch.index',
} as const;

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

/** A record's row tags, when it belongs to batch `hash`. */
function rowOf(record: PendingRecord, hash: string): string | undefined {
  return record.tags?.[BATCH_TAGS.batch] === hash ? record.tags[BATCH_TAGS.row] : undefined;
}

/** The tags that file a request under its batch and row. */
export function batchRowTags(hash: string, row: PlannedRow): Record<string, string> {
  return {
    [BATCH_TAGS.batch]: hash,
    [BATCH_TAGS.row]: row.key,
    [BATCH_TAGS.index]: String(row.row),
  };
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

/**
 * A submit refusal worth sending again at once: fal enqueued nothing (429, or a 5xx from its
 * gateway, without a request id) and may well take it next time.
 */
export function submitNotTaken(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 429) return true;
  return error.status >= 500 && error.requestId === undefined;
}

/**
 * Where a failed `submitAndRecord` left a row, read from its error: `taken` — fal accepted it
 * and the record could not be written (the error names the request); `unknown` — fal may hold
 * it (the POST's answer was lost: core noted it for recovery); `not-taken` — fal answered with
 * a refusal, or the step failed before the POST.
 */
function submitFate(error: FalaiError): 'taken' | 'unknown' | 'not-taken' {
  const details = error.details as
    | { outcome?: unknown; recorded?: unknown; requestId?: unknown }
    | undefined;
  if (details?.outcome === 'unknown') return 'unknown';
  if (details?.recorded === false && typeof details.requestId === 'string') return 'taken';
  return 'not-taken';
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

/** What a row needs, from the records it already has. */
export type BatchRowWork =
  /** Wait for (or collect) a request submitted before. */
  | { readonly kind: 'follow'; readonly record: PendingRecord }
  /** Submit it; `attempt` numbers its claim (0 for the first). */
  | { readonly kind: 'submit'; readonly attempt: number }
  /** Nothing to do: it ended in a way not worth another submit. */
  | { readonly kind: 'done'; readonly entry: BatchManifestEntry };

/**
 * What a row needs given its records (oldest first): a completed or pending request is
 * followed; a failure worth retrying (or no record) is submitted as the next attempt; any
 * other ending is final.
 */
export function batchRowWork(row: PlannedRow, records: readonly PendingRecord[]): BatchRowWork {
  const done = records.find((record) => record.status === 'completed');
  if (done) return { kind: 'follow', record: done };
  const active = records.find(
    (record) => record.status === 'queued' || record.status === 'running',
  );
  if (active) return { kind: 'follow', record: active };
  const last = records.at(-1);
  if (last && !failureRetryable(last)) {
    return {
      kind: 'done',
      entry: {
        row: row.row,
        ...(row.id ? { id: row.id } : {}),
        key: row.key,
        requestId: last.requestId,
        status: last.status === 'failed' ? 'failed' : 'unknown',
        outputs: [],
        submitted: false,
        ...(last.error ? { error: { code: last.error.code, message: last.error.message } } : {}),
      },
    };
  }
  return { kind: 'submit', attempt: records.length };
}

/** Puts the batch and row tags on a record (one conditional-free update). */
async function tagRecord(
  store: PendingStore,
  record: PendingRecord,
  hash: string,
  row: PlannedRow,
): Promise<PendingRecord> {
  if (rowOf(record, hash) === row.key) return record;
  const tags = { ...record.tags, ...batchRowTags(hash, row) };
  const outcome = await store.update(record.requestId, { tags });
  return outcome.kind === 'updated' ? outcome.record : { ...record, tags };
}

/**
 * A record of this endpoint whose stored input is the row's input and that belongs to no
 * batch: the request of a row whose process died between storing the record and tagging it
 * (records stored before batch tags went on at submit).
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

/** The ledger scope that claims a batch's rows (one zero-dollar reservation per row attempt). */
export const batchClaimScope = (hash: string): string => `batch-claim:${hash}`;
/** The ledger scope of a batch's `maxCostUsd`. */
export const batchBudgetScope = (hash: string): string => `batch:${hash}`;
const farWindow = () => ({ endsAt: Date.now() + MAX_RESERVATION_TTL_MS });

function outputsOf(record: PendingRecord): string[] {
  return (record.outputs ?? []).map((file) => file.path);
}

function costOf(record: PendingRecord): number | undefined {
  return record.provenance?.cost?.amount;
}

/** Core's cost step as a batch sets it up for every row's submit. */
export interface BatchCostStep {
  /** What each submit passes to `submitAndRecord` (none: no estimate, no budget). */
  readonly cost?: SubmitCostOptions;
  /** The batch's own cap (`maxCostUsd`) as a budget in `batch:<hash>`. */
  readonly cap?: BudgetCap;
}

/**
 * The cost step of a batch's rows: each row is estimated, then reserved in the config's
 * budgets and in the batch's own cap (`batch:<hash>`, released if the submit never happens,
 * settled with the actual cost at finalise — by whichever process finalises it).
 */
export function batchCostStep(options: {
  readonly plan: Pick<BatchPlan, 'hash'>;
  readonly maxCostUsd?: number;
  readonly estimator?: CostEstimator;
  readonly budgets?: readonly BudgetCap[];
}): BatchCostStep {
  const cap: BudgetCap | undefined =
    options.maxCostUsd === undefined
      ? undefined
      : {
          scope: batchBudgetScope(options.plan.hash),
          window: farWindow(),
          capUsd: options.maxCostUsd,
          setting: 'maxCostUsd',
        };
  const budgets = [...(options.budgets ?? []), ...(cap ? [cap] : [])];
  const cost: SubmitCostOptions | undefined =
    options.estimator || budgets.length > 0
      ? {
          ...(options.estimator ? { estimator: options.estimator } : {}),
          ...(budgets.length > 0 ? { budgets } : {}),
        }
      : undefined;
  return { ...(cost ? { cost } : {}), ...(cap ? { cap } : {}) };
}

/**
 * What became of a submit nobody recorded: a row claimed by a process that died (or whose
 * POST's answer was lost). `found`: fal has it (the record is now in the store); `not-sent`:
 * fal never got it and nobody can send it any more, so it may be submitted; `unknown`: it
 * cannot be told (the row is then reported `unknown`, never submitted twice).
 */
export type LostSubmit =
  | { readonly kind: 'found'; readonly record: PendingRecord }
  | { readonly kind: 'not-sent' }
  | { readonly kind: 'unknown'; readonly reason: string };

/** What {@link runBatchRow} needs: the batch, the lifecycle's services and the run's choices. */
export interface BatchRowContext {
  readonly plan: BatchPlan;
  readonly store: PendingStore;
  readonly client: FalClient;
  readonly registry: ModelRegistry;
  /** Core's cost step for each submit ({@link batchCostStep}). */
  readonly costStep?: BatchCostStep;
  /** Folder the outputs go to; without it nothing is downloaded. */
  readonly outDir?: string;
  /** The settings whose download limits apply to the outputs (`saveOutputs`). */
  readonly settings?: SaveSettings;
  /** Output names: `{row.id}`, `{row.n}` (row number), `{key}` plus `--name`'s fields. */
  readonly name?: string;
  /** Fresh submits of a row when fal provably took nothing (429, ingress 5xx). @default 3 */
  readonly maxAttempts?: number;
  /** Stops waiting (the row is then left to the next run: no entry, the error is thrown). */
  readonly signal?: AbortSignal;
  /**
   * Also stop a submit's validation and uploads on `signal` (the POST itself is never cut).
   * Off, a submit that has started goes through. @default false
   */
  readonly abortSubmits?: boolean;
  /** Raise a signal held back during a submit again once it is recorded. @default true */
  readonly replaySignals?: boolean;
  readonly cwd?: string;
  /** Where each row's submit is noted before its POST ("sent, answer unknown"). */
  readonly intents?: (row: PlannedRow) => SubmitIntentJournal | undefined;
  /**
   * Decides a submit nobody recorded: a row whose claim is held with no record, or whose POST's
   * answer was lost. With it, a claimed row's records are looked at again first (a failure
   * worth retrying is submitted as the next attempt). Without it such a row is `unknown`.
   */
  readonly resolveLost?: (row: PlannedRow, attempt: number) => Promise<LostSubmit>;
  /** Told after each accepted submit. */
  readonly onSubmitted?: () => void;
  /**
   * Told at once when Ctrl-C (or SIGTERM) arrives while a row's submit holds it back (from
   * its POST until its record is written): the signal reaches the program only when that
   * submit is recorded, which a slow answer or a retry can make seconds away.
   */
  readonly onInterrupt?: (signal: DeferredSignal) => void;
  /** Told (and awaited) when fal answers a submit with 429, before the row is tried again. */
  readonly onRateLimited?: (error: ApiError) => void | Promise<void>;
}

/**
 * Runs one row: follows a recorded request, or claims the row in the store's ledger
 * (`batch-claim:<hash>`, keyed by row key and attempt) before its one submit — recorded with
 * the batch and row tags — then waits, finalises, saves the outputs and answers the row's
 * manifest entry. A row claimed by someone else is never submitted again unless
 * `resolveLost` proves nothing was sent. Throws when `signal` stopped it (the row is left for
 * the next run) or when the store fails outside the submit (its claim, its tags): the caller
 * accounts for that row as `unknown`.
 */
export async function runBatchRow(
  context: BatchRowContext,
  row: PlannedRow,
  work: BatchRowWork,
): Promise<BatchManifestEntry> {
  if (work.kind === 'done') return work.entry;
  if (work.kind === 'follow') return follow(context, row, work.record, false);
  return submitRow(context, row, work.attempt, { claimed: false, tries: 0 });
}

async function save(
  context: BatchRowContext,
  row: PlannedRow,
  record: PendingRecord,
  output: unknown,
): Promise<string[]> {
  const { plan, store } = context;
  if (!context.outDir) return outputsOf(record);
  if ((record.outputs?.length ?? 0) > 0) return outputsOf(record);
  const pattern = context.name
    ?.replaceAll('{row.id}', (row.id ?? `row${row.row}`).replace(/[/\\]/g, '_'))
    .replaceAll('{row.n}', String(row.row))
    .replaceAll('{key}', row.key.slice(0, 12));
  const files = await saveOutputs({
    store,
    requestId: record.requestId,
    result: output,
    outDir: context.outDir,
    settings: context.settings ?? {},
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
    signal: context.signal,
  });
  return files.map((file) => file.path);
}

/** Waits for a recorded request and finishes its row. */
async function follow(
  context: BatchRowContext,
  row: PlannedRow,
  record: PendingRecord,
  fresh: boolean,
): Promise<BatchManifestEntry> {
  const { plan, store, client } = context;
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
      signal: context.signal,
    });
    // The record as finalised (cost settled) comes back with the output: no store reads here.
    const after = done.record ?? (await store.get(record.requestId)) ?? record;
    const outputs = await save(context, row, after, done.output);
    const cost = costOf(after);
    return {
      ...base,
      status: 'completed',
      outputs,
      ...(cost === undefined ? {} : { costUsd: cost }),
    };
  } catch (error) {
    if (context.signal?.aborted) throw error;
    return { ...base, status: 'failed', outputs: [], error: errorOf(error) };
  }
}

/** A row claimed (attempt n) by someone else: its records again, then `resolveLost`. */
async function claimedElsewhere(
  context: BatchRowContext,
  row: PlannedRow,
  attempt: number,
  tries: number,
): Promise<BatchManifestEntry> {
  const { plan, store } = context;
  const base = { row: row.row, ...(row.id ? { id: row.id } : {}), key: row.key };
  const records = (await batchRecords(store, plan)).get(row.key) ?? [];
  if (context.resolveLost) {
    const work = batchRowWork(row, records);
    if (work.kind === 'done') return work.entry;
    if (work.kind === 'follow') return follow(context, row, work.record, false);
    if (work.attempt > attempt)
      return submitRow(context, row, work.attempt, { claimed: false, tries });
    const lost = await context.resolveLost(row, attempt);
    if (lost.kind === 'found') {
      return follow(context, row, await tagRecord(store, lost.record, plan.hash, row), false);
    }
    if (lost.kind === 'not-sent' && tries < (context.maxAttempts ?? 3)) {
      return submitRow(context, row, attempt, { claimed: true, tries });
    }
    // Stored without its batch tags (a crash between the two writes of older versions).
    const untagged =
      records.length === 0 ? await untaggedRecordFor(store, plan.endpointId, row) : undefined;
    if (untagged) {
      return follow(context, row, await tagRecord(store, untagged, plan.hash, row), false);
    }
    return {
      ...base,
      status: 'unknown',
      outputs: [],
      submitted: false,
      error: {
        code: 'CLAIMED',
        message: `row ${row.row} was claimed for submission by a worker that stopped, and ${lost.kind === 'unknown' ? lost.reason : 'it was tried too often'}; it is not submitted again (a duplicate would be paid twice).`,
      },
    };
  }
  // Claimed by an earlier run or another process: its record may have appeared since, or
  // been stored without its batch tags (a crash between the two writes of older versions).
  const again = records.at(-1) ?? (await untaggedRecordFor(store, plan.endpointId, row));
  if (again) return follow(context, row, await tagRecord(store, again, plan.hash, row), false);
  return {
    ...base,
    status: 'unknown',
    outputs: [],
    submitted: false,
    error: {
      code: 'CLAIMED',
      message: `row ${row.row} was claimed for submission by another run and has no record; it is not submitted again (a duplicate would be paid twice). Check fal's request history.`,
    },
  };
}

/**
 * Claims (unless `claimed`: the claim is this step's already), submits and follows one row
 * (attempt n); resolves with its entry. `tries` counts the POSTs this step made.
 */
async function submitRow(
  context: BatchRowContext,
  row: PlannedRow,
  attempt: number,
  state: { readonly claimed: boolean; readonly tries: number },
): Promise<BatchManifestEntry> {
  const { plan, store, client, registry } = context;
  const ledger = requireBudgetLedger(store);
  const maxAttempts = context.maxAttempts ?? 3;
  const base = { row: row.row, ...(row.id ? { id: row.id } : {}), key: row.key };
  let claimId: string | undefined;
  if (!state.claimed) {
    const claim = await ledger.reserve({
      scope: batchClaimScope(plan.hash),
      window: farWindow(),
      amountUsd: 0,
      capUsd: MAX_BUDGET_USD,
      requestKey: `${row.key}:${attempt}`,
      ttlMs: MAX_RESERVATION_TTL_MS,
    });
    if (claim.ok && claim.duplicate) return claimedElsewhere(context, row, attempt, state.tries);
    claimId = claim.ok ? claim.reservationId : undefined;
  }
  const releaseClaim = async () => {
    if (claimId) await ledger.release(claimId).catch(() => {});
  };
  const cost = context.costStep?.cost;
  const intents = context.intents?.(row);
  let record: PendingRecord;
  try {
    const result = await submitAndRecord({
      endpointId: plan.endpointId,
      input: row.input,
      registry,
      client,
      store,
      tags: batchRowTags(plan.hash, row),
      signals: {
        replay: context.replaySignals ?? true,
        onInterrupt: (event) => context.onInterrupt?.(event.signal),
      },
      ...(cost ? { cost } : {}),
      ...(intents ? { intents } : {}),
      ...(context.abortSubmits && context.signal ? { signal: context.signal } : {}),
      ...(context.cwd ? { cwd: context.cwd } : {}),
    });
    record = result.record;
  } catch (error) {
    // Stopped before the POST (or this worker lost the row): nothing was sent; the claim stays
    // for whoever takes the row over, who sees that nothing was noted or recorded.
    if (context.abortSubmits && context.signal?.aborted) throw error;
    const tries = state.tries + 1;
    const falai = toFalaiError(error);
    if (falai.code === 'BUDGET_EXCEEDED' || falai.code === 'COST_UNKNOWN') {
      // Refused by the cost step before anything was sent (its holds already released): the
      // row stays unclaimed, so a later run with more budget submits it.
      await releaseClaim();
      const over = falai.code === 'BUDGET_EXCEEDED';
      return {
        ...base,
        status: over ? 'over-budget' : 'not-submitted',
        outputs: [],
        submitted: false,
        error: { code: falai.code, message: budgetMessage(falai, context.costStep?.cap) },
      };
    }
    const fate = submitFate(falai);
    if (fate === 'not-taken') {
      // fal answered with a refusal, or it failed before the POST: nothing to pay for, and
      // nothing to find. The claim goes, so a later run submits the row again.
      await releaseClaim();
      if (submitNotTaken(error)) {
        if (error instanceof ApiError && error.status === 429) await context.onRateLimited?.(error);
        if (attempt + 1 < maxAttempts && tries < maxAttempts && !context.signal?.aborted)
          return submitRow(context, row, attempt + 1, { claimed: false, tries });
      }
      return { ...base, status: 'failed', outputs: [], submitted: false, error: errorOf(error) };
    }
    if (fate === 'unknown' && context.resolveLost) {
      // fal may hold it (the answer was lost): find it before anything is sent again.
      const lost = await context.resolveLost(row, attempt);
      if (lost.kind === 'found') {
        context.onSubmitted?.();
        return follow(context, row, await tagRecord(store, lost.record, plan.hash, row), true);
      }
      if (lost.kind === 'not-sent' && tries < maxAttempts && !context.signal?.aborted) {
        return submitRow(context, row, attempt, { claimed: true, tries });
      }
    }
    // fal has it and the record could not be written (the id is in the error), or it may have
    // it: the claim stays, so it is never paid for twice.
    return { ...base, status: 'unknown', outputs: [], submitted: false, error: errorOf(error) };
  }
  // Tagged at submit; a record from before batch tags gets them here (outside the submit's
  // error handling: fal has this request whatever the store says now).
  record = await tagRecord(store, record, plan.hash, row);
  context.onSubmitted?.();
  return follow(context, row, record, true);
}

/**
 * The manifest's words for a row the cost step refused: the batch cap in the batch's terms,
 * a config budget (or an unknown cost) in core's own message.
 */
function budgetMessage(error: FalaiError, cap: BudgetCap | undefined): string {
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
