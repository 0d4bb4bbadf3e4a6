import {
  type BatchManifestEntry,
  type BatchPlan,
  type BatchRowStatus,
  InputError,
  StoreError,
  verifyPlan,
} from '@falai/core';
import type { Redis } from 'ioredis';
import { type BatchQueueConnection, batchKeys } from './keys.js';

/** The run settings an enqueue gives a batch; every worker applies them to its rows. */
export interface BatchRunSettings {
  /** The batch's hard cap in US dollars (reserved in the store's ledger, `batch:<hash>`). */
  readonly maxCostUsd?: number;
  /** Where outputs go, on each worker's host (relative: from the worker's folder). */
  readonly outDir?: string;
  /** Output names, e.g. `{row.id}-{index}.{ext}`. */
  readonly name?: string;
}

/** A batch as the queue keeps it: the plan and its run settings. */
export interface QueuedBatch extends BatchRunSettings {
  readonly plan: BatchPlan;
  readonly enqueuedAt: string;
}

/** Largest plan accepted back from Redis (1,000,000 rows of small inputs fit). */
const MAX_PLAN_BYTES = 512 * 1024 * 1024;

function corrupt(what: string, key: string): StoreError {
  return new StoreError(
    'STORE_CORRUPT',
    `The batch queue's ${what} at ${key} is damaged; enqueue the batch again (falai batch run <plan> --distributed).`,
    { store: 'redis', operation: 'batch-queue' },
  );
}

/** Reads a batch (plan verified against its hash) or undefined when it was never enqueued. */
export async function readQueuedBatch(
  redis: Redis,
  connection: BatchQueueConnection,
  hash: string,
): Promise<QueuedBatch | undefined> {
  const keys = batchKeys(connection, hash);
  const [text, meta] = await Promise.all([redis.get(keys.plan), redis.hgetall(keys.meta)]);
  if (text === null) return undefined;
  if (text.length > MAX_PLAN_BYTES) throw corrupt('plan', keys.plan);
  let plan: BatchPlan;
  try {
    plan = JSON.parse(text) as BatchPlan;
  } catch {
    throw corrupt('plan', keys.plan);
  }
  verifyPlan(plan);
  if (plan.hash !== hash) throw corrupt('plan', keys.plan);
  const maxCost = meta.maxCostUsd === undefined ? undefined : Number(meta.maxCostUsd);
  if (maxCost !== undefined && !(Number.isFinite(maxCost) && maxCost >= 0)) {
    throw corrupt('settings', keys.meta);
  }
  return {
    plan,
    enqueuedAt: meta.enqueuedAt ?? '',
    ...(maxCost === undefined ? {} : { maxCostUsd: maxCost }),
    ...(meta.outDir ? { outDir: meta.outDir } : {}),
    ...(meta.name ? { name: meta.name } : {}),
  };
}

const STATUSES: readonly BatchRowStatus[] = [
  'completed',
  'failed',
  'unknown',
  'over-budget',
  'not-submitted',
];

/** A manifest entry read back from Redis, or undefined when it is not one. */
export function parseEntry(text: string): BatchManifestEntry | undefined {
  if (text.length > 1024 * 1024) return undefined;
  try {
    const value = JSON.parse(text) as BatchManifestEntry;
    if (
      typeof value?.row !== 'number' ||
      typeof value.key !== 'string' ||
      !STATUSES.includes(value.status) ||
      !Array.isArray(value.outputs) ||
      // Summed into the batch's spend: another worker's damaged entry must not make it NaN.
      (value.costUsd !== undefined &&
        !(
          typeof value.costUsd === 'number' &&
          Number.isFinite(value.costUsd) &&
          value.costUsd >= 0
        ))
    )
      return undefined;
    return value;
  } catch {
    return undefined;
  }
}

/** The finished rows of a batch (manifest entries by row key). */
export async function readEntries(
  redis: Redis,
  connection: BatchQueueConnection,
  hash: string,
): Promise<Map<string, BatchManifestEntry>> {
  const all = await redis.hgetall(batchKeys(connection, hash).entries);
  const out = new Map<string, BatchManifestEntry>();
  for (const [key, text] of Object.entries(all)) {
    const entry = parseEntry(text);
    if (entry) out.set(key, entry);
  }
  return out;
}

/** Throws `INPUT_INVALID` unless `hash` is a batch hash or a unique prefix of one enqueued. */
export async function resolveBatchHash(
  redis: Redis,
  connection: BatchQueueConnection,
  prefix: string,
): Promise<string | undefined> {
  const all = await redis.smembers(batchKeys(connection, '0'.repeat(64)).batches);
  const found = all.filter((hash) => hash.startsWith(prefix));
  if (found.length > 1) {
    throw new InputError(
      `${prefix} matches ${found.length} queued batches; give more of the hash.`,
      [{ path: ['batch'], message: 'no unique batch', kind: 'reference' }],
    );
  }
  return found[0];
}
