import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe } from 'vitest';

/** The Redis the tests use: `REDIS_URL`, default the local one. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other test file or run uses; cleanup deletes only keys under it. */
export function testPrefix(label: string): string {
  return `falaitest-${label}-${randomBytes(6).toString('hex')}`;
}

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
  throw new Error(
    `Redis is not reachable at ${REDIS_URL} (${redisProblem}) and CI is set: the Redis store tests ` +
      'must run in CI. Start redis-server or set REDIS_URL.',
  );
}
if (redisProblem) {
  console.warn(
    `\n  ⚠ SKIPPING the Redis store tests: no Redis at ${REDIS_URL} (${redisProblem}).\n` +
      '    Start one with: redis-server --port 6379 --save "" --appendonly no\n',
  );
}

/** `describe`, or `describe.skip` with a visible reason when Redis is down outside CI. */
export function describeWithRedis(name: string, body: () => void): void {
  describe.skipIf(redisProblem !== undefined)(name, body);
}

/** A plain client for assertions and cleanup. */
export function adminClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
}

/** Deletes every key under `prefix` (SCAN + DEL), never anything else. */
export async function deletePrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) deleted += await client.del(...found);
  } while (cursor !== '0');
  return deleted;
}

/** Every key under `prefix` with its contents, as text: what the secret scan searches. */
export async function dumpPrefix(client: Redis, prefix: string): Promise<string> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of found.sort()) {
      const type = await client.type(key);
      if (type === 'hash') {
        const fields = Object.entries(await client.hgetall(key)).sort(([a], [b]) =>
          a < b ? -1 : 1,
        );
        out.push(key, JSON.stringify(fields));
      } else if (type === 'zset')
        out.push(key, (await client.zrange(key, 0, -1, 'WITHSCORES')).join(','));
      else if (type === 'string') out.push(key, (await client.get(key)) ?? '');
      else out.push(key, type);
    }
  } while (cursor !== '0');
  return out.join('\n');
}
