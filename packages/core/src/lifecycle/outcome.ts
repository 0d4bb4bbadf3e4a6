import { settleRecordCost } from '../cost/record-cost.js';
import type { FalaiError } from '../errors/falai-error.js';
import { QueueError } from '../errors/falai-error.js';
import type { RequestOutcome } from '../queue/types.js';
import { type OutputSummaryOptions, summariseOutput } from '../store/output-summary.js';
import type { PendingRecord } from '../store/record.js';
import {
  ACTIVE_STATUSES,
  type OutputFile,
  type PendingPatch,
  type RecordError,
  type RequestStatus,
} from '../store/record.js';
import type { PendingStore, UpdateCondition, UpdateOutcome } from '../store/types.js';

/**
 * The one rule that turns the end of a request into a store update. Every path that learns
 * how a request ended — waiting, the leased poll pass, fetching a result, a cancel that fal
 * confirmed, the webhook receiver — records it through {@link recordOutcome} (or
 * {@link outcomePatch} plus {@link finaliseRecord}), so a record finalised one way is
 * indistinguishable from one finalised another way.
 */

/** Drops `endpointId` from each member of a union (a webhook delivery does not carry it). */
type WithoutEndpoint<T> = T extends unknown ? Omit<T, 'endpointId'> : never;

/** A terminal outcome, with or without the endpoint (webhook deliveries have none). */
export type FinalOutcome = RequestOutcome | WithoutEndpoint<RequestOutcome>;

/** Options of {@link outcomePatch}. */
export interface OutcomePatchOptions extends OutputSummaryOptions {
  /** Files already written for the output's inline data URIs, added to the record's `outputs`. */
  readonly outputs?: readonly OutputFile[];
}

/** The status a terminal outcome is stored as: `expired` is its own status, not a failure. */
export function outcomeStatus(outcome: FinalOutcome): RequestStatus {
  return outcome.state;
}

/** The store's error shape for a FalaiError (its `toJSON`, without an absent `details`). */
export function recordError(error: FalaiError): RecordError {
  const json = error.toJSON();
  return json.details === undefined
    ? { code: json.code, message: json.message }
    : { code: json.code, message: json.message, details: json.details };
}

/**
 * The store patch that records a terminal outcome (pure). A completed output goes through
 * `summariseOutput`: the record keeps a bounded summary with references, never inline data
 * URIs or huge values (issue #11). `failed` and `expired` keep the error that says why;
 * `cancelled` keeps a `REQUEST_CANCELLED` error. The queue position goes.
 */
export function outcomePatch(
  outcome: FinalOutcome,
  options: OutcomePatchOptions = {},
): PendingPatch {
  switch (outcome.state) {
    case 'completed': {
      const { outputs, ...summary } = options;
      return {
        status: 'completed',
        result: summariseOutput(outcome.output, summary),
        error: null,
        queuePosition: null,
        ...(outputs && outputs.length > 0 ? { outputs } : {}),
      };
    }
    case 'failed':
    case 'expired':
      return { status: outcome.state, error: recordError(outcome.error), queuePosition: null };
    case 'cancelled':
      return {
        status: 'cancelled',
        error: { code: 'REQUEST_CANCELLED', message: 'The request was cancelled.' },
        queuePosition: null,
      };
  }
}

/** Options of {@link finaliseRecord} and {@link recordOutcome}. */
export interface FinaliseOptions {
  /** Only while this poller still holds the request's lease. */
  readonly leaseOwner?: string;
  /** When the request was first seen running, if the record does not say yet (provenance). */
  readonly startedAt?: string;
  /** The clock. @default new Date() */
  readonly now?: Date;
  /**
   * `x-fal-billable-units` of the result, when fal sent it: the actual cost (units × the unit
   * price the record was estimated with) goes into `provenance.cost` and settles the record's
   * budget reservations (see `settleRecordCost`).
   */
  readonly billableUnits?: number;
}

/** The condition every finalising update carries: the request is still queued or running. */
export function finaliseCondition(leaseOwner?: string): UpdateCondition {
  return { status: ACTIVE_STATUSES, ...(leaseOwner ? { leaseOwner } : {}) };
}

/**
 * Applies a finalising patch only while the request is still active (and, for pollers, the
 * lease is still ours), so two processes — or a poller and the webhook receiver — never
 * finalise one request twice: the second gets `conflict`. Stamps `completedAt` (provenance).
 * The one that finalised then records what the request cost and settles its budget
 * reservations (`settleRecordCost`: billable units × unit price, else the estimate).
 */
export async function finaliseRecord(
  store: PendingStore,
  requestId: string,
  patch: PendingPatch,
  options: FinaliseOptions = {},
): Promise<UpdateOutcome> {
  const now = (options.now ?? new Date()).toISOString();
  const update = await store.update(
    requestId,
    {
      ...patch,
      completedAt: now,
      ...(options.startedAt ? { startedAt: options.startedAt } : {}),
    },
    finaliseCondition(options.leaseOwner),
  );
  if (update.kind !== 'updated') return update;
  return {
    kind: 'updated',
    record: await settleRecordCost(store, update.record, options.billableUnits),
  };
}

/** Records a terminal outcome: {@link outcomePatch} applied by {@link finaliseRecord}. */
export function recordOutcome(
  store: PendingStore,
  requestId: string,
  outcome: FinalOutcome,
  options: FinaliseOptions & OutcomePatchOptions = {},
): Promise<UpdateOutcome> {
  const { leaseOwner, startedAt, now, billableUnits: _, ...patchOptions } = options;
  const units =
    'billableUnits' in outcome && outcome.billableUnits !== undefined
      ? outcome.billableUnits
      : options.billableUnits;
  return finaliseRecord(store, requestId, outcomePatch(outcome, patchOptions), {
    ...(leaseOwner ? { leaseOwner } : {}),
    ...(startedAt ? { startedAt } : {}),
    ...(now ? { now } : {}),
    ...(units === undefined ? {} : { billableUnits: units }),
  });
}

/** The record an update left: the updated one, the current one on conflict, else undefined. */
export function recordAfter(update: UpdateOutcome) {
  return update.kind === 'updated'
    ? update.record
    : update.kind === 'conflict'
      ? update.current
      : undefined;
}

/**
 * The error a request that did not complete raises: its own error when it failed or expired,
 * `REQUEST_CANCELLED` when it was cancelled; undefined when it completed.
 */
export function outcomeError(outcome: RequestOutcome): FalaiError | undefined {
  if (outcome.state === 'failed' || outcome.state === 'expired') return outcome.error;
  if (outcome.state === 'cancelled') {
    return new QueueError('REQUEST_CANCELLED', `Request ${outcome.requestId} was cancelled.`, {
      requestId: outcome.requestId,
      endpointId: outcome.endpointId,
    });
  }
  return undefined;
}

/** A request that completed, as waiting or fetching its result found it. */
export interface CompletedRequest {
  readonly requestId: string;
  readonly endpointId: string;
  /** The model's output, exactly as fal sent it (64-bit integers as bigint). */
  readonly output: unknown;
  /** The stored record afterwards, when the store knows the request. */
  readonly record?: PendingRecord;
}

/**
 * The end of every path that learned an outcome: record it (when the store knows the request,
 * `record` given), then raise the error of a request that did not complete, or return the
 * completed output with the record as it now is.
 */
export async function settleOutcome(
  store: PendingStore,
  outcome: RequestOutcome,
  record: PendingRecord | undefined,
  options: FinaliseOptions = {},
): Promise<CompletedRequest> {
  const stored = record
    ? recordAfter(await recordOutcome(store, outcome.requestId, outcome, options))
    : undefined;
  const failure = outcomeError(outcome);
  if (failure) throw failure;
  return {
    requestId: outcome.requestId,
    endpointId: outcome.endpointId,
    output: (outcome as Extract<RequestOutcome, { state: 'completed' }>).output,
    ...(stored ? { record: stored } : {}),
  };
}
