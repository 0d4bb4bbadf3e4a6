import { setTimeout as delay } from 'node:timers/promises';
import type { BatchManifestEntry, BatchRowStatus } from '@falai/core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { readEntries } from './batch.js';
import type { RowJobData } from './enqueue.js';
import {
  type BatchQueueConnection,
  batchKeys,
  openRedis,
  QUEUE_NAME,
  queuePrefix,
} from './keys.js';

/** Where a distributed batch is. */
export interface DistributedBatchProgress {
  readonly batch: string;
  readonly endpointId?: string;
  readonly total: number;
  /** Finished rows by how they ended. */
  readonly counts: Readonly<Record<BatchRowStatus, number>>;
  readonly finished: number;
  /** Rows a worker is on now. */
  readonly running: number;
  /** Rows waiting for a worker. */
  readonly queued: number;
  /** Rows whose job failed for good without an entry (workers died on them too often). */
  readonly lost: number;
  /** Actual cost of the finished rows. */
  readonly spentUsd: number;
  /** The queue's global concurrency limit (rows in flight at fal, all workers), if set. */
  readonly globalConcurrency?: number;
}

/** The entries of a batch plus counts read from the queue. */
async function snapshot(
  redis: Redis,
  queue: Queue<RowJobData>,
  connection: BatchQueueConnection,
  hash: string,
): Promise<{ progress: DistributedBatchProgress; entries: Map<string, BatchManifestEntry> }> {
  const keys = batchKeys(connection, hash);
  const [meta, entries, active, failed, limit] = await Promise.all([
    redis.hgetall(keys.meta),
    readEntries(redis, connection, hash),
    queue.getActive(),
    queue.getFailed(),
    queue.getGlobalConcurrency(),
  ]);
  const counts: Record<BatchRowStatus, number> = {
    completed: 0,
    failed: 0,
    unknown: 0,
    'over-budget': 0,
    'not-submitted': 0,
  };
  let spent = 0;
  for (const entry of entries.values()) {
    counts[entry.status] += 1;
    spent += Math.round((entry.costUsd ?? 0) * 1e6);
  }
  const total = Number(meta.total ?? 0);
  const running = active.filter((job) => job?.data?.batch === hash).length;
  const lost = failed.filter((job) => job?.data?.batch === hash).length;
  const finished = entries.size;
  return {
    entries,
    progress: {
      batch: hash,
      ...(meta.endpointId ? { endpointId: meta.endpointId } : {}),
      total,
      counts,
      finished,
      running,
      queued: Math.max(0, total - finished - running - lost),
      lost,
      spentUsd: spent / 1e6,
      ...(limit ? { globalConcurrency: limit } : {}),
    },
  };
}

/** Where a distributed batch is now (`falai batch status`). */
export async function readBatchProgress(
  connection: BatchQueueConnection,
  hash: string,
): Promise<DistributedBatchProgress & { readonly entries: readonly BatchManifestEntry[] }> {
  const redis = openRedis(connection);
  const queue = new Queue<RowJobData>(QUEUE_NAME, {
    connection: redis,
    prefix: queuePrefix(connection),
  });
  try {
    const { progress, entries } = await snapshot(redis, queue, connection, hash);
    return { ...progress, entries: [...entries.values()].sort((a, b) => a.row - b.row) };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** Options of {@link watchBatch}. */
export interface WatchBatchOptions {
  readonly connection: BatchQueueConnection;
  readonly batch: string;
  /** @default 1000 */
  readonly intervalMs?: number;
  /** Each look at the batch. */
  readonly onProgress?: (progress: DistributedBatchProgress) => void;
  /** Each row as it is seen finished (once per row and watch). */
  readonly onEntry?: (entry: BatchManifestEntry) => void;
  /** Stops watching (the batch goes on in the workers). */
  readonly signal?: AbortSignal;
}

/**
 * Follows a distributed batch until every row has finished (an entry, or a job that failed
 * for good), or `signal` stops the watch; resolves with the last progress and every entry.
 */
export async function watchBatch(
  options: WatchBatchOptions,
): Promise<{ progress: DistributedBatchProgress; entries: BatchManifestEntry[] }> {
  const { connection, batch } = options;
  const redis = openRedis(connection);
  const queue = new Queue<RowJobData>(QUEUE_NAME, {
    connection: redis,
    prefix: queuePrefix(connection),
  });
  const seen = new Set<string>();
  try {
    for (;;) {
      const { progress, entries } = await snapshot(redis, queue, connection, batch);
      for (const [key, entry] of entries) {
        if (seen.has(key)) continue;
        seen.add(key);
        options.onEntry?.(entry);
      }
      options.onProgress?.(progress);
      const done = progress.total > 0 && progress.finished + progress.lost >= progress.total;
      if (done || options.signal?.aborted) {
        return { progress, entries: [...entries.values()].sort((a, b) => a.row - b.row) };
      }
      // One timer per tick, its abort listener removed with it (no listener kept per tick).
      await delay(options.intervalMs ?? 1000, undefined, { signal: options.signal }).catch(
        () => undefined,
      );
    }
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
