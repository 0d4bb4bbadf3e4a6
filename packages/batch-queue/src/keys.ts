import { ConfigError } from '@falai/core';
import { Redis } from 'ioredis';

/** Where a batch queue lives: a Redis and the prefix of its keys. */
export interface BatchQueueConnection {
  /** `redis://host:port/db` (or `rediss://`), as in `FALAI_STORE`. */
  readonly url: string;
  /**
   * Prefix of every key: the store's prefix, so one queue (and one global concurrency limit)
   * serves the store's account. Letters, digits and `_ . : -`. @default 'falai'
   */
  readonly prefix?: string;
}

/** The BullMQ queue every batch of a prefix shares: one global concurrency limit per account. */
export const QUEUE_NAME = 'falai-batch-rows';

/** BullMQ's key prefix for a store prefix (`<prefix>:batchq`). */
export function queuePrefix(connection: BatchQueueConnection): string {
  const prefix = connection.prefix ?? 'falai';
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(prefix)) {
    throw new ConfigError(
      `The batch queue prefix "${prefix.slice(0, 100)}" may only use letters, digits and _ . : - (at most 100).`,
    );
  }
  return `${prefix}:batchq`;
}

/** The keys of one batch beside the queue. */
export function batchKeys(connection: BatchQueueConnection, hash: string) {
  if (!/^[a-f0-9]{64}$/.test(hash)) {
    throw new ConfigError(`"${hash.slice(0, 80)}" is not a batch hash (64 hex digits).`);
  }
  const root = queuePrefix(connection);
  const base = `${root}:batch:${hash}`;
  return {
    /** The set of batch hashes ever enqueued under this prefix. */
    batches: `${root}:batches`,
    /** The plan (JSON) the workers run. */
    plan: `${base}:plan`,
    /** Run settings: maxCostUsd, outDir, name, total, endpointId, enqueuedAt. */
    meta: `${base}:meta`,
    /** Row key → its manifest entry (JSON), written as each row finishes. */
    entries: `${base}:entries`,
    /** Row key → its submit intents (id → JSON): "sent, answer unknown". */
    intents: (rowKey: string) => `${base}:intents:${rowKey}`,
  };
}

/** A row's job id: batch hash and row key, so enqueueing a batch twice adds nothing. */
export function rowJobId(hash: string, rowKey: string): string {
  return `${hash}-${rowKey}`;
}

/** A Redis client for BullMQ (no per-command retry limit, as its workers need). */
export function openRedis(connection: BatchQueueConnection): Redis {
  const redis = new Redis(connection.url, {
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
    lazyConnect: false,
  });
  // Errors surface on the commands that fail; an unhandled 'error' event would crash.
  redis.on('error', () => undefined);
  return redis;
}

/** How long a batch's keys are kept after its last enqueue: 30 days. */
export const BATCH_RETENTION_SECONDS = 30 * 24 * 60 * 60;
