import {
  type HistoryQuery,
  type PendingRecord,
  type PendingStore,
  searchRecords,
} from '@falai/core/store-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { minimalRecord, randomId } from './fixtures.js';

/** How a store plugs into the history search suite. */
export interface SearchConformanceOptions {
  /** Shown in the test names, e.g. `sqlite`. */
  readonly name: string;
  /** A fresh, empty, isolated store; called before every test. */
  readonly create: () => Promise<PendingStore>;
  /** Opens the same backing data again (after `previous` was closed). */
  readonly reopen?: (previous: PendingStore) => Promise<PendingStore>;
}

/** A record with a prompt, submitted `minutes` after a fixed instant. */
function prompted(
  prompt: string | undefined,
  minutes: number,
  overrides: Partial<PendingRecord> = {},
): PendingRecord {
  const at = new Date(Date.parse('2026-03-01T10:00:00.000Z') + minutes * 60_000).toISOString();
  return minimalRecord({
    submittedAt: at,
    updatedAt: at,
    ...(prompt === undefined ? {} : { input: { fields: { prompt }, files: [] } }),
    ...overrides,
  });
}

const ids = (records: readonly PendingRecord[]): string[] => records.map((r) => r.requestId);

/**
 * The behaviour of `PendingStore.search` (`falai history`), the same for every store: newest
 * first; every word of the text begins a word of the prompt, ignoring case; endpoint, time,
 * status and limit filters. Each answer is also checked against core's in-memory reference
 * (`searchRecords`), so an index can never drift from the rule.
 */
export function describeSearchConformance(options: SearchConformanceOptions): void {
  describe(`history search conformance: ${options.name}`, () => {
    let store: PendingStore;
    let all: PendingRecord[];
    const opened: PendingStore[] = [];

    beforeEach(async () => {
      store = await options.create();
      opened.push(store);
      all = [];
    });
    afterEach(async () => {
      for (const item of opened.splice(0)) await item.close().catch(() => undefined);
    });

    const put = async (...records: PendingRecord[]) => {
      for (const record of records) {
        await store.put(record);
        all = [...all.filter((r) => r.requestId !== record.requestId), record];
      }
    };
    /** Searches, and checks the answer against the reference rule over what was put. */
    const search = async (query: HistoryQuery): Promise<string[]> => {
      if (!store.search) throw new Error(`${options.name} has no search`);
      const found = await store.search(query);
      const expected = searchRecords(all, query, (record) => record);
      expect(ids(found)).toEqual(ids(expected));
      return ids(found);
    };

    it('implements search', () => {
      expect(typeof store.search).toBe('function');
    });

    it('an empty store finds nothing', async () => {
      expect(await search({})).toEqual([]);
      expect(await search({ text: 'anything' })).toEqual([]);
    });

    it('lists newest first (submittedAt, then request id, both descending)', async () => {
      const a = prompted('first', 1, { requestId: randomId('a') });
      const b = prompted('second', 3);
      const c = prompted('third', 2);
      const tieLow = prompted('tie', 5, { requestId: 'tie-a' });
      const tieHigh = prompted('tie', 5, { requestId: 'tie-b' });
      await put(a, b, c, tieLow, tieHigh);
      expect(await search({})).toEqual(['tie-b', 'tie-a', b.requestId, c.requestId, a.requestId]);
    });

    it('finds words by their beginning, ignoring case and punctuation; all words must match', async () => {
      const fox = prompted('A RED fox, jumping over the lazy dog!', 1);
      const sea = prompted('red sea at dawn', 2);
      const cafe = prompted('Un café à Montréal — 夜の雨', 3);
      const none = prompted(undefined, 4);
      await put(fox, sea, cafe, none);
      expect(await search({ text: 'red' })).toEqual([sea.requestId, fox.requestId]);
      expect(await search({ text: 'Red FO' })).toEqual([fox.requestId]);
      expect(await search({ text: 'jump dog' })).toEqual([fox.requestId]);
      expect(await search({ text: 'jump cat' })).toEqual([]);
      // A word's middle is not its beginning.
      expect(await search({ text: 'ox' })).toEqual([]);
      expect(await search({ text: 'CAFÉ' })).toEqual([cafe.requestId]);
      expect(await search({ text: 'montr' })).toEqual([cafe.requestId]);
      expect(await search({ text: '夜の雨' })).toEqual([cafe.requestId]);
      // Punctuation alone is no word: no text filter at all.
      expect(await search({ text: '— !' })).toEqual(ids([none, cafe, sea, fox]));
    });

    it('searches the `text` field of speech models when there is no prompt', async () => {
      const speech = minimalRecord({
        submittedAt: '2026-03-01T11:00:00.000Z',
        input: { fields: { text: 'Hello there, general', voice: 'Aria' }, files: [] },
      });
      await put(speech, prompted('hello world', 1));
      expect(await search({ text: 'general' })).toEqual([speech.requestId]);
      expect(await search({ text: 'aria' })).toEqual([]);
    });

    it('filters by endpoint, time window and status, with a limit', async () => {
      const flux = prompted('lighthouse one', 1, { endpointId: 'fal-ai/flux/dev' });
      const banana = prompted('lighthouse two', 2, {
        endpointId: 'fal-ai/nano-banana-pro',
        status: 'completed',
      });
      const failed = prompted('lighthouse three', 3, { status: 'failed' });
      const later = prompted('lighthouse four', 10, { status: 'completed' });
      await put(flux, banana, failed, later);
      expect(await search({ text: 'lighthouse', endpointId: 'fal-ai/nano-banana-pro' })).toEqual([
        banana.requestId,
      ]);
      expect(
        await search({ since: '2026-03-01T10:02:00.000Z', before: '2026-03-01T10:10:00.000Z' }),
      ).toEqual([failed.requestId, banana.requestId]);
      expect(await search({ status: 'completed' })).toEqual([later.requestId, banana.requestId]);
      expect(await search({ status: ['failed', 'queued'] })).toEqual([
        failed.requestId,
        flux.requestId,
      ]);
      expect(await search({ status: [] })).toEqual([]);
      expect(await search({ text: 'lighthouse', limit: 2 })).toEqual([
        later.requestId,
        failed.requestId,
      ]);
      expect(await search({ limit: 0 })).toEqual([]);
    });

    it('follows writes: a replaced prompt, status updates and removals', async () => {
      const record = prompted('an old harbour', 1);
      await put(record);
      expect(await search({ text: 'harbour' })).toEqual([record.requestId]);
      const updated = await store.update(record.requestId, { status: 'completed' });
      expect(updated.kind).toBe('updated');
      all = all.map((r) => (r.requestId === record.requestId ? { ...r, status: 'completed' } : r));
      expect(await search({ text: 'harbour', status: 'completed' })).toEqual([record.requestId]);
      await put({ ...record, input: { fields: { prompt: 'a new bridge' }, files: [] } });
      expect(await search({ text: 'harbour' })).toEqual([]);
      expect(await search({ text: 'bridge' })).toEqual([record.requestId]);
      expect(await store.remove(record.requestId)).toBe(true);
      all = [];
      expect(await search({ text: 'bridge' })).toEqual([]);
      expect(await search({})).toEqual([]);
    });

    it('returns whole records, 64-bit seeds exact', async () => {
      const record = prompted('seeded', 1, {
        status: 'completed',
        result: { seed: 17454220438242315174n, images: [] },
        provenance: { seed: '17454220438242315174', parents: [{ requestId: 'parent-1' }] },
      });
      await put(record);
      const [found] = (await store.search?.({ text: 'seeded' })) ?? [];
      expect(found).toEqual(record);
    });

    if (options.reopen) {
      const reopen = options.reopen;
      it('the index survives a reopen', async () => {
        const record = prompted('durable words', 1);
        await put(record);
        await store.close();
        store = await reopen(store);
        opened.push(store);
        expect(await search({ text: 'durable' })).toEqual([record.requestId]);
      });
    }
  });
}
