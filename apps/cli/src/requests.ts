import type {
  PendingPatch,
  PendingRecord,
  PendingStore,
  RecordError,
  RequestOutcome,
  UpdateOutcome,
} from '@falai/core';
import {
  ACTIVE_STATUSES,
  type FalaiError,
  InputError,
  QueueError,
  summariseOutput,
} from '@falai/core';

/** A request the user named, with the endpoint filled in from the store when left out. */
export interface RequestTarget {
  readonly endpointId: string;
  readonly requestId: string;
  readonly record?: PendingRecord;
}

/**
 * Reads the seed's `[endpoint] <request-id>` argument shape: with two values the first is
 * the endpoint; with one, it is the request id and the store supplies the endpoint.
 */
export async function resolveTarget(
  store: PendingStore,
  first: string,
  second: string | undefined,
  command: string,
): Promise<RequestTarget> {
  const requestId = second ?? first;
  const record = await store.get(requestId);
  if (second !== undefined) {
    return { endpointId: first, requestId, ...(record ? { record } : {}) };
  }
  if (!record) {
    throw new InputError(
      `Request ${requestId} is not in the store (${store.location}); pass its endpoint too: falai ${command} <endpoint> ${requestId}.`,
      [{ path: ['request-id'], message: 'unknown request id', kind: 'reference' }],
    );
  }
  return { endpointId: record.endpointId, requestId, record };
}

/** The store's error shape for a FalaiError. */
export function recordError(error: FalaiError): RecordError {
  const json = error.toJSON();
  return json.details === undefined
    ? { code: json.code, message: json.message }
    : { code: json.code, message: json.message, details: json.details };
}

/** The patch that records a terminal outcome. */
export function outcomePatch(outcome: RequestOutcome): PendingPatch {
  if (outcome.state === 'completed') {
    // A record keeps a bounded summary, never inline data URIs or huge values (issue #11).
    return {
      status: 'completed',
      result: summariseOutput(outcome.output),
      error: null,
      queuePosition: null,
    };
  }
  if (outcome.state === 'failed') {
    return { status: 'failed', error: recordError(outcome.error), queuePosition: null };
  }
  return {
    status: 'cancelled',
    error: { code: 'REQUEST_CANCELLED', message: 'The request was cancelled.' },
    queuePosition: null,
  };
}

/**
 * Records a terminal outcome only if the request is still active (and, for pollers, the
 * lease is still ours), so two processes never finalise the same request twice.
 */
export async function finalise(
  store: PendingStore,
  requestId: string,
  outcome: RequestOutcome,
  leaseOwner?: string,
): Promise<UpdateOutcome> {
  return store.update(requestId, outcomePatch(outcome), {
    status: ACTIVE_STATUSES,
    ...(leaseOwner ? { leaseOwner } : {}),
  });
}

/** The error to raise for a request that did not complete. */
export function outcomeError(outcome: RequestOutcome): FalaiError | undefined {
  if (outcome.state === 'failed') return outcome.error;
  if (outcome.state === 'cancelled') {
    return new QueueError('REQUEST_CANCELLED', `Request ${outcome.requestId} was cancelled.`, {
      requestId: outcome.requestId,
      endpointId: outcome.endpointId,
    });
  }
  return undefined;
}
