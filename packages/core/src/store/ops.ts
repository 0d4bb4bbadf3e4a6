import * as v from 'valibot';
import { environmentRedactor } from '../config/settings.js';
import { StoreError } from '../errors/falai-error.js';
import { parseJsonExact } from '../json/exact.js';
import { jsonOf, type Redactor } from '../redact/redactor.js';
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

/** The option every store takes for the keys it must never write. */
export interface StoreRedactorOption {
  /**
   * The keys this store never writes: they become `[redacted]` in records, and a budget name
   * holding one is refused. Pass the redactor of your settings (`settings.redactor`), which
   * also learns every key `resolveCredentials` reads. @default the process environment's keys
   * (`environmentRedactor()`)
   */
  readonly redactor?: Redactor;
}

/** The redactor of a store's options: the one given, else the process environment's keys. */
export function storeRedactor(options: StoreRedactorOption): Redactor {
  return options.redactor ?? environmentRedactor();
}

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
 * Validates a record before it is written and strips the keys `redactor` holds from it (the
 * store's `redactor` option). An invalid record is a programming error of the caller, so
 * nothing is written and `STORE_ERROR` says why.
 */
export function prepareRecordForWrite(
  record: unknown,
  context: StoreContext,
  redactor: Redactor,
): PendingRecord {
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
  const clean = redactor.scrub(parsed);
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

/**
 * Decides a conditional update (pure), so every store gives the same answer; the updated
 * record holds none of the keys `redactor` holds.
 */
export function planUpdate(
  current: PendingRecord | undefined,
  patch: PendingPatch,
  condition: UpdateCondition | undefined,
  redactor: Redactor,
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
  const clean = redactor.scrub(next);
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
