import type { PendingStore } from '@falai/core/store-kit';
import { describeSearchConformance, minimalRecord } from '@falai/store-conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { SEARCH_PAGE } from '../src/history.js';
import { createRedisStore, redisKeys } from '../src/index.js';
import { adminClient, deletePrefix, describeWithRedis, REDIS_URL, testPrefix } from './helpers.js';

const root = testPrefix('search');
let counter = 0;
const prefixes = new WeakMap<PendingStore, string>();

describeWithRedis('redis store history search', () => {
  const admin = adminClient();
  afterAll(async () => {
    await deletePrefix(admin, root);
    admin.disconnect();
  });

  const open = (prefix: string) => {
    const store = createRedisStore({ url: REDIS_URL, prefix });
    prefixes.set(store, prefix);
    return store;
  };

  describeSearchConformance({
    name: 'redis',
    create: async () => open(`${root}-${++counter}`),
    reopen: async (previous) => open(prefixes.get(previous) as string),
  });

  describe('pages and old records', () => {
    it('walks pages newest first across ties in one millisecond, and stops at the limit', async () => {
      const prefix = `${root}-${++counter}`;
      const store = open(prefix);
      try {
        const total = SEARCH_PAGE * 2 + 37;
        const at = '2026-03-01T10:00:00.000Z';
        // Every record in the same millisecond: only the request id orders them.
        const records = Array.from({ length: total }, (_, i) =>
          minimalRecord({
            requestId: `tie-${String(i).padStart(5, '0')}`,
            submittedAt: at,
            updatedAt: at,
            input: { fields: { prompt: i % 2 ? 'odd harbour' : 'even harbour' }, files: [] },
          }),
        );
        for (const record of records) await store.put(record);
        const all = (await store.search?.({})) ?? [];
        expect(all.map((r) => r.requestId)).toEqual(records.map((r) => r.requestId).reverse());
        const odd = (await store.search?.({ text: 'odd' })) ?? [];
        expect(odd).toHaveLength(Math.floor(total / 2));
        expect(odd.every((r) => Number(r.requestId.slice(4)) % 2 === 1)).toBe(true);
        const three = (await store.search?.({ text: 'even', limit: 3 })) ?? [];
        expect(three.map((r) => r.requestId)).toEqual(['tie-02036', 'tie-02034', 'tie-02032']);
      } finally {
        await store.close();
      }
    });

    it('finds records written before the search fields existed (checked from their data)', async () => {
      const prefix = `${root}-${++counter}`;
      const store = open(prefix);
      try {
        const old = minimalRecord({
          endpointId: 'fal-ai/nano-banana-pro',
          input: { fields: { prompt: 'An older Lighthouse' }, files: [] },
        });
        await store.put(old);
        const key = redisKeys(prefix).record(old.requestId);
        await admin.hdel(key, 'p', 'e');
        expect(await admin.hexists(key, 'p')).toBe(0);
        expect((await store.search?.({ text: 'lighth' }))?.map((r) => r.requestId)).toEqual([
          old.requestId,
        ]);
        expect(await store.search?.({ text: 'lighthouse', endpointId: 'fal-ai/flux/dev' })).toEqual(
          [],
        );
        expect(await store.search?.({ text: 'harbour' })).toEqual([]);
      } finally {
        await store.close();
      }
    });

    it('keeps finished records 30 days by default (the history retention)', async () => {
      const prefix = `${root}-${++counter}`;
      const store = open(prefix);
      try {
        const done = minimalRecord({ status: 'completed' });
        await store.put(done);
        const ttl = await admin.ttl(redisKeys(prefix).record(done.requestId));
        expect(ttl).toBeGreaterThan(30 * 24 * 3600 - 60);
        expect(ttl).toBeLessThanOrEqual(30 * 24 * 3600);
      } finally {
        await store.close();
      }
    });
  });
});
