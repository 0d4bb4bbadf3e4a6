import type {
  PendingPatch,
  PendingRecord,
  PendingStore,
  RecordError,
  RequestOutcome,
  UpdateOutcome,
} from '@falai/core';
import { ACTIVE_STATUSES, FalaiError, InputError, QueueError, summariseOutput } from '@falai/core';

/** A request the user named, with the endpoint filled in from the store when left out. */
export interface RequestTarget {
  readonly endpointId: string;
  readonly requestId: string;
  readonly record?: PendingRecord;
}

/** The endpoint the seed's file migration gives a request whose model it did not record. */
export const UNKNOWN_ENDPOINT = 'unknown';

/** A request id prefix shorter than this is never expanded (like git's short hashes). */
export const MIN_ID_PREFIX = 4;

/**
 * The stored record a request id names: the exact id, else the one record whose id starts
 * with it (ids can be shortened to a unique prefix of at least {@link MIN_ID_PREFIX}
 * characters). An ambiguous prefix is an error listing the candidates; no match is undefined.
 */
export async function findRecord(
  store: PendingStore,
  id: string,
  command: string,
): Promise<PendingRecord | undefined> {
  const text = id.trim();
  const exact = await store.get(text);
  if (exact || text.length < MIN_ID_PREFIX) return exact;
  const prefix = text.toLowerCase();
  const matches = (await store.list()).filter((record) =>
    record.requestId.toLowerCase().startsWith(prefix),
  );
  if (matches.length <= 1) return matches[0];
  const shown = matches
    .slice(0, 10)
    .map((record) => `${record.requestId} (${record.endpointId}, ${record.status})`);
  const more = matches.length > shown.length ? `, and ${matches.length - shown.length} more` : '';
  throw new InputError(
    `Request id prefix "${text}" matches ${matches.length} requests: ${shown.join(', ')}${more}. Type more of the id: falai ${command} <request-id>.`,
    [{ path: ['request-id'], message: 'ambiguous request id prefix', kind: 'reference' }],
    { details: { prefix: text, candidates: matches.map((record) => record.requestId) } },
  );
}

/**
 * Reads the seed's `[endpoint] <request-id>` argument shape: with two values the first is
 * the endpoint; with one, it is the request id and the store supplies the endpoint. The
 * request id may be a unique prefix of a stored one. Naming the endpoint of a record the
 * seed left without one (`unknown`) records it, so poll can check the request again.
 */
export async function resolveTarget(
  store: PendingStore,
  first: string | undefined,
  second: string | undefined,
  command: string,
): Promise<RequestTarget> {
  if (first === undefined || first.trim() === '') {
    throw new FalaiError(
      'USAGE',
      `Missing the request id: falai ${command} [ENDPOINT] REQUEST-ID (see --help).`,
    );
  }
  const given = second ?? first;
  const record = await findRecord(store, given, command);
  const requestId = record?.requestId ?? given.trim();
  if (second !== undefined) {
    if (record?.endpointId === UNKNOWN_ENDPOINT && first !== UNKNOWN_ENDPOINT) {
      const fixed = { ...record, endpointId: first };
      await store.put(fixed);
      return { endpointId: first, requestId, record: fixed };
    }
    return { endpointId: first, requestId, ...(record ? { record } : {}) };
  }
  if (!record) {
    throw new InputError(
      `Request ${requestId} is not in the store (${store.location}); pass its endpoint too: falai ${command} <endpoint> ${requestId}.`,
      [{ path: ['request-id'], message: 'unknown request id', kind: 'reference' }],
    );
  }
  if (record.endpointId === UNKNOWN_ENDPOINT) {
    throw new InputError(
      `Request ${requestId} came from the seed's pending file without a model id, so falai does not know its endpoint. Pass it once and falai records it: falai ${command} <endpoint> ${requestId}.`,
      [{ path: ['endpoint'], message: 'endpoint unknown', kind: 'reference' }],
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
  // An expired result (fal no longer holds it) is a failure the store can name: its error says so.
  if (outcome.state === 'failed' || outcome.state === 'expired') {
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
  if (outcome.state === 'failed' || outcome.state === 'expired') return outcome.error;
  if (outcome.state === 'cancelled') {
    return new QueueError('REQUEST_CANCELLED', `Request ${outcome.requestId} was cancelled.`, {
      requestId: outcome.requestId,
      endpointId: outcome.endpointId,
    });
  }
  return undefined;
}
