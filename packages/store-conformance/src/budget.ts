import { randomBytes } from 'node:crypto';
import {
  type BudgetLedger,
  type BudgetReserveRequest,
  type PendingStore,
  StoreError,
} from '@falai/core/store-kit';
import { describe, expect, it } from 'vitest';
import { BUDGET_RACE, randomId } from './fixtures.js';

/** A window that ends long after the tests run, so nothing they write expires on its own. */
const WINDOW = { endsAt: '2999-01-01T00:00:00.000Z' } as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to reject, but it resolved');
}

/** What the budget tests need from the suite. */
export interface BudgetConformanceOptions {
  /** The current store (fresh per test). */
  readonly getStore: () => PendingStore;
  /** Closes the current store and opens the same data again; absent for in-memory stores. */
  readonly reopen?: () => Promise<PendingStore>;
  /** Everything the store persisted, as text; absent for stores that persist nothing. */
  readonly rawBytes?: (store: PendingStore) => Promise<string>;
}

/**
 * The budget ledger cases every store passes: reserve under and over the cap, settle
 * replaces, release, idempotency, usage, expiry of stale reservations, a race inside one
 * process, input checks, no secrets, and (with `reopen`) durability.
 */
export function describeBudgetConformance(options: BudgetConformanceOptions): void {
  describe('budget ledger', () => {
    const ledger = (): BudgetLedger => {
      const budget = options.getStore().budget;
      if (!budget) throw new Error('the store has no budget ledger');
      return budget;
    };
    /** A reserve request in a fresh scope of its own unless `scope` is given. */
    const ask = (overrides: Partial<BudgetReserveRequest> = {}): BudgetReserveRequest => ({
      scope: `daily:${randomId('scope')}`,
      window: WINDOW,
      amountUsd: 0.1,
      capUsd: 1,
      requestKey: randomId('key'),
      ...overrides,
    });

    it('an unknown scope has no usage', async () => {
      expect(await ledger().usage(randomId('nothing'))).toEqual({ spentUsd: 0, reservedUsd: 0 });
    });

    it('reserves under the cap and refuses over it, in exact micro-dollars', async () => {
      const scope = `daily:${randomId('cap')}`;
      const remaining: number[] = [];
      for (let n = 0; n < 3; n++) {
        const outcome = await ledger().reserve(ask({ scope, capUsd: 0.3 }));
        expect(outcome).toMatchObject({ ok: true, amountUsd: 0.1, duplicate: false });
        if (outcome.ok) remaining.push(outcome.remainingUsd);
      }
      // 0.3 − 0.1 − 0.1 − 0.1 is exactly 0, not 5.55e-17.
      expect(remaining).toEqual([0.2, 0.1, 0]);
      const refused = await ledger().reserve(ask({ scope, capUsd: 0.3 }));
      expect(refused).toEqual({
        ok: false,
        spentUsd: 0,
        reservedUsd: 0.3,
        capUsd: 0.3,
        amountUsd: 0.1,
      });
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0, reservedUsd: 0.3 });
      // A free request still fits a full budget; a raised cap makes room.
      expect((await ledger().reserve(ask({ scope, capUsd: 0.3, amountUsd: 0 }))).ok).toBe(true);
      expect(await ledger().reserve(ask({ scope, capUsd: 0.35 }))).toMatchObject({ ok: false });
      const raised = await ledger().reserve(ask({ scope, capUsd: 0.4 }));
      expect(raised).toMatchObject({ ok: true, remainingUsd: 0 });
      // An amount over the cap on its own never fits; other scopes are untouched.
      expect(await ledger().reserve(ask({ amountUsd: 2, capUsd: 1 }))).toMatchObject({
        ok: false,
        spentUsd: 0,
        reservedUsd: 0,
      });
      expect(await ledger().usage(`daily:${randomId('other')}`)).toEqual({
        spentUsd: 0,
        reservedUsd: 0,
      });
    });

    it('settle replaces the reservation by the actual cost', async () => {
      const scope = `daily:${randomId('settle')}`;
      const held = await ledger().reserve(ask({ scope, amountUsd: 0.5, capUsd: 1 }));
      if (!held.ok) throw new Error('expected the reservation to be granted');
      expect(await ledger().settle(held.reservationId, 0.2)).toEqual({
        previous: 'reserved',
        spentUsd: 0.2,
        reservedUsd: 0,
      });
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0.2, reservedUsd: 0 });
      // What the estimate held beyond the actual is free again: 0.2 + 0.8 fits a cap of 1.
      const next = await ledger().reserve(ask({ scope, amountUsd: 0.8, capUsd: 1 }));
      expect(next).toMatchObject({ ok: true, remainingUsd: 0 });
      if (!next.ok) return;
      // An actual above the estimate is recorded as it is: spend may pass the cap only by
      // what fal really billed, and then nothing more is granted.
      expect(await ledger().settle(next.reservationId, 0.9)).toMatchObject({ spentUsd: 1.1 });
      expect(await ledger().reserve(ask({ scope, amountUsd: 0, capUsd: 1 }))).toMatchObject({
        ok: false,
        spentUsd: 1.1,
        reservedUsd: 0,
      });
    });

    it('settle is idempotent: again replaces the actual, never adds to it', async () => {
      const scope = `daily:${randomId('twice')}`;
      const held = await ledger().reserve(ask({ scope }));
      if (!held.ok) throw new Error('expected the reservation to be granted');
      await ledger().settle(held.reservationId, 0.2);
      expect(await ledger().settle(held.reservationId, 0.2)).toEqual({
        previous: 'settled',
        spentUsd: 0.2,
        reservedUsd: 0,
      });
      expect(await ledger().settle(held.reservationId, 0.25)).toMatchObject({ spentUsd: 0.25 });
      const results = await Promise.all(
        Array.from({ length: 10 }, () => ledger().settle(held.reservationId, 0.3)),
      );
      expect(results.map((r) => r.spentUsd)).toEqual(Array(10).fill(0.3));
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0.3, reservedUsd: 0 });
    });

    it('release drops a live reservation once; a settled cost is never dropped', async () => {
      const scope = `daily:${randomId('release')}`;
      const held = await ledger().reserve(ask({ scope, amountUsd: 0.4 }));
      const kept = await ledger().reserve(ask({ scope, amountUsd: 0.3 }));
      if (!held.ok || !kept.ok) throw new Error('expected the reservations to be granted');
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0, reservedUsd: 0.7 });
      expect(await ledger().release(held.reservationId)).toBe(true);
      expect(await ledger().release(held.reservationId)).toBe(false);
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0, reservedUsd: 0.3 });

      await ledger().settle(kept.reservationId, 0.3);
      expect(await ledger().release(kept.reservationId)).toBe(false);
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0.3, reservedUsd: 0 });

      // A settle after a release still counts what was spent (the submit did happen).
      expect(await ledger().settle(held.reservationId, 0.1)).toEqual({
        previous: 'missing',
        spentUsd: 0.4,
        reservedUsd: 0,
      });
    });

    it('reserve is idempotent per requestKey', async () => {
      const scope = `daily:${randomId('idem')}`;
      const requestKey = randomId('row');
      const first = await ledger().reserve(ask({ scope, requestKey, amountUsd: 0.2 }));
      expect(first).toMatchObject({ ok: true, duplicate: false, remainingUsd: 0.8 });
      // Again, even with another amount: the same reservation, nothing counted twice.
      const again = await ledger().reserve(ask({ scope, requestKey, amountUsd: 0.5 }));
      expect(again).toEqual({
        ok: true,
        reservationId: first.ok ? first.reservationId : '',
        amountUsd: 0.2,
        remainingUsd: 0.8,
        duplicate: true,
      });
      const racing = await Promise.all(
        Array.from({ length: 10 }, () => ledger().reserve(ask({ scope, requestKey }))),
      );
      expect(racing.every((r) => r.ok && r.duplicate)).toBe(true);
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0, reservedUsd: 0.2 });
      if (!first.ok) return;

      // Settled: a retry with the key is still the same request, already paid for.
      await ledger().settle(first.reservationId, 0.15);
      expect(await ledger().reserve(ask({ scope, requestKey, amountUsd: 0.2 }))).toMatchObject({
        ok: true,
        reservationId: first.reservationId,
        amountUsd: 0.15,
        duplicate: true,
      });
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0.15, reservedUsd: 0 });

      // Released: the key may reserve anew.
      const other = randomId('row');
      const held = await ledger().reserve(ask({ scope, requestKey: other }));
      if (!held.ok) throw new Error('expected the reservation to be granted');
      await ledger().release(held.reservationId);
      expect(await ledger().reserve(ask({ scope, requestKey: other }))).toMatchObject({
        ok: true,
        reservationId: held.reservationId,
        duplicate: false,
      });
    });

    it('a stale reservation holds until its ttl, then stops counting; a late settle still counts', async () => {
      const scope = `daily:${randomId('ttl')}`;
      const stale = await ledger().reserve(ask({ scope, amountUsd: 0.5, capUsd: 0.5, ttlMs: 200 }));
      if (!stale.ok) throw new Error('expected the reservation to be granted');
      // Held: the process that reserved may have submitted, so nobody else may spend it.
      expect(await ledger().reserve(ask({ scope, amountUsd: 0.5, capUsd: 0.5 }))).toMatchObject({
        ok: false,
        reservedUsd: 0.5,
      });
      await sleep(500);
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0, reservedUsd: 0 });
      expect(await ledger().release(stale.reservationId)).toBe(false);
      const next = await ledger().reserve(ask({ scope, amountUsd: 0.3, capUsd: 0.5 }));
      expect(next).toMatchObject({ ok: true, remainingUsd: 0.2 });
      // The expired request did run after all: its cost is recorded.
      expect(await ledger().settle(stale.reservationId, 0.2)).toEqual({
        previous: 'missing',
        spentUsd: 0.2,
        reservedUsd: 0.3,
      });
      expect(await ledger().reserve(ask({ scope, amountUsd: 0.01, capUsd: 0.5 }))).toMatchObject({
        ok: false,
        spentUsd: 0.2,
        reservedUsd: 0.3,
      });
    });

    it('of 40 concurrent reservations exactly floor(cap / amount) are granted', async () => {
      const scope = `daily:${randomId('race')}`;
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, () =>
          ledger().reserve(
            ask({ scope, amountUsd: BUDGET_RACE.amountUsd, capUsd: BUDGET_RACE.capUsd }),
          ),
        ),
      );
      const granted = outcomes.filter((o) => o.ok);
      expect(granted).toHaveLength(BUDGET_RACE.granted);
      expect(new Set(granted.map((o) => o.ok && o.reservationId)).size).toBe(BUDGET_RACE.granted);
      expect(await ledger().usage(scope)).toEqual({
        spentUsd: 0,
        reservedUsd: BUDGET_RACE.capUsd,
      });
    });

    it('refuses malformed input with STORE_ERROR and stores nothing', async () => {
      const scope = `daily:${randomId('bad')}`;
      const bad: Partial<BudgetReserveRequest>[] = [
        { scope, amountUsd: -0.01 },
        { scope, amountUsd: Number.NaN },
        { scope, capUsd: Number.POSITIVE_INFINITY },
        { scope, ttlMs: 0 },
        { scope, window: { endsAt: 'tomorrow' } },
        { scope: '' },
        { scope: 'daily:\nnext' },
        { scope, requestKey: 'x'.repeat(300) },
      ];
      for (const overrides of bad) {
        const error = await rejection(ledger().reserve(ask(overrides)));
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe('STORE_ERROR');
      }
      for (const id of [
        '',
        'not-an-id',
        'bgt1.!!!',
        `bgt1.${Buffer.from('[1]').toString('base64url')}`,
      ]) {
        await expect(ledger().settle(id, 0.1)).rejects.toMatchObject({ code: 'STORE_ERROR' });
        await expect(ledger().release(id)).rejects.toMatchObject({ code: 'STORE_ERROR' });
      }
      const held = await ledger().reserve(ask({ scope }));
      if (!held.ok) throw new Error('expected the reservation to be granted');
      await expect(ledger().settle(held.reservationId, -1)).rejects.toMatchObject({
        code: 'STORE_ERROR',
      });
      expect(await ledger().usage(scope)).toEqual({ spentUsd: 0, reservedUsd: 0.1 });
    });

    it('never stores a FAL key: a scope or key holding one is refused', async () => {
      const saved = process.env.FAL_KEY;
      const secret = randomBytes(16).toString('hex');
      const key = `falai-budget-${randomBytes(8).toString('hex')}:${secret}`;
      process.env.FAL_KEY = key;
      try {
        const scope = `key:${key.slice(0, 6)}…:daily:${randomId('masked')}`;
        for (const overrides of [{ scope: `key:${key}:daily` }, { requestKey: `k-${secret}` }]) {
          await expect(ledger().reserve(ask(overrides))).rejects.toMatchObject({
            code: 'STORE_ERROR',
            message: expect.stringContaining('FAL key'),
          });
        }
        const held = await ledger().reserve(ask({ scope }));
        if (!held.ok) throw new Error('expected the reservation to be granted');
        await ledger().settle(held.reservationId, 0.05);
        expect(held.reservationId).not.toContain(secret);
        if (options.rawBytes) {
          const bytes = await options.rawBytes(options.getStore());
          expect(bytes).not.toContain(secret);
          expect(bytes).not.toContain(key);
        }
      } finally {
        if (saved === undefined) delete process.env.FAL_KEY;
        else process.env.FAL_KEY = saved;
      }
    });

    (options.reopen ? it : () => undefined)(
      'a reopened store keeps spend and reservations; ids settle across store objects',
      async () => {
        const scope = `daily:${randomId('durable')}`;
        const spent = await ledger().reserve(ask({ scope, amountUsd: 0.25 }));
        const held = await ledger().reserve(ask({ scope, amountUsd: 0.5 }));
        const dropped = await ledger().reserve(ask({ scope, amountUsd: 0.1 }));
        if (!spent.ok || !held.ok || !dropped.ok) throw new Error('expected grants');
        await ledger().settle(spent.reservationId, 0.2);
        await ledger().release(dropped.reservationId);
        const reopened = await (options.reopen as () => Promise<PendingStore>)();
        const next = reopened.budget as BudgetLedger;
        expect(await next.usage(scope)).toEqual({ spentUsd: 0.2, reservedUsd: 0.5 });
        expect(await next.reserve(ask({ scope, amountUsd: 0.31 }))).toMatchObject({ ok: false });
        expect(await next.settle(held.reservationId, 0.5)).toMatchObject({
          previous: 'reserved',
          spentUsd: 0.7,
        });
        expect(await next.release(dropped.reservationId)).toBe(false);
      },
    );
  });
}
