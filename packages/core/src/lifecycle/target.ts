import { FalaiError, InputError } from '../errors/falai-error.js';
import type { PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';

/** A request someone named, with the endpoint filled in from the store when left out. */
export interface RequestTarget {
  readonly endpointId: string;
  readonly requestId: string;
  /** The stored record, when the store knows the request. */
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
 * `command` names the CLI command in the message (`falai <command> <request-id>`).
 */
export async function findRecord(
  store: PendingStore,
  id: string,
  command = 'wait',
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
