import { randomBytes } from 'node:crypto';
import {
  assertKeyFormat,
  createRedactor,
  FalaiError,
  MAX_RECORD_BYTES,
  type PendingRecord,
  type PendingStore,
  type Redactor,
  type RequestStatus,
  recordBytes,
  StoreError,
} from '@falai/core/store-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeBudgetConformance } from './budget.js';
import { fullRecord, minimalRecord, randomId } from './fixtures.js';

/** How a store plugs into the shared suite. */
export interface StoreConformanceOptions {
  /** Shown in the test names, e.g. `file`. */
  readonly name: string;
  /**
   * A fresh, empty, isolated store; called before every test. Pass `redactor`, when given, to
   * the store's `redactor` option (without one the store keeps the environment's keys out).
   */
  readonly create: (options?: { readonly redactor?: Redactor }) => Promise<PendingStore>;
  /** Opens the same backing data again (after `previous` was closed), for durability tests. */
  readonly reopen?: (previous: PendingStore) => Promise<PendingStore>;
  /**
   * Everything the store persisted, as text (every file, row or key, read behind the store's
   * back), for the secret scan. Required of every durable store: reading through the store
   * would only test what it gives back, not what it wrote.
   */
  readonly rawBytes?: (store: PendingStore) => Promise<string>;
  /**
   * Declares that the store persists nothing (an in-memory store), so there are no raw bytes
   * to scan: the reason, shown in the test name. Only a store whose `capabilities.durable` is
   * false may declare it.
   */
  readonly persistsNothing?: string;
  /**
   * Damages the stored data of `requestId` (or the whole backing file) and says where, so the
   * suite can check the typed error names the place and that the data is left there.
   */
  readonly corrupt?: (
    store: PendingStore,
    requestId: string,
  ) => Promise<{ readonly location: string }>;
  /**
   * Declares that the store keeps no budget ledger (`budget` absent): the reason, shown in the
   * test name. Without it the budget cases run, and a store without a ledger fails them.
   */
  readonly withoutBudget?: string;
  /** Adapter-specific tests, run inside the same `describe` with the current store. */
  readonly extra?: (getStore: () => PendingStore) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to reject, but it resolved');
}

/** JSON that also writes `bigint` values (as digits), for scanning records as text. */
const textOf = (value: unknown): string =>
  JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item));

/**
 * The behaviour every `PendingStore` must show. Each adapter's `test/conformance.test.ts`
 * calls this once; the in-memory reference store runs it too, so the suite is tested.
 */
export function describeStoreConformance(options: StoreConformanceOptions): void {
  describe(`PendingStore conformance: ${options.name}`, () => {
    let store: PendingStore;
    const opened: PendingStore[] = [];
    const getStore = () => store;
    /** What the secret scan reads: the raw bytes, or (declared in-memory stores) the records. */
    const storedText = async (): Promise<string> => {
      if (options.rawBytes) return options.rawBytes(store);
      if (options.persistsNothing !== undefined && !store.capabilities.durable) {
        return textOf(await store.list());
      }
      throw new Error(
        `${options.name} is durable but gives the suite no rawBytes: the secret scan must read ` +
          'what the store wrote (files, rows, keys), not what it returns. Pass rawBytes.',
      );
    };
    const reopen = async (): Promise<PendingStore> => {
      if (!options.reopen) throw new Error('reopen not supported');
      await store.close();
      store = await options.reopen(store);
      opened.push(store);
      return store;
    };

    beforeEach(async () => {
      store = await options.create();
      opened.push(store);
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    describe('empty state', () => {
      it('has nothing and says so without throwing', async () => {
        const id = randomId();
        expect(await store.get(id)).toBeUndefined();
        expect(await store.list()).toEqual([]);
        expect(await store.update(id, { status: 'running' })).toEqual({ kind: 'missing' });
        expect(await store.remove(id)).toBe(false);
        expect(await store.claim(id, 'a', 1000)).toEqual({ kind: 'missing' });
        expect(await store.renew(id, 'a', 1000)).toBe(false);
        expect(await store.release(id, 'a')).toBe(false);
      });

      it('describes itself', () => {
        expect(['memory', 'file', 'sqlite', 'redis']).toContain(store.kind);
        expect(typeof store.location).toBe('string');
        expect(store.location.length).toBeGreaterThan(0);
        expect(store.location).not.toMatch(/:[^/@:]+@/);
        expect(typeof store.capabilities.durable).toBe('boolean');
      });
    });

    describe('put/get round-trip', () => {
      it('keeps every field of a full record exactly', async () => {
        const record = fullRecord();
        await store.put(record);
        expect(await store.get(record.requestId)).toEqual(record);
        expect(await store.list()).toEqual([record]);
      });

      it('keeps a minimal record without inventing fields', async () => {
        const record = minimalRecord();
        await store.put(record);
        const back = await store.get(record.requestId);
        expect(back).toEqual(record);
        expect(Object.keys(back ?? {}).sort()).toEqual(Object.keys(record).sort());
      });

      it('put replaces the whole record', async () => {
        const full = fullRecord();
        await store.put(full);
        const slim = minimalRecord({ requestId: full.requestId, status: 'completed' });
        await store.put(slim);
        expect(await store.get(full.requestId)).toEqual(slim);
        expect(await store.list()).toHaveLength(1);
      });

      it('returns copies: mutating a result does not change the store', async () => {
        const record = fullRecord();
        await store.put(record);
        const back = (await store.get(record.requestId)) as { tags?: Record<string, string> };
        if (back.tags) back.tags.origin = 'mutated';
        expect((await store.get(record.requestId))?.tags?.origin).toBe('test');
      });
    });

    describe('validation on write', () => {
      it('rejects an invalid record and writes nothing', async () => {
        const good = minimalRecord();
        await store.put(good);
        const bad = { ...minimalRecord(), status: 'IN_QUEUE' } as unknown as PendingRecord;
        const error = await rejection(store.put(bad));
        expect(FalaiError.isInstance(error)).toBe(true);
        expect((error as StoreError).code).toBe('STORE_ERROR');
        expect((error as Error).message).toContain('status');
        expect(await store.get(bad.requestId)).toBeUndefined();
        const noId = { ...minimalRecord(), requestId: '' } as PendingRecord;
        await expect(store.put(noId)).rejects.toBeInstanceOf(StoreError);
        const badTime = minimalRecord({ submittedAt: 'yesterday' });
        await expect(store.put(badTime)).rejects.toBeInstanceOf(StoreError);
        expect(await store.list()).toEqual([good]);
      });
    });

    describe('list order and filters', () => {
      const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
      let records: PendingRecord[];
      beforeEach(async () => {
        records = [
          minimalRecord({ requestId: 'c-3', submittedAt: at(3), status: 'completed' }),
          minimalRecord({ requestId: 'a-1', submittedAt: at(1), endpointId: 'fal-ai/veo3' }),
          minimalRecord({ requestId: 'b-2b', submittedAt: at(2), status: 'running' }),
          minimalRecord({ requestId: 'b-2a', submittedAt: at(2), status: 'failed' }),
          // 10:04Z written with an offset: order follows the instant, not the text.
          minimalRecord({ requestId: 'd-4', submittedAt: '2026-03-01T12:04:00.000+02:00' }),
          minimalRecord({ requestId: 'e-0', submittedAt: at(0), status: 'cancelled' }),
        ];
        for (const record of records) await store.put(record);
      });
      const ids = (list: PendingRecord[]) => list.map((r) => r.requestId);

      it('orders by submittedAt, then requestId', async () => {
        expect(ids(await store.list())).toEqual(['e-0', 'a-1', 'b-2a', 'b-2b', 'c-3', 'd-4']);
        expect(ids(await store.list())).toEqual(ids(await store.list()));
      });

      it('filters by one status or several', async () => {
        expect(ids(await store.list({ status: 'queued' }))).toEqual(['a-1', 'd-4']);
        const statuses: RequestStatus[] = ['running', 'failed', 'cancelled'];
        expect(ids(await store.list({ status: statuses }))).toEqual(['e-0', 'b-2a', 'b-2b']);
        expect(await store.list({ status: [] })).toEqual([]);
      });

      it('filters by endpoint, since (inclusive), before (exclusive) and limit', async () => {
        expect(ids(await store.list({ endpointId: 'fal-ai/veo3' }))).toEqual(['a-1']);
        expect(ids(await store.list({ since: at(2) }))).toEqual(['b-2a', 'b-2b', 'c-3', 'd-4']);
        expect(ids(await store.list({ before: at(2) }))).toEqual(['e-0', 'a-1']);
        expect(ids(await store.list({ since: at(1), before: at(3), status: 'failed' }))).toEqual([
          'b-2a',
        ]);
        expect(ids(await store.list({ limit: 2 }))).toEqual(['e-0', 'a-1']);
        expect(ids(await store.list({ status: 'queued', limit: 1 }))).toEqual(['a-1']);
        expect(await store.list({ endpointId: 'nope' })).toEqual([]);
      });

      it('filtered records are whole', async () => {
        const [first] = await store.list({ status: 'completed' });
        expect(first).toEqual(records[0]);
      });
    });

    describe('update', () => {
      it('changes only the patched fields and stamps updatedAt', async () => {
        const record = fullRecord({ lease: undefined });
        delete (record as { lease?: unknown }).lease;
        await store.put(record);
        const before = Date.now();
        const outcome = await store.update(record.requestId, {
          status: 'completed',
          result: { ok: true },
          queuePosition: null,
          error: null,
        });
        expect(outcome.kind).toBe('updated');
        const back = await store.get(record.requestId);
        const { queuePosition: _q, error: _e, ...rest } = record;
        expect(back).toEqual({
          ...rest,
          status: 'completed',
          result: { ok: true },
          updatedAt: back?.updatedAt,
        });
        expect(Date.parse(back?.updatedAt ?? '')).toBeGreaterThanOrEqual(before - 5_000);
        expect(outcome.kind === 'updated' && outcome.record).toEqual(back);
      });

      it('uses a given updatedAt and keeps the lease', async () => {
        const record = fullRecord();
        await store.put(record);
        await store.update(record.requestId, {
          attempts: { submit: 2, poll: 8, errors: 0 },
          updatedAt: '2026-03-02T00:00:00.000Z',
        });
        const back = await store.get(record.requestId);
        expect(back?.updatedAt).toBe('2026-03-02T00:00:00.000Z');
        expect(back?.attempts).toEqual({ submit: 2, poll: 8, errors: 0 });
        expect(back?.lease).toEqual(record.lease);
      });

      it('returns conflict and leaves the record unchanged when the status differs', async () => {
        const record = minimalRecord({ status: 'completed' });
        await store.put(record);
        const outcome = await store.update(
          record.requestId,
          { status: 'failed' },
          { status: ['queued', 'running'] },
        );
        expect(outcome).toEqual({ kind: 'conflict', current: record });
        expect(await store.get(record.requestId)).toEqual(record);
        const ok = await store.update(
          record.requestId,
          { tags: { a: 'b' } },
          { status: 'completed' },
        );
        expect(ok.kind).toBe('updated');
      });

      it('rejects a patch that makes the record invalid, changing nothing', async () => {
        const record = minimalRecord();
        await store.put(record);
        const error = await rejection(
          store.update(record.requestId, { status: 'done' as unknown as RequestStatus }),
        );
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe('STORE_ERROR');
        expect(await store.get(record.requestId)).toEqual(record);
      });

      it('of 20 concurrent conditional finalisers exactly one wins', async () => {
        const record = minimalRecord({ status: 'running' });
        await store.put(record);
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.update(
              record.requestId,
              { status: 'completed', result: { winner: i } },
              { status: 'running' },
            ),
          ),
        );
        const winners = outcomes.filter((o) => o.kind === 'updated');
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((o) => o.kind === 'conflict')).toHaveLength(19);
        const back = await store.get(record.requestId);
        expect(back?.status).toBe('completed');
        expect(winners[0]?.kind === 'updated' && winners[0].record.result).toEqual(back?.result);
      });

      it('concurrent puts of different records all land', async () => {
        const many = Array.from({ length: 25 }, () => minimalRecord());
        await Promise.all(many.map((r) => store.put(r)));
        expect((await store.list()).map((r) => r.requestId).sort()).toEqual(
          many.map((r) => r.requestId).sort(),
        );
      });
    });

    describe('remove', () => {
      it('removes once, then reports false', async () => {
        const keep = minimalRecord();
        const gone = minimalRecord();
        await store.put(keep);
        await store.put(gone);
        expect(await store.remove(gone.requestId)).toBe(true);
        expect(await store.remove(gone.requestId)).toBe(false);
        expect(await store.get(gone.requestId)).toBeUndefined();
        expect(await store.list()).toEqual([keep]);
        expect(await store.update(gone.requestId, { status: 'failed' })).toEqual({
          kind: 'missing',
        });
      });
    });

    describe('close', () => {
      it('can be called twice', async () => {
        await expect(store.close()).resolves.toBeUndefined();
        await expect(store.close()).resolves.toBeUndefined();
      });
    });

    describe('bounded records', () => {
      it('refuses a record over MAX_RECORD_BYTES and writes nothing', async () => {
        const keep = minimalRecord();
        await store.put(keep);
        const huge = fullRecord({ result: { text: 'x'.repeat(MAX_RECORD_BYTES) } });
        const error = await rejection(store.put(huge));
        expect(error).toBeInstanceOf(StoreError);
        expect(error).toMatchObject({
          code: 'STORE_ERROR',
          details: { requestId: huge.requestId, limit: MAX_RECORD_BYTES },
        });
        expect((error as Error).message).toMatch(/over the 1\.0 MB a record may hold/);
        expect(await store.get(huge.requestId)).toBeUndefined();
        // Multi-byte characters count as the bytes they take.
        const wide = minimalRecord({ result: { text: '夜'.repeat(MAX_RECORD_BYTES / 3 + 10) } });
        await expect(store.put(wide)).rejects.toMatchObject({ code: 'STORE_ERROR' });
        expect(await store.list()).toEqual([keep]);
      });

      it('refuses an update that would grow a record past the cap, changing nothing', async () => {
        const record = minimalRecord({ status: 'running' });
        await store.put(record);
        const big = { text: 'y'.repeat(MAX_RECORD_BYTES) };
        await expect(
          store.update(record.requestId, { status: 'completed', result: big }),
        ).rejects.toMatchObject({ code: 'STORE_ERROR', details: { requestId: record.requestId } });
        expect(await store.get(record.requestId)).toEqual(record);
        // Just under the cap is fine.
        const fits = { text: 'z'.repeat(MAX_RECORD_BYTES - 2_000) };
        const ok = await store.update(record.requestId, { status: 'completed', result: fits });
        expect(ok.kind).toBe('updated');
        expect(recordBytes((await store.get(record.requestId)) as PendingRecord)).toBeLessThan(
          MAX_RECORD_BYTES,
        );
      });

      it('keeps integers beyond 2^53 (64-bit seeds) exactly', async () => {
        const seed = 17454220438242315174n;
        const record = fullRecord({
          input: { fields: { prompt: 'p', seed }, files: [] },
          result: { seed, images: [], small: 42, text: '12345678901234567890 in a string' },
        });
        await store.put(record);
        const back = await store.get(record.requestId);
        expect(back?.input?.fields.seed).toBe(seed);
        expect(back?.result).toEqual(record.result);
        await store.update(record.requestId, { result: { seed: seed + 1n } });
        expect((await store.list())[0]?.result).toEqual({ seed: seed + 1n });
      });
    });

    describe('leases', () => {
      it('claims, blocks others, extends for the holder, renews and releases', async () => {
        const record = minimalRecord({ status: 'running' });
        await store.put(record);
        const first = await store.claim(record.requestId, 'poller-a', 60_000);
        expect(first.kind).toBe('claimed');
        if (first.kind !== 'claimed') return;
        expect(first.lease.owner).toBe('poller-a');
        expect(Date.parse(first.lease.expiresAt)).toBeGreaterThan(Date.now() + 30_000);
        expect(first.record.lease).toEqual(first.lease);
        expect((await store.get(record.requestId))?.lease).toEqual(first.lease);

        const blocked = await store.claim(record.requestId, 'poller-b', 60_000);
        expect(blocked).toEqual({ kind: 'held', lease: first.lease });
        expect(await store.renew(record.requestId, 'poller-b', 60_000)).toBe(false);
        expect(await store.release(record.requestId, 'poller-b')).toBe(false);

        await sleep(5);
        const again = await store.claim(record.requestId, 'poller-a', 120_000);
        expect(again.kind).toBe('claimed');
        if (again.kind === 'claimed') {
          expect(Date.parse(again.lease.expiresAt)).toBeGreaterThan(
            Date.parse(first.lease.expiresAt),
          );
        }
        expect(await store.renew(record.requestId, 'poller-a', 180_000)).toBe(true);
        const renewed = (await store.get(record.requestId))?.lease;
        expect(Date.parse(renewed?.expiresAt ?? '')).toBeGreaterThan(Date.now() + 150_000);

        expect(await store.release(record.requestId, 'poller-a')).toBe(true);
        expect((await store.get(record.requestId))?.lease).toBeUndefined();
        expect(await store.release(record.requestId, 'poller-a')).toBe(false);
        expect((await store.claim(record.requestId, 'poller-b', 60_000)).kind).toBe('claimed');
      });

      it('leases do not change the record data', async () => {
        const record = minimalRecord();
        await store.put(record);
        await store.claim(record.requestId, 'x', 60_000);
        await store.release(record.requestId, 'x');
        expect(await store.get(record.requestId)).toEqual(record);
      });

      it('an expired lease can be stolen; the old holder can no longer renew or update', async () => {
        const record = minimalRecord({ status: 'running' });
        await store.put(record);
        expect((await store.claim(record.requestId, 'slow', 100)).kind).toBe('claimed');
        await sleep(300);
        // Expired: the holder may not renew it (someone may already have stolen it)…
        expect(await store.renew(record.requestId, 'slow', 60_000)).toBe(false);
        const cond = await store.update(
          record.requestId,
          { status: 'completed' },
          { leaseOwner: 'slow' },
        );
        expect(cond.kind).toBe('conflict');
        // …and another poller takes it over.
        const stolen = await store.claim(record.requestId, 'fast', 60_000);
        expect(stolen.kind).toBe('claimed');
        expect((await store.get(record.requestId))?.lease?.owner).toBe('fast');
        expect(await store.release(record.requestId, 'slow')).toBe(false);
        expect((await store.claim(record.requestId, 'slow', 60_000)).kind).toBe('held');
      });

      it('update with a leaseOwner condition succeeds only for the live holder', async () => {
        const record = minimalRecord({ status: 'running' });
        await store.put(record);
        const none = await store.update(
          record.requestId,
          { status: 'failed' },
          { leaseOwner: 'a' },
        );
        expect(none.kind).toBe('conflict');
        await store.claim(record.requestId, 'a', 60_000);
        const wrong = await store.update(
          record.requestId,
          { status: 'failed' },
          { leaseOwner: 'b' },
        );
        expect(wrong).toEqual({ kind: 'conflict', current: await store.get(record.requestId) });
        const right = await store.update(
          record.requestId,
          { status: 'completed', result: { ok: 1 } },
          { status: 'running', leaseOwner: 'a' },
        );
        expect(right.kind).toBe('updated');
        expect((await store.get(record.requestId))?.status).toBe('completed');
      });

      it('of 10 concurrent claimants exactly one gets the lease', async () => {
        const record = minimalRecord({ status: 'running' });
        await store.put(record);
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.claim(record.requestId, `p${i}`, 60_000)),
        );
        const won = outcomes.filter((o) => o.kind === 'claimed');
        expect(won).toHaveLength(1);
        expect(outcomes.filter((o) => o.kind === 'held')).toHaveLength(9);
      });

      it('rejects a non-positive ttl', async () => {
        const record = minimalRecord();
        await store.put(record);
        await expect(store.claim(record.requestId, 'a', 0)).rejects.toBeInstanceOf(StoreError);
      });
    });

    describe('no secrets', () => {
      it(
        options.rawBytes
          ? 'the scan reads the raw stored bytes'
          : `the scan reads the records (persists nothing: ${options.persistsNothing ?? '?'})`,
        async () => {
          if (options.rawBytes) {
            const record = minimalRecord();
            await store.put(record);
            expect(await options.rawBytes(store)).toContain(record.requestId);
          } else {
            // Only a store that keeps nothing may go without raw bytes, and it must say so.
            expect(store.capabilities.durable).toBe(false);
            expect(options.persistsNothing ?? '').not.toBe('');
          }
        },
      );

      it('a FAL_KEY in the environment never reaches the stored bytes', async () => {
        const saved = process.env.FAL_KEY;
        const keyId = randomBytes(8).toString('hex');
        const secret = randomBytes(16).toString('hex');
        const key = `falai-secret-${keyId}:${secret}`;
        process.env.FAL_KEY = key;
        try {
          const base = fullRecord();
          const leaky: PendingRecord = {
            ...base,
            input: {
              fields: { prompt: `my key is ${key}`, api_key: key, note: `half ${secret}` },
              files: [
                {
                  field: 'image_url',
                  kind: 'url',
                  location: `https://example.com/a.png?key=${encodeURIComponent(key)}&s=${secret}`,
                },
              ],
            },
            tags: { auth: `Key ${key}` },
          };
          await store.put(leaky);
          await store.put(minimalRecord());
          await store.update(base.requestId, {
            result: { echo: key },
            error: { code: 'X', message: `bad key ${key}` },
          });
          const bytes = await storedText();
          expect(bytes.length).toBeGreaterThan(0);
          expect(bytes).toContain(base.requestId);
          expect(bytes).not.toContain(key);
          expect(bytes).not.toContain(secret);
          const back = await store.get(base.requestId);
          expect(JSON.stringify(back)).not.toContain(secret);
          expect(back?.input?.fields.prompt).toContain('my key is ');
        } finally {
          if (saved === undefined) delete process.env.FAL_KEY;
          else process.env.FAL_KEY = saved;
        }
      });

      it('a key resolved from another source (openclaw.json, a flag) is scrubbed too', async () => {
        const saved = process.env.FAL_KEY;
        delete process.env.FAL_KEY;
        const secret = randomBytes(16).toString('hex');
        const key = `falai-config-${randomBytes(8).toString('hex')}:${secret}`;
        // The store is given its owner's redactor; the credential resolver adds every key it
        // reads to that redactor, whatever the source, after the store was opened.
        const redactor = createRedactor();
        store = await options.create({ redactor });
        opened.push(store);
        assertKeyFormat(key, 'openclaw.json skills.entries.falai.apiKey', redactor);
        try {
          const base = fullRecord();
          await store.put({
            ...base,
            input: { fields: { prompt: `again ${key} and ${secret}` }, files: [] },
          });
          const bytes = await storedText();
          expect(bytes).toContain(base.requestId);
          expect(bytes).not.toContain(secret);
          expect((await store.get(base.requestId))?.input?.fields.prompt).toContain('again ');
        } finally {
          if (saved !== undefined) process.env.FAL_KEY = saved;
        }
      });
    });

    // A store that cannot be reopened (in memory) or damaged has no such tests, not skipped ones.
    (options.reopen ? describe : () => undefined)('durability', () => {
      it('a reopened store sees every write', async () => {
        const a = fullRecord();
        const b = minimalRecord({ submittedAt: '2026-03-01T09:00:00.000Z' });
        const c = minimalRecord();
        await store.put(a);
        await store.put(b);
        await store.put(c);
        await store.update(b.requestId, { status: 'running', queuePosition: 3 });
        await store.remove(c.requestId);
        const claim = await store.claim(b.requestId, 'holder', 60_000);
        const expected = await store.list();
        expect(expected).toHaveLength(2);
        const next = await reopen();
        expect(await next.list()).toEqual(expected);
        expect(await next.get(a.requestId)).toEqual(a);
        expect((await next.get(b.requestId))?.lease).toEqual(
          claim.kind === 'claimed' ? claim.lease : undefined,
        );
        expect((await next.claim(b.requestId, 'other', 60_000)).kind).toBe('held');
      });
    });

    (options.corrupt ? describe : () => undefined)('corruption', () => {
      it('damaged data raises STORE_CORRUPT naming the place and is left in place', async () => {
        const record = fullRecord();
        await store.put(record);
        await store.put(minimalRecord());
        const { location } = await (options.corrupt as NonNullable<typeof options.corrupt>)(
          store,
          record.requestId,
        );
        const snapshot = options.rawBytes ? await options.rawBytes(store) : undefined;
        for (const attempt of [() => store.get(record.requestId), () => store.list()]) {
          const error = await rejection(attempt());
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).code).toBe('STORE_CORRUPT');
          expect((error as StoreError).message).toContain(location);
          expect((error as StoreError).location ?? '').toContain(location);
        }
        // A conditional update of the damaged record must not paper over it either.
        const error = await rejection(store.update(record.requestId, { status: 'failed' }));
        expect((error as StoreError).code).toBe('STORE_CORRUPT');
        if (snapshot !== undefined) {
          expect(await options.rawBytes?.(store)).toBe(snapshot);
        }
        if (options.reopen) {
          const next = await reopen();
          await expect(next.list()).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        }
      });
    });

    if (options.withoutBudget === undefined) {
      describeBudgetConformance({
        getStore,
        ...(options.reopen ? { reopen } : {}),
        ...(options.rawBytes ? { rawBytes: options.rawBytes } : {}),
      });
    } else {
      it(`has no budget ledger (${options.withoutBudget})`, () => {
        expect(store.budget).toBeUndefined();
      });
    }

    options.extra?.(getStore);
  });
}
