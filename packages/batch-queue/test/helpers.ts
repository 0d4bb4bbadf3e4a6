import { randomBytes } from 'node:crypto';
import {
  createFalClient,
  createModelRegistry,
  createPlatformClient,
  type FalClient,
  type PendingStore,
  type PlatformClient,
  parseBatchRows,
  planBatch,
} from '@falai/core';
import { type Emulator, type EmulatorOptions, startEmulator } from '@falai/emulator';
import { createRedisStore } from '@falai/store-redis';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import type { BatchQueueConnection } from '../src/index.js';

/** The Redis the tests use: `REDIS_URL`, default the local one. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const KEY = 'batch-queue-id:batch-queue-secret-5e1f';
export const ENDPOINT = 'fal-ai/nano-banana-pro';
export const registry = createModelRegistry();

async function reachable(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.disconnect();
  }
}

/** Why Redis cannot be used (undefined when it answers); under CI that is an error. */
export const redisProblem = await reachable();
if (redisProblem && process.env.CI) {
  throw new Error(`Redis is not reachable at ${REDIS_URL} (${redisProblem}) and CI is set.`);
}
if (redisProblem) {
  console.warn(
    `\n  ⚠ SKIPPING the batch queue tests: no Redis at ${REDIS_URL} (${redisProblem}).\n`,
  );
}

/** `describe`, or `describe.skip` with a visible reason when Redis is down outside CI. */
export function describeWithRedis(name: string, body: () => void): void {
  describe.skipIf(redisProblem !== undefined)(name, body);
}

/** A prefix no other test uses; cleanup deletes only keys under it. */
export function testConnection(label: string): BatchQueueConnection {
  return { url: REDIS_URL, prefix: `falaitest-bq-${label}-${randomBytes(6).toString('hex')}` };
}

/** Deletes every key under `prefix` (SCAN + DEL), never anything else. */
export async function deletePrefix(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await client.del(...found);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** The emulator with fal's per-account limit lifted (the queue's limit is what is measured). */
export function startFal(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({
    port: 0,
    strict: true,
    concurrency: Number.POSITIVE_INFINITY,
    defaultLatency: { queueMs: 0, runMs: 40 },
    keys: { accept: [KEY] },
    ...options,
  });
}

export function clientFor(emulator: Emulator): FalClient {
  return createFalClient({
    credentials: KEY,
    baseUrl: emulator.url,
    retry: {
      status: { baseDelayMs: 5, maxDelayMs: 20 },
      result: { baseDelayMs: 5, maxDelayMs: 20 },
    },
  });
}

export function platformFor(emulator: Emulator): PlatformClient {
  return createPlatformClient({ credentials: KEY, baseUrl: emulator.url });
}

/** The Redis store under the connection's prefix. */
export function storeFor(connection: BatchQueueConnection): PendingStore {
  return createRedisStore({
    url: connection.url,
    ...(connection.prefix ? { prefix: connection.prefix } : {}),
  });
}

/** A plan of `count` rows (`prompt <label> <i>`). */
export async function planOf(label: string, count: number) {
  const rows = await parseBatchRows(
    `${Array.from({ length: count }, (_, i) => JSON.stringify({ prompt: `${label} ${i}` })).join('\n')}\n`,
    'jsonl',
  );
  return planBatch({ endpointId: ENDPOINT, rows, registry });
}

/** fal's jobs per prompt: how many times each row's input was accepted. */
export function jobsPerPrompt(emulator: Emulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const job of emulator.jobs()) {
    const prompt = String((job.input as { prompt?: unknown }).prompt);
    counts.set(prompt, (counts.get(prompt) ?? 0) + 1);
  }
  return counts;
}
