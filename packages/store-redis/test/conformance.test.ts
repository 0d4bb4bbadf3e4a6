import {
  BUDGET_RETENTION_MS,
  type BudgetLedger,
  type PendingStore,
  type Redactor,
} from '@falai/core/store-kit';
import { describeStoreConformance, minimalRecord } from '@falai/store-conformance';
import { afterAll, expect, it } from 'vitest';
import { createRedisStore, redisKeys } from '../src/index.js';
import {
  adminClient,
  deletePrefix,
  describeWithRedis,
  dumpPrefix,
  REDIS_URL,
  testPrefix,
} from './helpers.js';

const root = testPrefix('conf');
let counter = 0;
const prefixes = new WeakMap<PendingStore, string>();

describeWithRedis('redis store', () => {
  const admin = adminClient();
  afterAll(async () => {
    await deletePrefix(admin, root);
    admin.disconnect();
  });

  const open = (prefix: string, retentionSeconds?: number, redactor?: Redactor) => {
    const store = createRedisStore({
      url: REDIS_URL,
      prefix,
      retentionSeconds,
      ...(redactor ? { redactor } : {}),
    });
    prefixes.set(store, prefix);
    return store;
  };
  const prefixOf = (store: PendingStore) => prefixes.get(store) as string;

  describeStoreConformance({
    name: 'redis',
    create: async (options) => open(`${root}-${++counter}`, undefined, options?.redactor),
    reopen: async (previous) => open(prefixOf(previous)),
    rawBytes: (store) => dumpPrefix(admin, prefixOf(store)),
    corrupt: async (store, requestId) => {
      const key = redisKeys(prefixOf(store)).record(requestId);
      await admin.hset(key, 'data', '{"requestId": "torn');
      return { location: key };
    },
    extra: (getStore) => {
      it('keeps every key under the prefix and one shared hash tag', async () => {
        const store = getStore();
        await store.put(minimalRecord());
        await store.put(minimalRecord({ status: 'completed' }));
        const keys = (await dumpPrefix(admin, prefixOf(store)))
          .split('\n')
          .filter((_, i) => i % 2 === 0);
        expect(keys).toHaveLength(3);
        for (const key of keys) {
          expect(key.startsWith(`${prefixOf(store)}:{falai}:`)).toBe(true);
          expect(key.match(/\{/g)).toHaveLength(1);
        }
      });

      it('finished records get the retention TTL; active ones never expire', async () => {
        const store = getStore();
        const active = minimalRecord({ status: 'running' });
        const done = minimalRecord({ status: 'completed' });
        await store.put(active);
        await store.put(done);
        const keys = redisKeys(prefixOf(store));
        expect(await admin.ttl(keys.record(active.requestId))).toBe(-1);
        const ttl = await admin.ttl(keys.record(done.requestId));
        expect(ttl).toBeGreaterThan(7 * 24 * 3600 - 60);
        await store.update(active.requestId, { status: 'failed' }, { status: 'running' });
        expect(await admin.ttl(keys.record(active.requestId))).toBeGreaterThan(0);
        await store.update(active.requestId, { status: 'queued' });
        expect(await admin.ttl(keys.record(active.requestId))).toBe(-1);
      });

      it('an expired finished record leaves the list and the index', async () => {
        const prefix = `${prefixOf(getStore())}-ttl`;
        const store = open(prefix, 1);
        const done = minimalRecord({ status: 'cancelled' });
        const active = minimalRecord({ status: 'queued' });
        await store.put(done);
        await store.put(active);
        expect(await store.list()).toHaveLength(2);
        await new Promise((resolve) => setTimeout(resolve, 2_100));
        expect(await store.list()).toEqual([active]);
        expect(await admin.zscore(redisKeys(prefix).index, done.requestId)).toBeNull();
        expect(await admin.zscore(redisKeys(prefix).index, active.requestId)).not.toBeNull();
        await store.close();
      });

      it('an unreachable Redis is a STORE_ERROR without the password', async () => {
        const store = createRedisStore({
          url: 'redis://falai:hunter2secret@127.0.0.1:1/0',
          connectTimeoutMs: 500,
        });
        expect(store.location).not.toContain('hunter2secret');
        const error = await store.get('x').catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'STORE_ERROR' });
        expect(JSON.stringify(error)).not.toContain('hunter2secret');
        expect((error as Error).message).not.toContain('hunter2secret');
        // The socket error says why, and the sentence has one period (ioredis's own message,
        // "Connection is closed.", used to end up as "closed..").
        expect((error as Error).message).toBe(
          'The Redis store at redis://falai:***@127.0.0.1:1/0 (prefix falai) failed to connect ' +
            '(get): connect ECONNREFUSED 127.0.0.1:1. Check that Redis is running and reachable, ' +
            'or choose another store with FALAI_STORE.',
        );
        await store.close();
      });

      it('rejects a prefix with braces', () => {
        expect(() => createRedisStore({ prefix: 'a{b}' })).toThrow(/hash tag/);
      });

      it('keeps a budget scope under the hash tag, expiring after its window', async () => {
        const store = getStore();
        const budget = store.budget as BudgetLedger;
        // Braces in a scope are escaped, so the key keeps exactly one hash tag.
        const scope = `batch:{odd}%-${Date.now()}`;
        const endsAt = Date.now() + 3_600_000;
        const held = await budget.reserve({
          scope,
          window: { endsAt },
          amountUsd: 1.5,
          capUsd: 10,
          requestKey: 'row-1',
          ttlMs: 60_000,
        });
        expect(held.ok).toBe(true);
        const keys = redisKeys(prefixOf(store));
        expect(keys.budget(scope)).toBe(
          `${prefixOf(store)}:{falai}:bgt:batch:%7Bodd%7D%25-${scope.slice(-13)}`,
        );
        for (const key of [keys.budget(scope), keys.budgetLive(scope)]) {
          expect(key.match(/\{/g)).toHaveLength(1);
          // Kept until the window's end plus BUDGET_RETENTION_MS, not for ever.
          const expiry = await admin.pexpiretime(key);
          expect(expiry).toBeGreaterThanOrEqual(endsAt + BUDGET_RETENTION_MS - 5_000);
          expect(expiry).toBeLessThanOrEqual(endsAt + BUDGET_RETENTION_MS + 5_000);
        }
        expect(await admin.hget(keys.budget(scope), 'r:row-1')).toBe('1500000');
        expect(await admin.hget(keys.budget(scope), 'reserved')).toBe('1500000');
        if (held.ok) await budget.settle(held.reservationId, 1.25);
        expect(await admin.hgetall(keys.budget(scope))).toMatchObject({
          's:row-1': '1250000',
          spent: '1250000',
          reserved: '0',
        });
        expect(await admin.zcard(keys.budgetLive(scope))).toBe(0);
      });

      it('a damaged budget sum is STORE_CORRUPT naming the key', async () => {
        const store = getStore();
        const scope = `daily:damaged-${Date.now()}`;
        await admin.hset(redisKeys(prefixOf(store)).budget(scope), 'spent', 'lots');
        await expect((store.budget as BudgetLedger).usage(scope)).rejects.toMatchObject({
          code: 'STORE_CORRUPT',
          message: expect.stringContaining(redisKeys(prefixOf(store)).budget(scope)),
        });
      });
    },
  });
});
