import { randomUUID } from 'node:crypto';
import type { SubmitIntent, SubmitIntentJournal } from '@falai/core';
import type { Redis } from 'ioredis';
import { BATCH_RETENTION_SECONDS } from './keys.js';

/** Largest intent read back (a note is a few hundred bytes). */
const MAX_INTENT_BYTES = 16 * 1024;

/** A stored note, checked field by field (anything else is not an intent). */
function parseIntent(text: string): SubmitIntent | undefined {
  if (text.length > MAX_INTENT_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const item = value as Record<string, unknown>;
  const ok =
    item.version === 1 &&
    typeof item.id === 'string' &&
    /^[a-f0-9-]{36}$/.test(item.id) &&
    typeof item.endpointId === 'string' &&
    item.endpointId.length <= 300 &&
    typeof item.inputHash === 'string' &&
    /^sha256:[a-f0-9]{64}$/.test(item.inputHash) &&
    typeof item.at === 'string' &&
    Number.isFinite(Date.parse(item.at)) &&
    typeof item.store === 'string' &&
    Array.isArray(item.reservations) &&
    item.reservations.length <= 8 &&
    item.reservations.every((reservation) => typeof reservation === 'string') &&
    typeof item.pid === 'number' &&
    (item.estimateUsd === undefined ||
      (typeof item.estimateUsd === 'number' && item.estimateUsd >= 0));
  return ok ? (item as unknown as SubmitIntent) : undefined;
}

/**
 * Core's submit intent journal ("sent, answer unknown") for one batch row, kept in Redis
 * (one hash per row) instead of on one machine's disk, so whichever worker takes a row over
 * sees what the one before it was about to send. `submitAndRecord` writes the note before the
 * POST and removes it once the record is stored; `recoverRequests` reads it. Durable as far as
 * the Redis is (AOF with `appendfsync everysec` or stricter is advised for batches).
 */
export function redisIntentJournal(redis: Redis, key: string): SubmitIntentJournal {
  return {
    dir: `redis ${key}`,
    async record(init) {
      const intent: SubmitIntent = { version: 1, id: randomUUID(), pid: process.pid, ...init };
      await redis
        .multi()
        .hset(key, intent.id, JSON.stringify(intent))
        .expire(key, BATCH_RETENTION_SECONDS)
        .exec();
      return intent;
    },
    async resolve(id) {
      await redis.hdel(key, id);
    },
    async list() {
      const all = await redis.hgetall(key);
      return Object.values(all)
        .map(parseIntent)
        .filter((intent): intent is SubmitIntent => intent !== undefined)
        .sort((a, b) => a.at.localeCompare(b.at));
    },
  };
}
