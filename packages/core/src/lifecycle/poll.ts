import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pLimit from 'p-limit';
import { ApiError, toFalaiError } from '../errors/falai-error.js';
import type { FalClient, RequestOutcome } from '../queue/types.js';
import {
  ACTIVE_STATUSES,
  type OutputFile,
  type PendingRecord,
  type RecordError,
} from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { recordError, recordOutcome } from './outcome.js';
import { type SaveOutputsOptions, saveOutputs } from './save.js';
import { progressPatch } from './status.js';
import { UNKNOWN_ENDPOINT } from './target.js';

/**
 * How many requests one poll pass checks at once. A check is two cheap GETs (status, then the
 * result once finished) and fal's concurrency limits apply to running jobs, not to status
 * checks, so 16 in flight is light for fal and for the stores (a pass over 1,000 finished
 * requests is ~14x faster than one at a time, against the >= 8x target a pool of 8 could not
 * reach). If fal does push back, core's retry policy honours 429 and `Retry-After`.
 */
export const POLL_CONCURRENCY = 16;

/** How long a poller holds a request before another may take it over. */
export const LEASE_TTL_MS = 120_000;

/** How long a watching poll keeps retrying a store that fails every pass before it gives up. */
export const POLL_STORE_RETRY_MS = 5 * 60_000;

/** A lease owner id unique to this process: `hostname:pid:random`. */
export function leaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** Errors that no retry fixes: they stop the whole pass instead of marking every record. */
const FATAL = new Set(['AUTH_MISSING', 'AUTH_INVALID', 'AUTH_REJECTED', 'CONFIG_INVALID']);

/** One request a poll pass finalised. */
export interface PollItem {
  readonly requestId: string;
  readonly endpointId: string;
  readonly status: 'completed' | 'failed' | 'cancelled' | 'expired';
  /** The output (completed only), as fal sent it. */
  readonly result?: unknown;
  readonly error?: RecordError;
  /** Files saved (with `download`). */
  readonly outputs?: OutputFile[];
}

/** A request a pass left pending because checking it failed. */
export interface PollError {
  readonly requestId: string;
  readonly code: string;
  readonly message: string;
}

/** What a poll run reports as it goes (front ends render these). */
export type PollEvent =
  /** A request was finalised (and its files saved, with `download`). */
  | { readonly kind: 'finished'; readonly item: PollItem }
  /** Checking a request failed; it stays pending for the next pass. */
  | { readonly kind: 'error'; readonly error: PollError }
  /** A request without an endpoint (from the seed's file) cannot be checked; once per run. */
  | { readonly kind: 'unknown-endpoint'; readonly error: PollError }
  /** A watching run could not read the store; it tries again. */
  | { readonly kind: 'store-retry'; readonly message: string };

/** Options of {@link pollRequests}. */
export interface PollRequestsOptions {
  readonly store: PendingStore;
  readonly client: FalClient;
  /** Checks in flight at once. @default POLL_CONCURRENCY (16) */
  readonly concurrency?: number;
  /** The lease owner. @default leaseOwner() */
  readonly owner?: string;
  /** @default LEASE_TTL_MS */
  readonly leaseTtlMs?: number;
  /** Keep passing until nothing checkable is pending. @default false */
  readonly watch?: boolean;
  /** Pause between passes with `watch`. @default 2000 */
  readonly intervalMs?: number | undefined;
  /** With `watch`, stop after this long even if requests are pending. */
  readonly timeoutMs?: number | undefined;
  /** With `watch`, how long a failing store is retried. @default POLL_STORE_RETRY_MS */
  readonly storeRetryMs?: number;
  /**
   * Stops the run: checks not yet started are left for the next run, those in flight finish
   * and are recorded; the summary says `interrupted`.
   */
  readonly signal?: AbortSignal | undefined;
  /** Save the outputs of completed requests: where each request's files go. */
  readonly download?: {
    readonly target: (
      record: PendingRecord,
    ) => Pick<SaveOutputsOptions, 'outDir'> & Partial<Pick<SaveOutputsOptions, 'fileName'>>;
    readonly force?: boolean;
    /** The settings whose download limits apply (`saveOutputs`). */
    readonly settings: SaveOutputsOptions['settings'];
  };
  readonly onEvent?: (event: PollEvent) => void;
  /** The clock. @default Date.now */
  readonly now?: () => number;
}

/** What a poll run did. */
export interface PollSummary {
  readonly completed: PollItem[];
  readonly count: number;
  /** Requests still queued or running after the last pass. */
  readonly pending: number;
  readonly errors: PollError[];
  /** Requests skipped because another poller holds their lease. */
  readonly skipped: number;
  readonly passes: number;
  /** Requests that cannot be checked until their endpoint is named. */
  readonly unchecked: number;
  readonly interrupted: boolean;
}

type CheckState = 'pending' | 'done' | 'skipped' | 'unknown';

/**
 * The leased poll pass: every queued or running request in the store is claimed with a lease
 * (so several pollers sharing a store never finalise one twice), checked with one status call
 * (the result once finished), and recorded: its position and state while active, its outcome
 * through the one outcome rule when it ended. A request fal no longer knows is asked about as
 * one it accepted and ends `expired`. Network errors leave a request pending (its attempt and
 * error counters go up); auth and config errors stop the run. With `watch`, passes repeat
 * until nothing checkable is pending (a store that fails is retried with backoff for
 * `storeRetryMs`).
 */
export async function pollRequests(options: PollRequestsOptions): Promise<PollSummary> {
  const { store, client } = options;
  const owner = options.owner ?? leaseOwner();
  const ttl = options.leaseTtlMs ?? LEASE_TTL_MS;
  const clock = options.now ?? Date.now;
  const limit = pLimit(options.concurrency ?? POLL_CONCURRENCY);
  const interval = options.intervalMs ?? 2000;
  const storeRetryMs = options.storeRetryMs ?? POLL_STORE_RETRY_MS;
  const emit = (event: PollEvent) => options.onEvent?.(event);
  const stopped = () => options.signal?.aborted === true;
  const completed: PollItem[] = [];
  const errors: PollError[] = [];
  const unknownEndpoint = new Set<string>();

  const checkOne = async (record: PendingRecord): Promise<CheckState> => {
    if (stopped()) return 'pending';
    if (record.endpointId === UNKNOWN_ENDPOINT) {
      if (!unknownEndpoint.has(record.requestId)) {
        unknownEndpoint.add(record.requestId);
        const error = {
          requestId: record.requestId,
          code: 'INPUT_INVALID',
          message: `endpoint unknown (the seed's file did not record its model); name it once with: falai status <endpoint> ${record.requestId}, or drop it: falai forget ${record.requestId}`,
        };
        errors.push(error);
        emit({ kind: 'unknown-endpoint', error });
      }
      return 'unknown';
    }
    const claim = await store.claim(record.requestId, owner, ttl);
    if (claim.kind === 'held') return 'skipped';
    if (claim.kind === 'missing') return 'done';
    const current = claim.record;
    if (!ACTIVE_STATUSES.includes(current.status)) {
      await store.release(current.requestId, owner);
      return 'done';
    }
    const { requestId, endpointId } = current;
    try {
      let outcome: RequestOutcome;
      try {
        const status = await client.status(endpointId, requestId);
        if (status.state !== 'completed') {
          await store.update(
            requestId,
            {
              ...progressPatch(current, { ...status, state: status.state }),
              attempts: { ...current.attempts, poll: current.attempts.poll + 1, errors: 0 },
            },
            { status: ACTIVE_STATUSES, leaseOwner: owner },
          );
          return 'pending';
        }
        outcome = await client.result(endpointId, requestId, { knownRequest: true });
      } catch (error) {
        // A stored request fal answers 404 for was dropped after its retention: `expired`.
        if (!(error instanceof ApiError && error.code === 'NOT_FOUND')) throw error;
        outcome = await client.result(endpointId, requestId, { knownRequest: true });
      }
      const updated = await recordOutcome(store, requestId, outcome, { leaseOwner: owner });
      if (updated.kind !== 'updated') return 'skipped';
      let item: PollItem = {
        requestId,
        endpointId,
        status: outcome.state,
        ...(outcome.state === 'completed' ? { result: outcome.output } : {}),
        ...(outcome.state === 'failed' || outcome.state === 'expired'
          ? { error: recordError(outcome.error) }
          : {}),
      };
      if (outcome.state === 'completed' && options.download) {
        const outputs = await saveOutputs({
          store,
          requestId,
          result: outcome.output,
          ...options.download.target(current),
          force: options.download.force ?? false,
          settings: options.download.settings,
        });
        item = { ...item, outputs };
      }
      completed.push(item);
      emit({ kind: 'finished', item });
      return 'done';
    } catch (error) {
      const falai = toFalaiError(error);
      if (FATAL.has(falai.code) || falai.code === 'OUTPUT_EXISTS') throw falai;
      const failure = { requestId, code: falai.code, message: falai.message };
      errors.push(failure);
      emit({ kind: 'error', error: failure });
      await store
        .update(
          requestId,
          {
            attempts: {
              ...current.attempts,
              poll: current.attempts.poll + 1,
              errors: current.attempts.errors + 1,
            },
            error: recordError(falai),
          },
          { status: ACTIVE_STATUSES, leaseOwner: owner },
        )
        .catch(() => undefined);
      return 'pending';
    } finally {
      await store.release(requestId, owner).catch(() => false);
    }
  };

  const started = clock();
  const overTime = () => options.timeoutMs !== undefined && clock() - started >= options.timeoutMs;
  let passes = 0;
  let pending = 0;
  let skipped = 0;
  let unchecked = 0;
  let storeFailing: { since: number; times: number } | undefined;
  for (;;) {
    passes++;
    let results: CheckState[];
    try {
      const active = await store.list({ status: ACTIVE_STATUSES });
      results = await Promise.all(active.map((record) => limit(() => checkOne(record))));
      storeFailing = undefined;
    } catch (error) {
      // A watching run rides out a store that is briefly unreachable (a Redis restart): the
      // pass is retried with backoff, and only a store failing for storeRetryMs ends the run.
      const failure = toFalaiError(error);
      storeFailing ??= { since: clock(), times: 0 };
      if (!options.watch || failure.code !== 'STORE_ERROR' || overTime()) throw error;
      if (clock() - storeFailing.since >= storeRetryMs) throw error;
      emit({ kind: 'store-retry', message: failure.message });
      await pause(Math.min(interval * 2 ** storeFailing.times++, 30_000), options.signal);
      if (stopped()) break;
      continue;
    }
    pending = results.filter((state) => state !== 'done').length;
    skipped = results.filter((state) => state === 'skipped').length;
    unchecked = results.filter((state) => state === 'unknown').length;
    if (!options.watch || stopped() || pending - unchecked === 0 || overTime()) break;
    await pause(interval, options.signal);
    if (stopped()) break;
  }
  return {
    completed,
    count: completed.length,
    pending,
    errors,
    skipped,
    passes,
    unchecked,
    interrupted: stopped(),
  };
}

/** Sleeps `ms`, or less when `signal` fires (it never throws). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
