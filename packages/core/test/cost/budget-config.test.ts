import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configValue,
  displayConfig,
  readConfigFile,
  resolvePaths,
  resolveSettings,
  setConfigValue,
  unsetConfigValue,
} from '../../src/config/index.js';
import { budgetCapsFor, keyScopeName, summariseUsage } from '../../src/cost/index.js';
import { newPendingRecord, parsePendingRecord } from '../../src/store/index.js';

/**
 * Budgets in the config file (`falai config set budget.daily 5`, per key, per store), the caps
 * they put on a submit, and the spend summary of `falai usage`.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-budget-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('budget keys of the config file', () => {
  it('sets, reads, lists and unsets budget.daily, per key and per store', async () => {
    const path = join(dir, 'config.json');
    await setConfigValue('store', 'sqlite:/data/falai.db', path);
    await setConfigValue('budget.daily', '5', path);
    await setConfigValue('budget.key.3f9a2b.daily', '2.50', path);
    await setConfigValue('budget.store.redis://cache.local:6379/0.daily', '20', path);
    const file = await readConfigFile(path);
    expect(file.budget).toEqual({
      daily: 5,
      key: { '3f9a2b': { daily: 2.5 } },
      store: { 'redis://cache.local:6379/0': { daily: 20 } },
    });
    expect(JSON.parse(await readFile(path, 'utf8')).budget.daily).toBe(5);
    expect(configValue(file, 'budget.key.3f9a2b.daily')).toBe(2.5);
    expect(configValue(file, 'budget.store.nowhere.daily')).toBeUndefined();
    expect(displayConfig(file)).toMatchObject({
      store: 'sqlite:/data/falai.db',
      'budget.daily': '5',
      'budget.key.3f9a2b.daily': '2.5',
      'budget.store.redis://cache.local:6379/0.daily': '20',
    });

    expect(await unsetConfigValue('budget.key.3f9a2b.daily', path)).toBe(true);
    expect(await unsetConfigValue('budget.key.3f9a2b.daily', path)).toBe(false);
    expect(await unsetConfigValue('budget.store.redis://cache.local:6379/0.daily', path)).toBe(
      true,
    );
    expect((await readConfigFile(path)).budget).toEqual({ daily: 5 });
    expect(await unsetConfigValue('budget.daily', path)).toBe(true);
    expect((await readConfigFile(path)).budget).toBeUndefined();
  });

  it('refuses what is not a budget: bad amounts, unknown keys, a whole key, a store password', async () => {
    const path = join(dir, 'refused.json');
    await expect(setConfigValue('budget.daily', 'five', path)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('number of US dollars'),
    });
    await expect(setConfigValue('budget.daily', '-1', path)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(setConfigValue('budget.weekly', '5', path)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('budget.key.<key id>.daily'),
    });
    await expect(
      setConfigValue('budget.key.keyid:the-secret-part.daily', '5', path),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.not.stringContaining('the-secret-part'),
    });
    await expect(
      setConfigValue('budget.store.redis://user:hunter2@h:6379/0.daily', '5', path),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(setConfigValue('budget.key.__proto__.daily', '5', path)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
    });
    expect(await readConfigFile(path)).toEqual({});
  });

  it('reaches resolved settings with its source', async () => {
    const path = join(dir, 'settings.json');
    await setConfigValue('budget.daily', '3', path);
    const settings = await resolveSettings({ env: { HOME: dir }, flags: { configPath: path } });
    expect(settings.budget).toEqual({ daily: 3 });
    expect(settings.sources.budget?.label).toBe(`config file ${path}`);
  });
});

describe('budgetCapsFor', () => {
  const now = new Date('2026-03-01T23:30:00Z');
  const locations = resolvePaths({ HOME: '/home/me' });

  it('the daily cap of the store, per UTC day', () => {
    expect(budgetCapsFor({ daily: 5 }, { locations, now })).toEqual([
      {
        scope: 'daily:2026-03-01',
        window: { endsAt: '2026-03-02T00:00:00.000Z' },
        capUsd: 5,
        setting: 'budget.daily',
      },
    ]);
    expect(budgetCapsFor({}, { locations, now })).toEqual([]);
  });

  it('a store-specific cap replaces budget.daily for that store only', () => {
    const budget = {
      daily: 5,
      store: {
        'sqlite:/data/a.db': { daily: 9 },
        'redis://cache:6379/0?prefix=team': { daily: 30 },
      },
    };
    const caps = (store?: string) =>
      budgetCapsFor(budget, { locations, now, ...(store ? { store } : {}) }).map((cap) => [
        cap.capUsd,
        cap.setting,
      ]);
    expect(caps('sqlite:/data/a.db')).toEqual([[9, 'budget.store.sqlite:/data/a.db.daily']]);
    expect(caps('sqlite:/data/b.db')).toEqual([[5, 'budget.daily']]);
    // The same Redis store with its password in the spec: the cap still applies.
    expect(caps('redis://user:secret@cache:6379/0?prefix=team')).toEqual([
      [30, 'budget.store.redis://cache:6379/0?prefix=team.daily'],
    ]);
    expect(caps('redis://cache:6379/0')).toEqual([[5, 'budget.daily']]);
  });

  it('a key cap applies to that key only, in a scope that holds no part of the key', () => {
    const budget = { key: { abc123: { daily: 2 } } };
    expect(budgetCapsFor(budget, { locations, now, keyId: 'other' })).toEqual([]);
    const [cap] = budgetCapsFor(budget, { locations, now, keyId: 'abc123' });
    expect(cap?.scope).toBe(`key:${keyScopeName('abc123')}:daily:2026-03-01`);
    expect(cap?.scope).not.toContain('abc123');
    expect(cap?.capUsd).toBe(2);
  });
});

describe('summariseUsage', () => {
  const record = (
    requestId: string,
    endpointId: string,
    submittedAt: string,
    extra: Record<string, unknown>,
  ) =>
    parsePendingRecord({
      ...newPendingRecord({ requestId, endpointId, now: new Date(submittedAt) }),
      ...extra,
    });
  const records = [
    record('a', 'fal-ai/one', '2026-03-01T10:00:00Z', {
      status: 'completed',
      provenance: { cost: { amount: 0.3, currency: 'USD' } },
      tags: { costEstimate: '0.3' },
    }),
    record('b', 'fal-ai/one', '2026-03-02T10:00:00Z', {
      status: 'completed',
      tags: { costEstimate: '0.15' },
    }),
    record('c', 'fal-ai/two', '2026-03-02T11:00:00Z', {
      status: 'queued',
      tags: { costEstimate: '1.4' },
    }),
    record('d', 'fal-ai/two', '2026-03-02T12:00:00Z', {
      status: 'failed',
      provenance: { cost: { amount: 0, currency: 'USD' } },
    }),
    record('e', 'fal-ai/three', '2026-03-02T13:00:00Z', { status: 'completed' }),
    record('old', 'fal-ai/one', '2026-02-01T10:00:00Z', {
      status: 'completed',
      provenance: { cost: { amount: 9, currency: 'USD' } },
    }),
  ];

  it('keeps actual spend, estimates of finished requests and of running ones apart', () => {
    const summary = summariseUsage(records, { since: '2026-03-01T00:00:00Z', by: 'model' });
    expect(summary.total).toEqual({
      key: 'total',
      requests: 5,
      spentUsd: 0.3,
      estimatedUsd: 0.15,
      pendingUsd: 1.4,
      unpriced: 1,
    });
    expect(summary.rows.map((row) => row.key)).toEqual([
      'fal-ai/one',
      'fal-ai/three',
      'fal-ai/two',
    ]);
  });

  it('by UTC day, in order', () => {
    const summary = summariseUsage(records, { since: '2026-03-01T00:00:00Z', by: 'day' });
    expect(summary.rows.map((row) => [row.key, row.requests, row.spentUsd])).toEqual([
      ['2026-03-01', 1, 0.3],
      ['2026-03-02', 4, 0],
    ]);
  });
});
