import { releaseBudgets } from '../cost/budget.js';
import type { CostEstimator } from '../cost/estimator.js';
import { costTags } from '../cost/record-cost.js';
import { AbortedError } from '../errors/falai-error.js';
import { findUnsafeKey } from '../json/unsafe-keys.js';
import type { PlatformClient } from '../platform/client.js';
import type { PlatformRequest } from '../platform/schemas.js';
import { newPendingRecord, type PendingRecord, parsePendingRecord } from '../store/record.js';
import { summariseSeedInput } from '../store/seed.js';
import type { PendingStore } from '../store/types.js';
import { inputHash, type SubmitIntent, type SubmitIntentJournal } from './intents.js';

/**
 * `falai recover`: reconciles the store with fal's request history. Requests fal has that the
 * store lacks — a process killed after fal accepted its submit, another machine, another tool —
 * are adopted as records (tag `source: recovered`), after which `wait`, `poll` and `download`
 * work on them as on any other. A submit whose answer never arrived (its intent is still
 * noted, see `intents.ts`) is matched by endpoint, time and the hash of its input, so nobody
 * pays for it twice; one that never reached fal releases what its budget held.
 */

/** Options of {@link recoverRequests}. */
export interface RecoverOptions {
  readonly store: PendingStore;
  readonly platform: PlatformClient;
  /** Look at requests fal received since then. @default 24 hours ago */
  readonly since?: Date;
  /**
   * Only these endpoints (fal's history by endpoint). Default: every request of the account's
   * API keys (fal's request search, newest first).
   */
  readonly endpointIds?: readonly string[];
  /** Submits noted as "sent, answer unknown" (`intentJournalFor(store)`). */
  readonly intents?: SubmitIntentJournal;
  /** Prices of adopted requests, so their actual cost is recorded when they finish. */
  readonly estimator?: CostEstimator;
  /** Say what would be adopted, change nothing. @default false */
  readonly dryRun?: boolean;
  /** Stop after this many of fal's requests. @default 5000 */
  readonly maxScanned?: number;
  /**
   * A noted submit fal's history does not show this long after it was sent never reached fal
   * (its budget reservations are released). @default 900000 (15 minutes)
   */
  readonly intentGraceMs?: number;
  /**
   * Adopt only requests that answer one of `intents` (a batch worker resolving one row's lost
   * submit), leaving every other unknown request to whoever is about to record it. @default false
   */
  readonly onlyIntents?: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Test seam: the clock. @default () => new Date() */
  readonly now?: () => Date;
}

/** Where fal's history says a request is. */
export type FalHistoryState = 'queued-or-running' | 'completed' | 'failed';

/** One request adopted from fal's history. */
export interface RecoveredRequest {
  readonly requestId: string;
  readonly endpointId: string;
  /** When fal received it. */
  readonly receivedAt?: string;
  readonly falState: FalHistoryState;
  /** It is the request of a submit whose answer was never recorded here. */
  readonly matchedIntent: boolean;
  /** The record as stored (absent in a dry run). */
  readonly record?: PendingRecord;
}

/** A noted submit, and what recovery concluded about it. */
export interface IntentReport {
  readonly endpointId: string;
  readonly at: string;
  readonly inputHash: string;
  /** `found`: adopted (or already recorded); `not-sent`: fal never received it; `unknown`: not yet in fal's history. */
  readonly outcome: 'found' | 'not-sent' | 'unknown';
  readonly requestId?: string;
}

/** What {@link recoverRequests} did. */
export interface RecoverSummary {
  readonly since: string;
  /** The endpoints looked at, or `all` (fal's request search). */
  readonly endpoints: readonly string[] | 'all';
  readonly adopted: readonly RecoveredRequest[];
  /** fal's requests the store already knew. */
  readonly known: number;
  /** fal's requests looked at. */
  readonly scanned: number;
  /** True when the scan stopped at `maxScanned` (older requests were not looked at). */
  readonly truncated: boolean;
  readonly intents: readonly IntentReport[];
  readonly dryRun: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A noted submit matches a request fal received from a little before to this long after. */
const MATCH_BEFORE_MS = 5 * 60 * 1000;
const MATCH_AFTER_MS = 15 * 60 * 1000;

function falState(item: PlatformRequest): FalHistoryState {
  if (item.statusCode === undefined && item.endedAt === undefined) return 'queued-or-running';
  if (item.statusCode !== undefined && item.statusCode >= 200 && item.statusCode < 300)
    return 'completed';
  return item.statusCode === undefined ? 'queued-or-running' : 'failed';
}

/** When fal received a request (epoch ms), if it says. */
function receivedMs(item: PlatformRequest): number | undefined {
  for (const value of [item.startedAt, item.sentAt]) {
    const ms = value === undefined ? Number.NaN : Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  return undefined;
}

/** fal's requests since `since`, newest first: by endpoint (50 at a time) or the search. */
async function* history(
  options: RecoverOptions,
  since: Date,
): AsyncGenerator<PlatformRequest, void, undefined> {
  const signal = options.signal ? { signal: options.signal } : {};
  const ids = options.endpointIds;
  if (ids && ids.length > 0) {
    for (let start = 0; start < ids.length; start += 50) {
      yield* options.platform.iterateRequestsByEndpoint({
        endpointIds: ids.slice(start, start + 50),
        start: since,
        payloads: true,
        limit: 100,
        ...signal,
      });
    }
    return;
  }
  for await (const item of options.platform.iterateSearchRequests({
    onlyApiRequests: true,
    payloads: true,
    limit: 100,
    ...signal,
  })) {
    const at = receivedMs(item);
    // Newest first: the first one older than the window ends it.
    if (at !== undefined && at < since.getTime()) return;
    yield item;
  }
}

/** The intent a fal request answers: same endpoint and input hash, sent around that time. */
function matchIntent(
  intents: readonly SubmitIntent[],
  used: ReadonlySet<string>,
  item: PlatformRequest,
  hash: string | undefined,
): SubmitIntent | undefined {
  if (hash === undefined) return undefined;
  const at = receivedMs(item);
  let best: { intent: SubmitIntent; distance: number } | undefined;
  for (const intent of intents) {
    if (used.has(intent.id) || intent.endpointId !== item.endpointId) continue;
    if (intent.inputHash !== hash) continue;
    const sent = Date.parse(intent.at);
    const distance = at === undefined ? MATCH_AFTER_MS : at - sent;
    if (distance < -MATCH_BEFORE_MS || distance > MATCH_AFTER_MS) continue;
    if (!best || Math.abs(distance) < Math.abs(best.distance)) best = { intent, distance };
  }
  return best?.intent;
}

/** The record of a request adopted from fal's history. */
function adoptedRecord(
  item: PlatformRequest,
  hash: string | undefined,
  intent: SubmitIntent | undefined,
  price: { unitPrice: number; unit: string; currency: string } | undefined,
  now: Date,
): PendingRecord {
  const at = receivedMs(item);
  // fal's own input, summarised like the seed's (data URIs by digest); one with a key that
  // would reach into JavaScript objects is not kept at all.
  const input = item.input !== undefined && !findUnsafeKey(item.input) ? item.input : undefined;
  const fresh = newPendingRecord({
    requestId: item.requestId,
    endpointId: item.endpointId,
    ...(input === undefined ? {} : { input: summariseSeedInput(input) }),
    now: at === undefined ? now : new Date(at),
  });
  const tags = {
    ...costTags({
      estimateUsd: intent?.estimateUsd,
      price,
      reservations: intent?.reservations ?? [],
      inputHash: hash,
      source: 'recovered',
    }),
    recoveredAt: now.toISOString(),
    ...(intent ? { recoveredFrom: 'lost-submit' } : { recoveredFrom: 'fal-history' }),
  };
  return parsePendingRecord({ ...fresh, updatedAt: now.toISOString(), tags });
}

/**
 * Reconciles the store with fal's request history since `since` (see the file's comment).
 * Adopted records start as `queued` whatever fal says, so the outcome is learned and recorded
 * by the one outcome rule (`wait`, `poll`, with the actual cost) like any other request's.
 */
export async function recoverRequests(options: RecoverOptions): Promise<RecoverSummary> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const since = options.since ?? new Date(started.getTime() - DAY_MS);
  const maxScanned = options.maxScanned ?? 5000;
  const grace = options.intentGraceMs ?? 15 * 60 * 1000;
  const dryRun = options.dryRun === true;
  const { store } = options;
  const allIntents = (await options.intents?.list()) ?? [];
  const endpointFilter = options.endpointIds?.length ? new Set(options.endpointIds) : undefined;
  // Intents for other endpoints than those asked about are left as they are.
  const intents = allIntents.filter(
    (intent) =>
      intent.store === store.location && (!endpointFilter || endpointFilter.has(intent.endpointId)),
  );
  const used = new Map<string, string>();
  const adopted: RecoveredRequest[] = [];
  let known = 0;
  const knownItems: { item: PlatformRequest; hash: string | undefined }[] = [];
  let scanned = 0;
  let truncated = false;
  const prices = new Map<
    string,
    { unitPrice: number; unit: string; currency: string } | undefined
  >();
  const priceOf = async (endpointId: string) => {
    if (!options.estimator) return undefined;
    if (!prices.has(endpointId)) {
      const found = await options.estimator
        .price(endpointId, options.signal ? { signal: options.signal } : {})
        .catch(() => ({ price: null }));
      prices.set(endpointId, found.price ?? undefined);
    }
    return prices.get(endpointId);
  };

  for await (const item of history(options, since)) {
    if (options.signal?.aborted) {
      throw new AbortedError('ABORTED', 'Recovery stopped; what was adopted so far is recorded.');
    }
    if (scanned >= maxScanned) {
      truncated = true;
      break;
    }
    scanned += 1;
    const hash = item.input === undefined ? undefined : inputHash(item.input);
    if (await store.get(item.requestId)) {
      known += 1;
      // Kept without its payloads: only the endpoint, times and hash are matched.
      const { input: _input, output: _output, ...slim } = item;
      knownItems.push({ item: slim as PlatformRequest, hash });
      continue;
    }
    // A lost submit is matched to a request the store lacks first: the same input sent again
    // later (and recorded) must not take its place.
    const intent = matchIntent(intents, new Set(used.keys()), item, hash);
    if (!intent && options.onlyIntents) continue;
    if (intent) used.set(intent.id, item.requestId);
    const price = intent?.price ?? (await priceOf(item.endpointId));
    const record = adoptedRecord(item, hash, intent, price, now());
    if (!dryRun) {
      // Another recover (or the submit itself, late) may have written it meanwhile.
      if (await store.get(item.requestId)) {
        known += 1;
        continue;
      }
      await store.put(record);
    }
    const at = receivedMs(item);
    adopted.push({
      requestId: item.requestId,
      endpointId: item.endpointId,
      ...(at === undefined ? {} : { receivedAt: new Date(at).toISOString() }),
      falState: falState(item),
      matchedIntent: intent !== undefined,
      ...(dryRun ? {} : { record }),
    });
  }

  // A note whose request is recorded after all (the record was written, the note not removed).
  for (const { item, hash } of knownItems) {
    const intent = matchIntent(intents, new Set(used.keys()), item, hash);
    if (intent) used.set(intent.id, item.requestId);
  }

  const reports: IntentReport[] = [];
  for (const intent of intents) {
    const base = { endpointId: intent.endpointId, at: intent.at, inputHash: intent.inputHash };
    const requestId = used.get(intent.id);
    if (requestId) {
      if (!dryRun) await options.intents?.resolve(intent.id);
      reports.push({ ...base, outcome: 'found', requestId });
      continue;
    }
    const sent = Date.parse(intent.at);
    // Not in fal's history although the whole window after it was looked at: it never
    // reached fal, so what its budget held is released.
    const covered = !truncated && sent >= since.getTime() && started.getTime() - sent > grace;
    if (covered) {
      if (!dryRun) {
        await releaseBudgets(store, intent.reservations);
        await options.intents?.resolve(intent.id);
      }
      reports.push({ ...base, outcome: 'not-sent' });
    } else {
      reports.push({ ...base, outcome: 'unknown' });
    }
  }

  return {
    since: since.toISOString(),
    endpoints: options.endpointIds?.length ? [...options.endpointIds] : 'all',
    adopted,
    known,
    scanned,
    truncated,
    intents: reports,
    dryRun,
  };
}
