import * as v from 'valibot';
import { ConfigError } from '../errors/falai-error.js';
import { isUnsafeKey } from '../json/unsafe-keys.js';

/**
 * Spending caps in falai's config file: hard caps enforced by the store's budget ledger (the
 * estimate of each paid submit is reserved before it is sent). `budget.daily` caps a UTC day of
 * spend through the store in use (every process and key sharing it); `budget.store.<spec>.daily`
 * sets that cap for one store instead; `budget.key.<key id>.daily` adds a cap on one key's
 * spend (the key id is the part of the key before `:`).
 *
 * ```json
 * { "budget": { "daily": 5, "key": { "3f9a…": { "daily": 2 } }, "store": { "redis://h:6379/0": { "daily": 20 } } } }
 * ```
 */

/** Largest cap accepted, in US dollars (the ledger's own bound). */
const MAX_CAP_USD = 1_000_000_000;

/** A dollar amount: a number, or its digits as `config set` writes them. */
const UsdAmount = v.pipe(
  v.union([v.number(), v.string()], 'a budget must be a number of US dollars'),
  v.transform((value) => (typeof value === 'string' ? value.trim() : value)),
  v.check(
    (value) =>
      typeof value === 'number' ? Number.isFinite(value) : /^\d+(\.\d{1,6})?$/.test(value),
    'a budget must be a number of US dollars such as 5 or 2.50',
  ),
  v.transform(Number),
  v.check(
    (value) => value >= 0 && value <= MAX_CAP_USD,
    `a budget must be between 0 and ${MAX_CAP_USD} US dollars`,
  ),
);

const Caps = v.strictObject({ daily: v.optional(UsdAmount) }, 'unknown budget key');

/** A name used as a record key: no `__proto__` & co., no control characters, bounded. */
const Name = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(500),
  v.check((value) => !isUnsafeKey(value) && !/[\u0000-\u001f\u007f]/.test(value), 'bad name'),
);

/** The `budget` object of falai's config file. */
export const BudgetConfigSchema = v.strictObject(
  {
    /** US dollars per UTC day through the store in use (all processes and keys sharing it). */
    daily: v.optional(UsdAmount),
    /** Caps on one key's spend, by key id (the part of the key before `:`). */
    key: v.optional(v.record(Name, Caps)),
    /** Caps for one store instead of `daily`, by store spec (`sqlite:/path`, `redis://…`). */
    store: v.optional(v.record(Name, Caps)),
  },
  'unknown budget key (use budget.daily, budget.key.<key id>.daily or budget.store.<store>.daily)',
);
export type BudgetConfig = v.InferOutput<typeof BudgetConfigSchema>;

/** What a `budget.…` config key names. */
export type BudgetConfigPath =
  | { readonly scope: 'all' }
  | { readonly scope: 'key'; readonly name: string }
  | { readonly scope: 'store'; readonly name: string };

/** The budget keys `config set` takes, for messages. */
export const BUDGET_CONFIG_KEYS = [
  'budget.daily',
  'budget.key.<key id>.daily',
  'budget.store.<store spec>.daily',
] as const;

/** True for a key that starts with `budget.` (then {@link parseBudgetKey} decides). */
export function isBudgetConfigKey(key: string): boolean {
  return key === 'budget' || key.startsWith('budget.');
}

/**
 * Reads a `budget.…` config key: `budget.daily`, `budget.key.<key id>.daily`,
 * `budget.store.<store spec>.daily` (a spec may itself hold dots). `CONFIG_INVALID` otherwise.
 */
export function parseBudgetKey(key: string): BudgetConfigPath {
  if (key === 'budget.daily') return { scope: 'all' };
  for (const scope of ['key', 'store'] as const) {
    const prefix = `budget.${scope}.`;
    if (key.startsWith(prefix) && key.endsWith('.daily') && key.length > prefix.length + 6) {
      const name = key.slice(prefix.length, -'.daily'.length);
      if (scope === 'key' && name.includes(':')) {
        throw new ConfigError(
          `"${key.slice(0, prefix.length)}…" takes the key id (the part of the key before ":"), never the whole key.`,
          { details: { key: `${prefix}<key id>.daily` } },
        );
      }
      if (scope === 'store' && /:\/\/[^/@]*@/.test(name)) {
        throw new ConfigError(
          `"budget.store.<store>.daily" names the store without its user or password (e.g. budget.store.redis://host:6379/0.daily): a config key must not hold a secret.`,
        );
      }
      if (!v.is(Name, name)) {
        throw new ConfigError(`"${key}" names a ${scope} falai cannot use as a budget key.`);
      }
      return { scope, name };
    }
  }
  throw new ConfigError(
    `Unknown budget key "${key}". Budget keys: ${BUDGET_CONFIG_KEYS.join(', ')}.`,
    { details: { key, validKeys: BUDGET_CONFIG_KEYS } },
  );
}

/** The budget with one cap set (returns a new object; the value is checked). */
export function withBudgetValue(
  budget: BudgetConfig | undefined,
  path: BudgetConfigPath,
  value: string,
): BudgetConfig {
  const parsed = v.safeParse(UsdAmount, value);
  if (!parsed.success) {
    throw new ConfigError(
      `Invalid budget "${value}": ${parsed.issues[0]?.message ?? 'not a number of US dollars'}.`,
    );
  }
  const current = budget ?? {};
  if (path.scope === 'all') return { ...current, daily: parsed.output };
  const group = { ...(current[path.scope] ?? {}) };
  group[path.name] = {
    ...(Object.hasOwn(group, path.name) ? group[path.name] : {}),
    daily: parsed.output,
  };
  return { ...current, [path.scope]: group };
}

/** The budget without one cap, and whether it was set. Empty groups are dropped. */
export function withoutBudgetValue(
  budget: BudgetConfig | undefined,
  path: BudgetConfigPath,
): { readonly budget: BudgetConfig | undefined; readonly removed: boolean } {
  if (!budget) return { budget, removed: false };
  if (path.scope === 'all') {
    if (budget.daily === undefined) return { budget, removed: false };
    const { daily: _, ...rest } = budget;
    return { budget: emptyToUndefined(rest), removed: true };
  }
  const group = budget[path.scope];
  const entry = group && Object.hasOwn(group, path.name) ? group[path.name] : undefined;
  if (entry?.daily === undefined) return { budget, removed: false };
  const nextGroup = { ...group };
  delete nextGroup[path.name];
  const next: BudgetConfig = { ...budget };
  if (Object.keys(nextGroup).length > 0) next[path.scope] = nextGroup;
  else delete next[path.scope];
  return { budget: emptyToUndefined(next), removed: true };
}

function emptyToUndefined(budget: BudgetConfig): BudgetConfig | undefined {
  return Object.keys(budget).length === 0 ? undefined : budget;
}

/** One cap as `config get` reads it, or undefined. */
export function budgetValue(
  budget: BudgetConfig | undefined,
  path: BudgetConfigPath,
): number | undefined {
  if (!budget) return undefined;
  if (path.scope === 'all') return budget.daily;
  const group = budget[path.scope];
  return group && Object.hasOwn(group, path.name) ? group[path.name]?.daily : undefined;
}

/** Every cap as `config list` shows it: `{ 'budget.daily': 5, 'budget.key.3f9a.daily': 2 }`. */
export function budgetEntries(budget: BudgetConfig | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!budget) return out;
  if (budget.daily !== undefined) out['budget.daily'] = budget.daily;
  for (const scope of ['key', 'store'] as const) {
    for (const [name, caps] of Object.entries(budget[scope] ?? {})) {
      if (caps.daily !== undefined) out[`budget.${scope}.${name}.daily`] = caps.daily;
    }
  }
  return out;
}
