import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/falai-error.js';
import { createRedactor } from '../../src/redact/redactor.js';
import {
  BUDGET_RETENTION_MS,
  BudgetBook,
  budgetReservationId,
  DEFAULT_RESERVATION_TTL_MS,
  dailyBudgetScope,
  fromMicroUsd,
  normaliseBudgetReserve,
  parseBudgetReservationId,
  planBudgetRelease,
  planBudgetReserve,
  planBudgetSettle,
  requireBudgetLedger,
  toMicroUsd,
} from '../../src/store/budget.js';

const none = createRedactor();
const NOW = Date.parse('2026-03-01T23:59:59.000Z');
const request = (overrides = {}) =>
  normaliseBudgetReserve(
    {
      scope: 'daily:2026-03-01',
      window: { endsAt: '2026-03-02T00:00:00.000Z' },
      amountUsd: 0.1,
      capUsd: 0.3,
      requestKey: 'k',
      ...overrides,
    },
    none,
  );
const empty = { spentMicros: 0, reservedMicros: 0, entry: undefined };

describe('budget helpers', () => {
  it('daily scopes follow the UTC day and end at the next UTC midnight', () => {
    expect(dailyBudgetScope(new Date('2026-03-01T23:59:59.999Z'))).toEqual({
      scope: 'daily:2026-03-01',
      window: { endsAt: '2026-03-02T00:00:00.000Z' },
    });
    expect(dailyBudgetScope(new Date('2026-03-02T00:00:00.000Z'), 'key:abcd')).toEqual({
      scope: 'key:abcd:daily:2026-03-02',
      window: { endsAt: '2026-03-03T00:00:00.000Z' },
    });
  });

  it('money is whole micro-dollars: sums never drift', () => {
    expect(toMicroUsd(0.1) + toMicroUsd(0.2)).toBe(toMicroUsd(0.3));
    expect(toMicroUsd(0.0000004)).toBe(0);
    expect(toMicroUsd(0.0000005)).toBe(1);
    expect(fromMicroUsd(toMicroUsd(2.3))).toBe(2.3);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2e9]) {
      expect(() => toMicroUsd(bad)).toThrow(StoreError);
    }
  });

  it('a reservation id names its scope, key and window, and nothing else', () => {
    const id = budgetReservationId('batch:ünï/„x“', 'row 7', 1_900_000_000_000);
    expect(parseBudgetReservationId(id, none)).toEqual({
      scope: 'batch:ünï/„x“',
      requestKey: 'row 7',
      endsAtMs: 1_900_000_000_000,
    });
    expect(request().reservationId).toBe(
      budgetReservationId('daily:2026-03-01', 'k', Date.parse('2026-03-02T00:00:00.000Z')),
    );
    const tampered = `bgt1.${Buffer.from('["a","b",1.5]').toString('base64url')}`;
    expect(() => parseBudgetReservationId(tampered, none)).toThrow(/not a budget reservation id/);
  });

  it('defaults the hold to 24 hours and keeps the scope a week past its window', () => {
    const input = request();
    expect(input.ttlMs).toBe(DEFAULT_RESERVATION_TTL_MS);
    const plan = planBudgetReserve(empty, input, NOW);
    expect(plan.change).toEqual({
      scope: 'daily:2026-03-01',
      requestKey: 'k',
      entry: { state: 'reserved', micros: 100_000, expiresAt: NOW + DEFAULT_RESERVATION_TTL_MS },
      // The hold outlasts the window, so the scope is kept a week past the hold's end.
      retainUntil: NOW + DEFAULT_RESERVATION_TTL_MS + BUDGET_RETENTION_MS,
    });
  });

  it('an expired reservation is no duplicate, and settling it reports it missing', () => {
    const expired = { state: 'reserved', micros: 100_000, expiresAt: NOW } as const;
    const view = { spentMicros: 0, reservedMicros: 0, entry: expired };
    expect(planBudgetReserve(view, request(), NOW).outcome).toMatchObject({
      ok: true,
      duplicate: false,
    });
    const settle = {
      ...parseBudgetReservationId(request().reservationId, none),
      actualMicros: 50_000,
    };
    expect(planBudgetSettle(view, settle, NOW).outcome).toEqual({
      previous: 'missing',
      spentUsd: 0.05,
      reservedUsd: 0,
    });
    expect(planBudgetRelease(view, settle, NOW)).toEqual({ released: false });
  });

  it('the book keeps settled spend as a running sum and forgets expired holds', () => {
    const book = new BudgetBook();
    const scope = 'daily:2026-03-01';
    const retainUntil = NOW + BUDGET_RETENTION_MS;
    book.apply({ scope, requestKey: 'a', entry: { state: 'settled', micros: 5 }, retainUntil });
    book.apply({ scope, requestKey: 'a', entry: { state: 'settled', micros: 7 }, retainUntil });
    book.apply({
      scope,
      requestKey: 'b',
      entry: { state: 'reserved', micros: 3, expiresAt: NOW + 10 },
      retainUntil,
    });
    expect(book.view(scope, 'a', NOW)).toEqual({
      spentMicros: 7,
      reservedMicros: 3,
      entry: { state: 'settled', micros: 7 },
    });
    expect(book.view(scope, 'b', NOW + 10)).toEqual({
      spentMicros: 7,
      reservedMicros: 0,
      entry: undefined,
    });
    expect(book.snapshot(NOW)).toEqual([
      { scope, retainUntil, reservations: [], settled: [['a', 7]] },
    ]);
    book.prune(retainUntil);
    expect(book.snapshot(retainUntil - 1)).toEqual([]);
  });

  it('requireBudgetLedger says which stores can hold a budget', () => {
    expect(() => requireBudgetLedger({ kind: 'memory', location: 'somewhere' })).toThrow(
      /no budget ledger.*file, sqlite or redis/,
    );
  });
});
