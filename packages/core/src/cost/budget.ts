import { createHash } from 'node:crypto';
import type { BudgetConfig } from '../config/budget.js';
import { resolvePaths } from '../config/settings.js';
import { BudgetError } from '../errors/falai-error.js';
import {
  type BudgetLedger,
  type BudgetWindow,
  dailyBudgetScope,
  requireBudgetLedger,
} from '../store/budget.js';
import { parseStoreSpec, type StoreLocations, type StoreSpec } from '../store/spec.js';
import type { PendingStore } from '../store/types.js';
import { formatUsd } from './estimate.js';

/** One cap in force for a submit: a scope of the store's ledger and its limit. */
export interface BudgetCap {
  /** The ledger scope, e.g. `daily:2026-03-01` or `key:<hash>:daily:2026-03-01`. */
  readonly scope: string;
  readonly window: BudgetWindow;
  readonly capUsd: number;
  /** The config key that set it: `budget.daily`, `budget.key.<id>.daily`, … */
  readonly setting: string;
  /** Where it was set, e.g. `config file /home/me/.config/falai/config.json`. */
  readonly source?: string;
}

/** The key id of a FAL key: the part before `:` (never the secret). */
export function keyIdOf(key: string): string {
  const trimmed = key.trim();
  const colon = trimmed.indexOf(':');
  return colon >= 0 ? trimmed.slice(0, colon) : '';
}

/** A key id as it appears in a ledger scope: a short hash, so no part of any key is stored. */
export function keyScopeName(keyId: string): string {
  return createHash('sha256').update(`falai-budget:${keyId}`).digest('hex').slice(0, 16);
}

/** Whether any per-key cap is set (then the key must be read to know which applies). */
export function hasKeyBudgets(budget: BudgetConfig): boolean {
  return Object.values(budget.key ?? {}).some((caps) => caps.daily !== undefined);
}

/** True when any cap is set at all. */
export function hasBudgets(budget: BudgetConfig): boolean {
  return (
    budget.daily !== undefined ||
    hasKeyBudgets(budget) ||
    Object.values(budget.store ?? {}).some((caps) => caps.daily !== undefined)
  );
}

function sameStore(a: StoreSpec, b: StoreSpec): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'memory') return true;
  if (a.kind === 'redis' && b.kind === 'redis') {
    // Compared without user and password: a budget key never needs to hold a secret.
    const bare = (url: string) => url.replace(/\/\/[^/@]*@/, '//').replace(/\/$/, '');
    return bare(a.url) === bare(b.url) && a.prefix === b.prefix;
  }
  return 'path' in a && 'path' in b && a.path === b.path;
}

function parsed(
  spec: string | undefined,
  where: StoreLocations | undefined,
): StoreSpec | undefined {
  try {
    return parseStoreSpec(spec ?? 'file', where);
  } catch {
    return undefined;
  }
}

/**
 * The caps in force for a submit through a store, from the config's `budget`:
 * - the store's daily cap: `budget.store.<spec>.daily` when `<spec>` names this store (same
 *   kind and path, or URL and prefix), else `budget.daily` — scope `daily:<UTC day>`;
 * - the key's daily cap, `budget.key.<key id>.daily`, when the key in use has that id — scope
 *   `key:<hash of the id>:daily:<UTC day>`.
 */
export function budgetCapsFor(
  budget: BudgetConfig,
  context: {
    /** The store spec in use (`settings.store`); undefined for the default file store. */
    readonly store?: string;
    /** The key id in use (see {@link keyIdOf}), when per-key caps are set. */
    readonly keyId?: string;
    /** Where store specs' paths are resolved (`settings.paths`). @default the process's */
    readonly locations?: StoreLocations;
    readonly now?: Date;
    /** Where the budget was set, for messages. */
    readonly source?: string;
  } = {},
): BudgetCap[] {
  // Resolved once for the current store and every `budget.store` entry.
  const where = context.locations ?? resolvePaths();
  const now = context.now ?? new Date();
  const source = context.source ? { source: context.source } : {};
  const caps: BudgetCap[] = [];
  const current = parsed(context.store, where);
  let storeCap: { usd: number; setting: string } | undefined;
  if (current) {
    for (const [name, set] of Object.entries(budget.store ?? {})) {
      const spec = parsed(name, where);
      if (set.daily !== undefined && spec && sameStore(spec, current)) {
        storeCap = { usd: set.daily, setting: `budget.store.${name}.daily` };
        break;
      }
    }
  }
  storeCap ??=
    budget.daily === undefined ? undefined : { usd: budget.daily, setting: 'budget.daily' };
  if (storeCap) {
    caps.push({
      ...dailyBudgetScope(now),
      capUsd: storeCap.usd,
      setting: storeCap.setting,
      ...source,
    });
  }
  const keyId = context.keyId;
  const keyCaps =
    keyId && budget.key && Object.hasOwn(budget.key, keyId) ? budget.key[keyId] : undefined;
  if (keyId && keyCaps?.daily !== undefined) {
    caps.push({
      ...dailyBudgetScope(now, `key:${keyScopeName(keyId)}`),
      capUsd: keyCaps.daily,
      setting: `budget.key.${keyId}.daily`,
      ...source,
    });
  }
  return caps;
}

/** A cap as words: `the daily budget of $5.00 (budget.daily, config file …)`. */
export function describeCap(cap: BudgetCap): string {
  const where = cap.source ? `${cap.setting}, ${cap.source}` : cap.setting;
  const what = cap.scope.startsWith('key:') ? "this key's daily budget" : 'the daily budget';
  return `${what} of ${formatUsd(cap.capUsd)} (${where})`;
}

/**
 * Reserves `amountUsd` in every cap's scope, atomically per scope; all or nothing: a cap that
 * refuses releases the ones already held and throws `BUDGET_EXCEEDED` saying what is spent,
 * held and left, and how to proceed. Returns the reservation ids.
 */
export async function reserveBudgets(
  store: PendingStore,
  caps: readonly BudgetCap[],
  amountUsd: number,
  requestKey: string,
  endpointId: string,
): Promise<string[]> {
  if (caps.length === 0) return [];
  const ledger = requireBudgetLedger(store);
  const held: string[] = [];
  for (const cap of caps) {
    let outcome: Awaited<ReturnType<BudgetLedger['reserve']>>;
    try {
      outcome = await ledger.reserve({
        scope: cap.scope,
        window: cap.window,
        amountUsd,
        capUsd: cap.capUsd,
        requestKey,
      });
    } catch (error) {
      await releaseBudgets(store, held);
      throw error;
    }
    if (outcome.ok) {
      held.push(outcome.reservationId);
      continue;
    }
    await releaseBudgets(store, held);
    const left = Math.max(0, outcome.capUsd - outcome.spentUsd - outcome.reservedUsd);
    throw new BudgetError(
      'BUDGET_EXCEEDED',
      `Not sent: this request to ${endpointId} is estimated at ${formatUsd(amountUsd)}, and ${describeCap(cap)} has ${formatUsd(left)} left today (${formatUsd(outcome.spentUsd)} spent, ${formatUsd(outcome.reservedUsd)} held by requests still running). Wait for tomorrow (UTC), raise it (falai config set ${cap.setting} <usd>), or see the spend with falai usage.`,
      {
        details: {
          endpointId,
          estimateUsd: amountUsd,
          capUsd: outcome.capUsd,
          spentUsd: outcome.spentUsd,
          reservedUsd: outcome.reservedUsd,
          remainingUsd: left,
          scope: cap.scope,
          setting: cap.setting,
        },
      },
    );
  }
  return held;
}

/** Releases reservations whose submit never happened (best effort; idempotent). */
export async function releaseBudgets(
  store: PendingStore,
  reservationIds: readonly string[],
): Promise<void> {
  if (reservationIds.length === 0 || !store.budget) return;
  const ledger = store.budget;
  await Promise.all(reservationIds.map((id) => ledger.release(id).catch(() => false)));
}

/** Settles reservations with what the request cost (best effort; idempotent). */
export async function settleBudgets(
  store: PendingStore,
  reservationIds: readonly string[],
  actualUsd: number,
): Promise<void> {
  if (reservationIds.length === 0 || !store.budget) return;
  const ledger = store.budget;
  await Promise.all(
    reservationIds.map((id) => ledger.settle(id, actualUsd).catch(() => undefined)),
  );
}
