import * as v from 'valibot';
import { knownSecrets, secretsFromEnv } from '../auth/secrets.js';
import { StoreError } from '../errors/falai-error.js';
import { parseJsonExact, stringifyJsonExact } from '../json/exact.js';
import {
  applyPatch,
  type Lease,
  type PendingPatch,
  type PendingRecord,
  parsePendingRecord,
} from './record.js';
import {
  type ClaimOutcome,
  conditionHolds,
  type UpdateCondition,
  type UpdateOutcome,
} from './types.js';

/** Where a store operation happens, so errors can name the store and the place. */
export interface StoreContext {
  readonly store: string;
  readonly operation: string;
  /** A file path, a database path plus row, a Redis key. */
  readonly location: string;
}

function describeIssues(error: unknown): string {
  if (v.isValiError(error)) {
    return error.issues
      .slice(0, 5)
      .map((issue) => {
        const path = v.getDotPath(issue);
        return path ? `${path}: ${issue.message}` : issue.message;
      })
      .join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

/** What a secret is replaced with when it turns up inside a record. */
export const REDACTED_SECRET = '[redacted]';

export { secretsFromEnv };

function scrubValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') {
    let out = value;
    for (const secret of secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED_SECRET);
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, so a `__proto__` key (JSON.parse makes it an own key) stays a key.
      Object.defineProperty(out, scrubValue(key, secrets) as string, {
        value: scrubValue(item, secrets),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * Replaces every occurrence of each of `secrets`, as it is and URL-encoded (`id%3Asecret`, as
 * a URL or fal's echo carries it), with `[redacted]`, in strings and object keys at any depth.
 * Returns `value` itself when its JSON holds none of them (the usual case: no walk, no copy).
 * Empty strings in `secrets` are ignored.
 */
export function scrubWith<T>(value: T, secrets: readonly string[]): T {
  // Longest first, so the whole encoded key is replaced, not only its secret half (which
  // would leave the key id behind).
  const plain = secrets.filter((secret) => secret.length > 0);
  const all = [...new Set([...plain, ...plain.map((secret) => encodeURIComponent(secret))])].sort(
    (a, b) => b.length - a.length,
  );
  if (all.length === 0) return value;
  const text = jsonOf(value);
  if (text === undefined || !all.some((secret) => text.includes(secret))) return value;
  return scrubValue(value, all) as T;
}

/**
 * Replaces every occurrence of a FAL_KEY — from the environment, or any key this process
 * resolved from another source (`knownSecrets`) — with `[redacted]`. A key pasted into a
 * prompt or a URL must still never land on disk or in Redis.
 */
export function scrubSecrets<T>(value: T, env: NodeJS.ProcessEnv = process.env): T {
  return scrubWith(value, [...secretsFromEnv(env), ...knownSecrets()]);
}

/** `JSON.stringify` that writes a `bigint` (an integer beyond 2^53) as its exact digits. */
function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (error instanceof TypeError && /bigint/i.test(error.message)) {
      return stringifyJsonExact(value);
    }
    throw error;
  }
}

/**
 * The text a store writes for a record: plain JSON, with integers beyond 2^53 (fal's 64-bit
 * seeds, held as `bigint`) written as their exact digits.
 */
export function recordToJson(record: PendingRecord): string {
  return jsonOf(record) as string;
}

/**
 * The largest record a store accepts: its JSON, in UTF-8 bytes. Every command reads records
 * whole, so one must never grow with a result (large outputs are summarised before they are
 * recorded, see `summariseOutput`); a record over this is refused, and nothing is written.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** The size of a record as stores write it (UTF-8 bytes of its JSON). */
export function recordBytes(record: PendingRecord): number {
  return Buffer.byteLength(recordToJson(record), 'utf8');
}

function checkRecordSize(record: PendingRecord, context: StoreContext, what: string): void {
  const json = recordToJson(record);
  // A string is at most 3 bytes per UTF-16 unit: most records need no byte count at all.
  if (json.length * 3 <= MAX_RECORD_BYTES) return;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= MAX_RECORD_BYTES) return;
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  throw new StoreError(
    'STORE_ERROR',
    `Refusing ${what} request ${record.requestId} in ${context.location}: the record would be ` +
      `${mb(bytes)}, over the ${mb(MAX_RECORD_BYTES)} a record may hold (a large result or ` +
      'input belongs in files, not in the store). Nothing was written; the result stays ' +
      `available from fal (falai result ${record.requestId}) while fal keeps it.`,
    { ...context, details: { requestId: record.requestId, bytes, limit: MAX_RECORD_BYTES } },
  );
}

/**
 * Validates a record before it is written and strips secrets from it. An invalid record
 * is a programming error of the caller, so nothing is written and `STORE_ERROR` says why.
 */
export function prepareRecordForWrite(record: unknown, context: StoreContext): PendingRecord {
  let parsed: PendingRecord;
  try {
    parsed = parsePendingRecord(record);
  } catch (error) {
    const id =
      typeof record === 'object' && record !== null && 'requestId' in record
        ? String((record as { requestId: unknown }).requestId)
        : '(no requestId)';
    throw new StoreError(
      'STORE_ERROR',
      `Refusing to write an invalid pending record ${id} to ${context.location}: ${describeIssues(error)}. Nothing was written.`,
      { ...context, cause: error, details: { requestId: id } },
    );
  }
  const clean = scrubSecrets(parsed);
  checkRecordSize(clean, context, 'to store');
  return clean;
}

/**
 * Validates a record read back from a store. Damage raises `STORE_CORRUPT` naming the place;
 * the data is left where it is so the user can inspect or repair it.
 */
export function parseStoredRecord(value: unknown, context: StoreContext): PendingRecord {
  try {
    return parsePendingRecord(value);
  } catch (error) {
    throw corruptError(context, describeIssues(error), error);
  }
}

/** Parses the JSON text of a stored record; see `parseStoredRecord`. */
export function parseStoredJson(text: string, context: StoreContext): PendingRecord {
  let value: unknown;
  try {
    value = parseJsonExact(text);
  } catch (error) {
    throw corruptError(context, `not valid JSON (${describeIssues(error)})`, error);
  }
  return parseStoredRecord(value, context);
}

/** The error for damaged stored data; one wording for every store. */
export function corruptError(context: StoreContext, problem: string, cause?: unknown): StoreError {
  return new StoreError(
    'STORE_CORRUPT',
    `The ${context.store} store at ${context.location} holds damaged data: ${problem}. ` +
      'falai left it untouched; repair or move it away (your pending requests are in it), ' +
      'or point FALAI_STORE / --store at another location.',
    { ...context, ...(cause === undefined ? {} : { cause }) },
  );
}

/** Decides a conditional update (pure), so every store gives the same answer. */
export function planUpdate(
  current: PendingRecord | undefined,
  patch: PendingPatch,
  condition: UpdateCondition | undefined,
  now: number = Date.now(),
): UpdateOutcome {
  if (!current) return { kind: 'missing' };
  if (!conditionHolds(current, condition, now)) return { kind: 'conflict', current };
  let next: PendingRecord;
  try {
    next = applyPatch(current, patch, new Date(now));
  } catch (error) {
    throw new StoreError(
      'STORE_ERROR',
      `Refusing an update of ${current.requestId} that would make it invalid: ` +
        `${describeIssues(error)}. Nothing was changed.`,
      {
        store: 'any',
        operation: 'update',
        cause: error,
        details: { requestId: current.requestId },
      },
    );
  }
  const clean = scrubSecrets(next);
  checkRecordSize(
    clean,
    { store: 'any', operation: 'update', location: 'the store' },
    'an update of',
  );
  return { kind: 'updated', record: clean };
}

function withLease(record: PendingRecord, lease: Lease | undefined): PendingRecord {
  const next: PendingRecord = { ...record };
  if (lease) next.lease = lease;
  else delete next.lease;
  return next;
}

function leaseLive(lease: Lease | undefined, now: number): lease is Lease {
  return lease !== undefined && Date.parse(lease.expiresAt) > now;
}

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new StoreError('STORE_ERROR', `A lease needs a positive ttlMs; got ${ttlMs}.`, {
      store: 'any',
      operation: 'claim',
    });
  }
}

/**
 * Decides a claim (pure): granted when there is no lease, it expired, or `owner` holds it.
 * `record` in the `claimed` outcome is what the store must write.
 */
export function planClaim(
  current: PendingRecord | undefined,
  owner: string,
  ttlMs: number,
  now: number = Date.now(),
): ClaimOutcome {
  checkTtl(ttlMs);
  if (!current) return { kind: 'missing' };
  if (leaseLive(current.lease, now) && current.lease.owner !== owner) {
    return { kind: 'held', lease: current.lease };
  }
  const lease: Lease = { owner, expiresAt: new Date(now + ttlMs).toISOString() };
  return { kind: 'claimed', record: withLease(current, lease), lease };
}

/**
 * Decides a renewal (pure). Only a live lease held by `owner` renews: once it expired,
 * another poller may have stolen it, so the owner must `claim` again.
 */
export function planRenew(
  current: PendingRecord | undefined,
  owner: string,
  ttlMs: number,
  now: number = Date.now(),
): PendingRecord | undefined {
  checkTtl(ttlMs);
  if (!current || !leaseLive(current.lease, now) || current.lease.owner !== owner) return undefined;
  return withLease(current, { owner, expiresAt: new Date(now + ttlMs).toISOString() });
}

/** Decides a release (pure): the record without its lease, when `owner` holds it. */
export function planRelease(
  current: PendingRecord | undefined,
  owner: string,
): PendingRecord | undefined {
  if (!current?.lease || current.lease.owner !== owner) return undefined;
  return withLease(current, undefined);
}

/** Normalises a status filter to a list. */
export function statusList<T extends string>(
  status: T | readonly T[] | undefined,
): T[] | undefined {
  if (status === undefined) return undefined;
  return typeof status === 'string' ? [status] : [...status];
}
