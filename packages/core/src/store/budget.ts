import { StoreError } from '../errors/falai-error.js';
import type { Redactor } from '../redact/redactor.js';

/**
 * The budget ledger: a hard cap on spend, shared by every process (and, with Redis, every
 * machine) that uses one store. Before a paid submit the caller reserves the estimate; the
 * store checks `spent + reserved + amount ≤ cap` and records the reservation in one atomic
 * step, so eight processes racing on one store can never spend past the cap together. When
 * the result arrives the reservation is settled with the actual cost; a submit that never
 * happened is released.
 *
 * Money is held in integer micro-dollars (1 USD = 1,000,000), so sums never drift
 * (0.1 × 23 is exactly 2.3). Amounts cross the interface as US dollars (numbers) and are
 * rounded to the nearest micro-dollar on the way in.
 *
 * Scopes are the caller's strings: `daily:2026-03-01` (a per-store daily budget),
 * `key:<masked key id>:daily:2026-03-01` (per key), `batch:<id>` (a batch's `--max-cost`).
 * The window only says how long the scope must be kept: its data lives until the window's
 * end plus {@link BUDGET_RETENTION_MS} (and at least that long after its last reservation
 * could expire), then the store may drop it. A new window is a new scope.
 */
export interface BudgetLedger {
  /**
   * Reserves `amountUsd` in `scope` when `spent + reserved + amountUsd ≤ capUsd`, atomically.
   * Idempotent per `requestKey`: reserving again with the key of a live (or settled)
   * reservation counts nothing new and answers `{ ok: true, duplicate: true }` with the same
   * `reservationId` and the amount first held.
   */
  reserve(request: BudgetReserveRequest): Promise<BudgetReserveOutcome>;
  /**
   * Replaces the reservation by the actual cost. Idempotent: settling again replaces the
   * earlier actual (never adds to it). A reservation that expired or was released is
   * settled all the same (`previous: 'missing'`): the money was spent, so it is counted.
   */
  settle(reservationId: string, actualUsd: number): Promise<BudgetSettleOutcome>;
  /**
   * Drops a live reservation whose submit never happened. Idempotent: false when there was
   * none (already released, expired, or settled — a settled cost is never dropped).
   */
  release(reservationId: string): Promise<boolean>;
  /** What the scope holds now: settled spend and live (unexpired) reservations. */
  usage(scope: string): Promise<BudgetUsage>;
}

/** When a budget window ends: an ISO-8601 timestamp, epoch milliseconds or a `Date`. */
export type BudgetInstant = string | number | Date;

/** The window a scope belongs to; see {@link BudgetLedger}. */
export interface BudgetWindow {
  /** The end of the window (exclusive), e.g. the next UTC midnight for a daily budget. */
  readonly endsAt: BudgetInstant;
}

/** What `reserve` is asked. */
export interface BudgetReserveRequest {
  /** Whose money: `daily:<YYYY-MM-DD>`, `key:<masked id>:daily:<…>`, `batch:<id>`. */
  readonly scope: string;
  readonly window: BudgetWindow;
  /** The estimate to hold, in US dollars (≥ 0). */
  readonly amountUsd: number;
  /** The cap of the scope, in US dollars (≥ 0). Each call brings its own. */
  readonly capUsd: number;
  /**
   * Names the one billable request this reservation is for (a random id per submit, or a
   * batch row's hash): the idempotency key. Never a FAL key.
   */
  readonly requestKey: string;
  /**
   * How long the reservation holds its amount if it is neither settled nor released (the
   * process died after reserving). Until then nobody else may spend it, because the request
   * may still be billed.
   * @default 86400000 (24 hours, {@link DEFAULT_RESERVATION_TTL_MS})
   */
  readonly ttlMs?: number;
}

/** What `reserve` answers. */
export type BudgetReserveOutcome =
  | {
      readonly ok: true;
      /** Opaque; pass it to `settle` or `release` (any process may). */
      readonly reservationId: string;
      /** What this request holds (the first amount, for a duplicate). */
      readonly amountUsd: number;
      /** `cap − spent − reserved` after this reservation (never below 0). */
      readonly remainingUsd: number;
      /** True when `requestKey` already held a live or settled reservation. */
      readonly duplicate: boolean;
    }
  | {
      readonly ok: false;
      readonly spentUsd: number;
      readonly reservedUsd: number;
      readonly capUsd: number;
      /** The amount that did not fit. */
      readonly amountUsd: number;
    };

/** What `settle` answers: what the reservation was, and the scope's usage after. */
export interface BudgetSettleOutcome {
  /**
   * `reserved`: a live reservation was replaced; `settled`: it had been settled before and its
   * actual was replaced; `missing`: there was none (expired, released, never made).
   */
  readonly previous: 'reserved' | 'settled' | 'missing';
  readonly spentUsd: number;
  readonly reservedUsd: number;
}

/** A scope's usage. */
export interface BudgetUsage {
  /** Settled (actual) spend. */
  readonly spentUsd: number;
  /** Live reservations not yet settled. */
  readonly reservedUsd: number;
}

/** Micro-dollars per US dollar: the ledger's integer unit. */
export const MICROS_PER_USD = 1_000_000;

/**
 * How long an unconfirmed reservation holds its amount by default: 24 hours. A process that
 * reserved and died may still have submitted; fal can keep a request queued for a long time
 * and bills it when it runs, so the hold must outlast any request that might still run. A day
 * is far longer than that, and short enough that a crash never blocks a budget for longer
 * than a day. Whoever learns the outcome (`falai recover`, a poller) settles or releases it
 * sooner.
 */
export const DEFAULT_RESERVATION_TTL_MS = 24 * 60 * 60 * 1000;

/** The longest reservation hold accepted: 30 days. */
export const MAX_RESERVATION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** How long a scope is kept after its window ended (so late settles still find it): 7 days. */
export const BUDGET_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** The largest amount or cap accepted: one billion dollars (keeps micro-dollars exact). */
export const MAX_BUDGET_USD = 1_000_000_000;

/** The longest scope or request key accepted, in characters. */
export const MAX_BUDGET_NAME_LENGTH = 256;

/** The scope and window of a daily budget (UTC days), optionally under a qualifier. */
export function dailyBudgetScope(
  now: Date = new Date(),
  qualifier?: string,
): { readonly scope: string; readonly window: BudgetWindow } {
  const day = now.toISOString().slice(0, 10);
  const start = Date.parse(`${day}T00:00:00.000Z`);
  const endsAt = new Date(start + 24 * 60 * 60 * 1000).toISOString();
  const scope = qualifier === undefined ? `daily:${day}` : `${qualifier}:daily:${day}`;
  return { scope, window: { endsAt } };
}

function budgetError(operation: string, message: string): StoreError {
  return new StoreError('STORE_ERROR', message, { store: 'any', operation });
}

/**
 * US dollars to integer micro-dollars (rounded to the nearest). Throws `STORE_ERROR` for
 * anything that is not a finite amount between 0 and {@link MAX_BUDGET_USD}.
 */
export function toMicroUsd(usd: number, what = 'amount', operation = 'budget'): number {
  if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0 || usd > MAX_BUDGET_USD) {
    throw budgetError(
      operation,
      `A budget ${what} must be a number of US dollars from 0 to ${MAX_BUDGET_USD}; got ${String(usd)}.`,
    );
  }
  return Math.round(usd * MICROS_PER_USD);
}

/** Integer micro-dollars to US dollars. */
export function fromMicroUsd(micros: number): number {
  return micros / MICROS_PER_USD;
}

function instantMs(value: BudgetInstant, operation: string): number {
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw budgetError(
      operation,
      `A budget window needs an end (ISO-8601 timestamp, epoch ms or Date); got ${String(value)}.`,
    );
  }
  return Math.floor(ms);
}

/** Characters a scope or request key may not hold (control characters). */
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkName(
  value: unknown,
  what: 'scope' | 'requestKey',
  operation: string,
  redactor: Redactor,
): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_BUDGET_NAME_LENGTH) {
    throw budgetError(
      operation,
      `A budget ${what} must be a string of 1 to ${MAX_BUDGET_NAME_LENGTH} characters; got ` +
        `${typeof value === 'string' ? `${value.length} characters` : typeof value}.`,
    );
  }
  if (CONTROL.test(value)) {
    throw budgetError(operation, `A budget ${what} may not contain control characters.`);
  }
  if (redactor.secrets().some((secret) => value.includes(secret))) {
    throw budgetError(
      operation,
      `A budget ${what} contains a FAL key; use a masked key id (e.g. the part before ":" ` +
        'cut to a few characters). Nothing was stored.',
    );
  }
  return value;
}

/**
 * Checks a scope name for `usage` (and every other operation); one holding a key `redactor`
 * holds (the store's) is refused.
 */
export function checkBudgetScope(scope: unknown, redactor: Redactor, operation = 'usage'): string {
  return checkName(scope, 'scope', operation, redactor);
}

const ID_PREFIX = 'bgt1.';

/**
 * The id of the reservation of `requestKey` in `scope`: deterministic, so a retry gets the
 * same one, and self-describing, so any process can settle it even after the store dropped
 * the reservation. Treat it as opaque.
 */
export function budgetReservationId(scope: string, requestKey: string, endsAtMs: number): string {
  const json = JSON.stringify([scope, requestKey, endsAtMs]);
  return `${ID_PREFIX}${Buffer.from(json, 'utf8').toString('base64url')}`;
}

/** What a reservation id names. */
export interface BudgetReservationRef {
  readonly scope: string;
  readonly requestKey: string;
  /** The end of the scope's window, epoch ms. */
  readonly endsAtMs: number;
}

/** Decodes a reservation id; `STORE_ERROR` when it is not one. */
export function parseBudgetReservationId(
  reservationId: unknown,
  redactor: Redactor,
  operation = 'settle',
): BudgetReservationRef {
  const bad = () =>
    budgetError(
      operation,
      `${JSON.stringify(String(reservationId)).slice(0, 80)} is not a budget reservation id ` +
        '(pass the reservationId that reserve() returned).',
    );
  if (typeof reservationId !== 'string' || !reservationId.startsWith(ID_PREFIX)) throw bad();
  if (reservationId.length > 4 * MAX_BUDGET_NAME_LENGTH * 3) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(
      Buffer.from(reservationId.slice(ID_PREFIX.length), 'base64url').toString('utf8'),
    );
  } catch {
    throw bad();
  }
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    typeof value[0] !== 'string' ||
    typeof value[1] !== 'string' ||
    typeof value[2] !== 'number' ||
    !Number.isSafeInteger(value[2])
  ) {
    throw bad();
  }
  return {
    scope: checkName(value[0], 'scope', operation, redactor),
    requestKey: checkName(value[1], 'requestKey', operation, redactor),
    endsAtMs: value[2],
  };
}

/** A reserve request, checked and in integer units: what stores work with. */
export interface BudgetReserveInput extends BudgetReservationRef {
  readonly reservationId: string;
  readonly amountMicros: number;
  readonly capMicros: number;
  readonly ttlMs: number;
}

/**
 * Checks and converts a reserve request; `STORE_ERROR` says what is wrong (a scope or request
 * key holding a key `redactor` holds, among others).
 */
export function normaliseBudgetReserve(
  request: BudgetReserveRequest,
  redactor: Redactor,
): BudgetReserveInput {
  const operation = 'reserve';
  if (typeof request !== 'object' || request === null) {
    throw budgetError(
      operation,
      'reserve() needs { scope, window, amountUsd, capUsd, requestKey }.',
    );
  }
  const scope = checkName(request.scope, 'scope', operation, redactor);
  const requestKey = checkName(request.requestKey, 'requestKey', operation, redactor);
  const endsAtMs = instantMs(request.window?.endsAt as BudgetInstant, operation);
  const ttlMs = request.ttlMs ?? DEFAULT_RESERVATION_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_RESERVATION_TTL_MS) {
    throw budgetError(
      operation,
      `A reservation ttlMs must be a positive number of milliseconds up to ` +
        `${MAX_RESERVATION_TTL_MS} (30 days); got ${String(ttlMs)}.`,
    );
  }
  return {
    scope,
    requestKey,
    endsAtMs,
    reservationId: budgetReservationId(scope, requestKey, endsAtMs),
    amountMicros: toMicroUsd(request.amountUsd, 'amountUsd', operation),
    capMicros: toMicroUsd(request.capUsd, 'capUsd', operation),
    ttlMs: Math.ceil(ttlMs),
  };
}

/** A settle call, checked and in integer units. */
export interface BudgetSettleInput extends BudgetReservationRef {
  readonly actualMicros: number;
}

/** Checks and converts a settle call. */
export function normaliseBudgetSettle(
  reservationId: string,
  actualUsd: number,
  redactor: Redactor,
): BudgetSettleInput {
  const ref = parseBudgetReservationId(reservationId, redactor, 'settle');
  return { ...ref, actualMicros: toMicroUsd(actualUsd, 'actualUsd', 'settle') };
}

/** One request's place in a scope: held (until `expiresAt`, epoch ms) or spent. */
export type BudgetEntry =
  | { readonly state: 'reserved'; readonly micros: number; readonly expiresAt: number }
  | { readonly state: 'settled'; readonly micros: number };

/** Whether an entry still counts at `now`: settled, or a reservation not yet expired. */
export function budgetEntryLive(entry: BudgetEntry | undefined, now: number): boolean {
  return entry !== undefined && (entry.state === 'settled' || entry.expiresAt > now);
}

/** What a store reads, atomically, before a budget decision. */
export interface BudgetScopeView {
  /** Sum of the settled entries. */
  readonly spentMicros: number;
  /** Sum of the live reservations (expired ones excluded). */
  readonly reservedMicros: number;
  /** The request's own entry, if any (expired or not: the planners check). */
  readonly entry: BudgetEntry | undefined;
}

/**
 * One write a decision makes: set (or, with `entry: null`, delete) the entry of `requestKey`
 * in `scope`, and keep the scope at least until `retainUntil` (epoch ms). Stores apply it as
 * given, so a replayed journal reaches the same state whatever the clock says.
 */
export interface BudgetChange {
  readonly scope: string;
  readonly requestKey: string;
  readonly entry: BudgetEntry | null;
  readonly retainUntil: number;
}

const retainUntil = (...instants: number[]) => Math.max(...instants) + BUDGET_RETENTION_MS;

const usd = fromMicroUsd;

/** Decides a reservation (pure): the answer and, when it holds something new, the write. */
export function planBudgetReserve(
  view: BudgetScopeView,
  input: BudgetReserveInput,
  now: number,
): { readonly outcome: BudgetReserveOutcome; readonly change?: BudgetChange } {
  const { spentMicros: spent, reservedMicros: reserved, entry } = view;
  if (entry && budgetEntryLive(entry, now)) {
    return {
      outcome: {
        ok: true,
        reservationId: input.reservationId,
        amountUsd: usd(entry.micros),
        remainingUsd: usd(Math.max(0, input.capMicros - spent - reserved)),
        duplicate: true,
      },
    };
  }
  if (spent + reserved + input.amountMicros > input.capMicros) {
    return {
      outcome: {
        ok: false,
        spentUsd: usd(spent),
        reservedUsd: usd(reserved),
        capUsd: usd(input.capMicros),
        amountUsd: usd(input.amountMicros),
      },
    };
  }
  const expiresAt = now + input.ttlMs;
  return {
    outcome: {
      ok: true,
      reservationId: input.reservationId,
      amountUsd: usd(input.amountMicros),
      remainingUsd: usd(input.capMicros - spent - reserved - input.amountMicros),
      duplicate: false,
    },
    change: {
      scope: input.scope,
      requestKey: input.requestKey,
      entry: { state: 'reserved', micros: input.amountMicros, expiresAt },
      retainUntil: retainUntil(input.endsAtMs, expiresAt),
    },
  };
}

/** Decides a settle (pure): always writes the actual; says what it replaced. */
export function planBudgetSettle(
  view: BudgetScopeView,
  input: BudgetSettleInput,
  now: number,
): { readonly outcome: BudgetSettleOutcome; readonly change: BudgetChange } {
  const entry = view.entry;
  const live = budgetEntryLive(entry, now) ? entry : undefined;
  const previous = live?.state ?? 'missing';
  const spent = view.spentMicros - (live?.state === 'settled' ? live.micros : 0);
  const reserved = view.reservedMicros - (live?.state === 'reserved' ? live.micros : 0);
  return {
    outcome: {
      previous,
      spentUsd: usd(spent + input.actualMicros),
      reservedUsd: usd(reserved),
    },
    change: {
      scope: input.scope,
      requestKey: input.requestKey,
      entry: { state: 'settled', micros: input.actualMicros },
      retainUntil: retainUntil(input.endsAtMs, now),
    },
  };
}

/** Decides a release (pure): only a live reservation is dropped. */
export function planBudgetRelease(
  view: BudgetScopeView,
  ref: BudgetReservationRef,
  now: number,
): { readonly released: boolean; readonly change?: BudgetChange } {
  const entry = view.entry;
  if (entry?.state !== 'reserved' || !budgetEntryLive(entry, now)) return { released: false };
  return {
    released: true,
    change: {
      scope: ref.scope,
      requestKey: ref.requestKey,
      entry: null,
      retainUntil: retainUntil(ref.endsAtMs, now),
    },
  };
}

/** Usage in dollars from a view. */
export function budgetUsageOf(view: Pick<BudgetScopeView, 'spentMicros' | 'reservedMicros'>) {
  return { spentUsd: usd(view.spentMicros), reservedUsd: usd(view.reservedMicros) };
}

/** One scope in a {@link BudgetBook}. */
interface BookScope {
  retainUntil: number;
  spentMicros: number;
  readonly reservations: Map<string, { readonly micros: number; readonly expiresAt: number }>;
  readonly settled: Map<string, number>;
}

/** A scope as the book exports it (for a store to persist whole). */
export interface BudgetScopeSnapshot {
  readonly scope: string;
  readonly retainUntil: number;
  /** `[requestKey, micros, expiresAt]` of each reservation. */
  readonly reservations: readonly (readonly [string, number, number])[];
  /** `[requestKey, micros]` of each settled entry. */
  readonly settled: readonly (readonly [string, number])[];
}

/**
 * The whole ledger held in memory: what the memory store keeps and the file store rebuilds
 * from its file. Settled spend is kept as a running sum, so a decision costs the number of
 * live reservations of one scope, not the number of requests of the day.
 */
export class BudgetBook {
  readonly #scopes = new Map<string, BookScope>();

  /** The view a decision about `requestKey` in `scope` needs, at `now`. */
  view(scope: string, requestKey: string | undefined, now: number): BudgetScopeView {
    const book = this.#scopes.get(scope);
    if (!book || book.retainUntil <= now) {
      return { spentMicros: 0, reservedMicros: 0, entry: undefined };
    }
    let reserved = 0;
    for (const [key, held] of book.reservations) {
      if (held.expiresAt > now) reserved += held.micros;
      // Expired: it counts for nobody any more; forgetting it changes no answer.
      else book.reservations.delete(key);
    }
    let entry: BudgetEntry | undefined;
    if (requestKey !== undefined) {
      const settled = book.settled.get(requestKey);
      const held = book.reservations.get(requestKey);
      if (settled !== undefined) entry = { state: 'settled', micros: settled };
      else if (held) entry = { state: 'reserved', ...held };
    }
    return { spentMicros: book.spentMicros, reservedMicros: reserved, entry };
  }

  /** Applies one change exactly as given. */
  apply(change: BudgetChange): void {
    let book = this.#scopes.get(change.scope);
    if (!book) {
      book = { retainUntil: 0, spentMicros: 0, reservations: new Map(), settled: new Map() };
      this.#scopes.set(change.scope, book);
    }
    book.retainUntil = Math.max(book.retainUntil, change.retainUntil);
    const before = book.settled.get(change.requestKey);
    if (before !== undefined) book.spentMicros -= before;
    book.settled.delete(change.requestKey);
    book.reservations.delete(change.requestKey);
    const entry = change.entry;
    if (entry?.state === 'settled') {
      book.settled.set(change.requestKey, entry.micros);
      book.spentMicros += entry.micros;
    } else if (entry?.state === 'reserved') {
      book.reservations.set(change.requestKey, {
        micros: entry.micros,
        expiresAt: entry.expiresAt,
      });
    }
  }

  /** Restores a scope exported by {@link snapshot} (replacing what the book held for it). */
  restore(scope: BudgetScopeSnapshot): void {
    const book: BookScope = {
      retainUntil: scope.retainUntil,
      spentMicros: 0,
      reservations: new Map(),
      settled: new Map(),
    };
    for (const [key, micros, expiresAt] of scope.reservations) {
      book.reservations.set(key, { micros, expiresAt });
    }
    for (const [key, micros] of scope.settled) {
      book.settled.set(key, micros);
      book.spentMicros += micros;
    }
    this.#scopes.set(scope.scope, book);
  }

  /** Every scope still retained at `now`, without expired reservations. */
  snapshot(now: number): BudgetScopeSnapshot[] {
    const out: BudgetScopeSnapshot[] = [];
    for (const [scope, book] of this.#scopes) {
      if (book.retainUntil <= now) continue;
      out.push({
        scope,
        retainUntil: book.retainUntil,
        reservations: [...book.reservations]
          .filter(([, held]) => held.expiresAt > now)
          .map(([key, held]) => [key, held.micros, held.expiresAt] as const),
        settled: [...book.settled],
      });
    }
    return out;
  }

  /** Drops scopes whose retention passed. */
  prune(now: number): void {
    for (const [scope, book] of this.#scopes) {
      if (book.retainUntil <= now) this.#scopes.delete(scope);
    }
  }
}

/**
 * Runs one budget decision atomically against a {@link BudgetBook}: the store loads the book
 * (under its lock), calls `decide`, persists the changes it returns, applies them, and
 * resolves with the result.
 */
export type BudgetBookTransaction = <T>(
  operation: 'reserve' | 'settle' | 'release' | 'usage',
  decide: (book: BudgetBook, now: number) => { result: T; changes: readonly BudgetChange[] },
) => Promise<T>;

/**
 * A {@link BudgetLedger} over a book kept by `transact` (the memory and file stores), refusing
 * names that hold a key `redactor` holds (the store's).
 */
export function createBookLedger(
  transact: BudgetBookTransaction,
  redactor: Redactor,
): BudgetLedger {
  return {
    async reserve(request) {
      const input = normaliseBudgetReserve(request, redactor);
      return transact('reserve', (book, now) => {
        const plan = planBudgetReserve(book.view(input.scope, input.requestKey, now), input, now);
        return { result: plan.outcome, changes: plan.change ? [plan.change] : [] };
      });
    },
    async settle(reservationId, actualUsd) {
      const input = normaliseBudgetSettle(reservationId, actualUsd, redactor);
      return transact('settle', (book, now) => {
        const plan = planBudgetSettle(book.view(input.scope, input.requestKey, now), input, now);
        return { result: plan.outcome, changes: [plan.change] };
      });
    },
    async release(reservationId) {
      const ref = parseBudgetReservationId(reservationId, redactor, 'release');
      return transact('release', (book, now) => {
        const plan = planBudgetRelease(book.view(ref.scope, ref.requestKey, now), ref, now);
        return { result: plan.released, changes: plan.change ? [plan.change] : [] };
      });
    },
    async usage(scope) {
      const name = checkBudgetScope(scope, redactor, 'usage');
      return transact('usage', (book, now) => ({
        result: budgetUsageOf(book.view(name, undefined, now)),
        changes: [],
      }));
    },
  };
}

/**
 * The store's ledger, or `STORE_ERROR` saying the store cannot enforce a budget. Every
 * built-in store has one; a third-party `PendingStore` may not.
 */
export function requireBudgetLedger(store: {
  readonly kind: string;
  readonly location: string;
  readonly budget?: BudgetLedger;
}): BudgetLedger {
  if (store.budget) return store.budget;
  throw new StoreError(
    'STORE_ERROR',
    `The ${store.kind} store at ${store.location} has no budget ledger, so a budget cannot be ` +
      'enforced on it. Use a file, sqlite or redis store (--store / FALAI_STORE), or remove ' +
      'the budget from the config.',
    { store: store.kind, operation: 'reserve', location: store.location },
  );
}
