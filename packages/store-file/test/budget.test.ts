import { mkdtempSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BudgetReserveRequest } from '@falai/core/store-kit';
import { minimalRecord, randomId } from '@falai/store-conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore, type FileStoreOptions } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'falai-store-file-budget-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const WINDOW = { endsAt: '2999-01-01T00:00:00.000Z' };
const ask = (scope: string, overrides: Partial<BudgetReserveRequest> = {}) => ({
  scope,
  window: WINDOW,
  amountUsd: 0.1,
  capUsd: 100,
  requestKey: randomId('key'),
  ...overrides,
});

function open(options: Partial<FileStoreOptions> = {}) {
  return createFileStore({ path: join(dir, randomId('s'), 'pending.json'), ...options });
}

const linesOf = async (file: string) => (await readFile(file, 'utf8')).split('\n');

describe('file store budget ledger', () => {
  it('lives in <file>.budget (0600): a header, scope lines, then one synced line per write', async () => {
    const store = open();
    const budget = store.budget;
    const first = await budget.reserve(ask('daily:a'));
    const second = await budget.reserve(ask('daily:a'));
    expect(first.ok && second.ok).toBe(true);
    const file = `${store.location}.budget`;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // The records file is not touched by budget decisions.
    await expect(stat(store.location)).rejects.toMatchObject({ code: 'ENOENT' });
    const [header, scope, change, end] = await linesOf(file);
    expect(JSON.parse(header ?? '')).toMatchObject({ falaiBudget: 1, scopes: 1 });
    expect(JSON.parse(scope ?? '')).toMatchObject({ scope: 'daily:a', s: [] });
    expect(JSON.parse(change ?? '')).toMatchObject({
      g: JSON.parse(header ?? '').g,
      n: 1,
      c: [['daily:a', expect.any(String), ['r', 100_000, expect.any(Number)], expect.any(Number)]],
    });
    expect(end).toBe('');
    await store.close();
  });

  it('concurrent decisions of one process share one lock and one line (group commit)', async () => {
    const store = open();
    await store.budget.reserve(ask('daily:gc'));
    const before = (await linesOf(`${store.location}.budget`)).length;
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, () => store.budget.reserve(ask('daily:gc'))),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const after = (await linesOf(`${store.location}.budget`)).length;
    expect(after - before).toBeLessThan(5);
    expect(await store.budget.usage('daily:gc')).toEqual({ spentUsd: 0, reservedUsd: 4.1 });
    await store.close();
  });

  it('does not wait for the records lock (it has its own)', async () => {
    const store = open({ lockTimeoutMs: 300 });
    await store.budget.reserve(ask('daily:lock'));
    // A records writer holds the store's lock (fresh, so nobody breaks it).
    await mkdir(`${store.location}.lock`, { recursive: true });
    expect((await store.budget.reserve(ask('daily:lock'))).ok).toBe(true);
    // …while a records write waits for it, and gives up.
    await expect(store.put(minimalRecord())).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringContaining('held the lock'),
    });
    await rm(`${store.location}.lock`, { recursive: true });
    await store.close();
  });

  it('a torn last line (a writer killed mid-append) is ignored and terminated', async () => {
    const store = open();
    const held = await store.budget.reserve(ask('daily:torn', { amountUsd: 0.2 }));
    await store.budget.reserve(ask('daily:torn', { amountUsd: 0.3 }));
    const file = `${store.location}.budget`;
    const header = JSON.parse((await linesOf(file))[0] ?? '');
    await appendFile(file, `{"g":"${header.g}","n":2,"id":"dead","c":[["daily:torn","x",["r",9`);
    const other = createFileStore({ path: store.location });
    expect(await other.budget.usage('daily:torn')).toEqual({ spentUsd: 0, reservedUsd: 0.5 });
    if (held.ok) await other.budget.settle(held.reservationId, 0.1);
    await other.close();
    const reopened = createFileStore({ path: store.location });
    expect(await reopened.budget.usage('daily:torn')).toEqual({ spentUsd: 0.1, reservedUsd: 0.3 });
    expect((await readFile(file, 'utf8')).endsWith('\n')).toBe(true);
    await reopened.close();
    await store.close();
  });

  it('a line from a writer that lost the lock (a counted number again) counts for nobody', async () => {
    const store = open();
    await store.budget.reserve(ask('daily:loser'));
    await store.budget.reserve(ask('daily:loser'));
    const file = `${store.location}.budget`;
    const header = JSON.parse((await linesOf(file))[0] ?? '');
    const stale = ['daily:loser', 'stale', ['r', 50_000_000, 32503680000000], 32503680000000];
    await appendFile(file, `${JSON.stringify({ g: header.g, n: 1, id: 'late', c: [stale] })}\n`);
    await appendFile(file, `${JSON.stringify({ g: 'other', n: 2, id: 'old', c: [stale] })}\n`);
    const other = createFileStore({ path: store.location });
    expect(await other.budget.usage('daily:loser')).toEqual({ spentUsd: 0, reservedUsd: 0.2 });
    // The next real line still counts.
    expect((await other.budget.reserve(ask('daily:loser'))).ok).toBe(true);
    expect(await store.budget.usage('daily:loser')).toEqual({ spentUsd: 0, reservedUsd: 0.3 });
    await other.close();
    await store.close();
  });

  it('a damaged committed line is STORE_CORRUPT naming the file, and is left in place', async () => {
    const store = open();
    for (let n = 0; n < 3; n++) await store.budget.reserve(ask('daily:damage'));
    const file = `${store.location}.budget`;
    const lines = await linesOf(file);
    lines[2] = `${lines[2]?.slice(0, 20)}#damaged#`;
    const damaged = lines.join('\n');
    await writeFile(file, damaged);
    const other = createFileStore({ path: store.location });
    for (const attempt of [
      () => other.budget.usage('daily:damage'),
      () => other.budget.reserve(ask('daily:damage')),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'STORE_CORRUPT',
        message: expect.stringContaining(`${file} (byte `),
      });
    }
    expect(await readFile(file, 'utf8')).toBe(damaged);
    await other.close();
    await store.close();
  });

  it('a line over 64 MB is STORE_CORRUPT naming its byte, never parsed, and left in place', async () => {
    const store = open();
    await store.budget.reserve(ask('daily:long'));
    const file = `${store.location}.budget`;
    const header = JSON.parse((await linesOf(file))[0] ?? '');
    const at = (await stat(file)).size;
    // A well-formed next line (it would count) that is longer than any line falai writes.
    const pad = 'A'.repeat(65 * 1024 * 1024);
    await appendFile(file, `{"g":"${header.g}","n":2,"id":"long","c":[],"pad":"${pad}"}\n`);
    const size = (await stat(file)).size;
    const other = createFileStore({ path: store.location });
    for (const attempt of [
      () => other.budget.usage('daily:long'),
      () => other.budget.reserve(ask('daily:long')),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'STORE_CORRUPT',
        message: expect.stringContaining(`${file} (byte ${at})`),
      });
      expect((error as Error).message).toContain('a budget line over 64 MB');
    }
    expect((await stat(file)).size).toBe(size);
    await other.close();
    await store.close();
  }, 60_000);

  it('a damaged header is STORE_CORRUPT; a newer format is refused, not rewritten', async () => {
    const store = open();
    await store.budget.reserve(ask('daily:header'));
    const file = `${store.location}.budget`;
    await writeFile(file, 'not json\n');
    await expect(store.budget.usage('daily:header')).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringContaining(`${file} (line 1)`),
    });
    await writeFile(file, '{"falaiBudget":7,"g":"ab","scopes":0}\n');
    await expect(store.budget.reserve(ask('daily:header'))).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringContaining('newer falai'),
    });
    expect(await readFile(file, 'utf8')).toBe('{"falaiBudget":7,"g":"ab","scopes":0}\n');
    await store.close();
  });

  it('rewrites the file as it grows, keeping the ledger and dropping expired holds', async () => {
    const store = open({ compactBytes: 1024 });
    const file = `${store.location}.budget`;
    await store.budget.reserve(ask('daily:compact', { ttlMs: 50, requestKey: 'short-lived' }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const generations = new Set<string>();
    for (let n = 0; n < 60; n++) {
      const held = await store.budget.reserve(ask('daily:compact'));
      if (held.ok && n % 2 === 0) await store.budget.settle(held.reservationId, 0.05);
      generations.add(JSON.parse((await linesOf(file))[0] ?? '').g);
    }
    expect(generations.size).toBeGreaterThan(2);
    // Bounded: the rewritten part plus at most about as much again in lines.
    const base = (await linesOf(file)).slice(0, 2).join('\n').length;
    expect((await stat(file)).size).toBeLessThan(2 * base + 1024 + 1024);
    expect(await readFile(file, 'utf8')).not.toContain('short-lived');
    const usage = await store.budget.usage('daily:compact');
    expect(usage).toEqual({ spentUsd: 1.5, reservedUsd: 3 });
    await store.close();
    const reopened = createFileStore({ path: store.location });
    expect(await reopened.budget.usage('daily:compact')).toEqual(usage);
    await reopened.close();
  });
});
