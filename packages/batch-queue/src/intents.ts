import { randomUUID } from 'node:crypto';
import type { SubmitIntent, SubmitIntentJournal } from '@falai/core';
import { parseSubmitIntent } from '@falai/core/internal';
import type { Redis } from 'ioredis';
import { BATCH_RETENTION_SECONDS } from './keys.js';

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
        .map(parseSubmitIntent)
        .filter((intent): intent is SubmitIntent => intent !== undefined)
        .sort((a, b) => a.at.localeCompare(b.at));
    },
  };
}
