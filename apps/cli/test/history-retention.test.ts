import { join } from 'node:path';
import { ErrorOutputSchema, HistoryOutputSchema, PruneOutputSchema } from '@falai/core';
import { newPendingRecord, parsePendingRecord } from '@falai/core/internal';
import { createFileStore } from '@falai/store-file';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: false });
});
afterAll(() => env?.close());

const DAY = 86_400_000;
let store: string;
let counter = 0;

/** A fresh store with finished requests 5 and 40 days old, and one pending 40 days old. */
beforeEach(async () => {
  const path = join(env.dir, `retention-${++counter}.json`);
  store = `file:${path}`;
  const at = (days: number) => new Date(Date.now() - days * DAY);
  const files = createFileStore({ path });
  const make = (id: string, days: number, status: 'failed' | 'completed' | 'running') =>
    parsePendingRecord({
      ...newPendingRecord({
        requestId: id,
        endpointId: 'fal-ai/flux/dev',
        input: { fields: { prompt: `harbour ${id}` }, files: [] },
        now: at(days),
      }),
      status,
      ...(status === 'completed'
        ? { outputs: [{ url: 'https://v3.fal.media/files/a/x.png', path: `/r/${id}.png` }] }
        : {}),
    });
  await files.put(make('recent-failed', 5, 'failed'));
  await files.put(make('old-failed', 40, 'failed'));
  await files.put(make('old-completed', 40, 'completed'));
  await files.put(make('old-running', 40, 'running'));
  await files.close();
});

const prune = async (args: string[] = [], extraEnv: Record<string, string> = {}) => {
  const result = await env.run(['prune', ...args, '--json'], {
    env: { FALAI_STORE: store, ...extraEnv },
  });
  expect(result.code, result.stderr).toBe(0);
  return result
    .json(PruneOutputSchema)
    .removed.map((item) => item.requestId)
    .sort();
};
const historyIds = async () =>
  (await env.run(['history', '--json'], { env: { FALAI_STORE: store } }))
    .json(HistoryOutputSchema)
    .requests.map((item) => item.requestId);

describe('finished requests are kept for the history retention', () => {
  it('prune removes only finished requests past historyRetentionDays (30 by default)', async () => {
    expect(await prune()).toEqual(['old-completed', 'old-failed']);
    expect(await historyIds()).toEqual(['recent-failed', 'old-running']);
  });

  it('the retention comes from FALAI_HISTORY_RETENTION_DAYS or config set; 0 keeps them all', async () => {
    expect(await prune(['--dry-run'], { FALAI_HISTORY_RETENTION_DAYS: '3' })).toEqual([
      'old-completed',
      'old-failed',
      'recent-failed',
    ]);
    expect(await prune([], { FALAI_HISTORY_RETENTION_DAYS: '0' })).toEqual([]);
    const config = join(env.dir, `config-${counter}.json`);
    const set = await env.run(['config', 'set', 'historyRetentionDays', '60', '--config', config]);
    expect(set.code, set.stderr).toBe(0);
    expect(await prune(['--config', config])).toEqual([]);
    expect(await historyIds()).toHaveLength(4);
  });

  it('--older-than still chooses the age; 0s removes every finished request', async () => {
    expect(await prune(['--older-than', '0s'])).toEqual([
      'old-completed',
      'old-failed',
      'recent-failed',
    ]);
    expect(await historyIds()).toEqual(['old-running']);
  });

  it('a retention that is not whole days is CONFIG_INVALID (exit 3) naming its source', async () => {
    const result = await env.run(['prune', '--json'], {
      env: { FALAI_STORE: store, FALAI_HISTORY_RETENTION_DAYS: 'a month' },
    });
    expect(result.code).toBe(3);
    expect(result.json(ErrorOutputSchema).error.message).toContain(
      'env FALAI_HISTORY_RETENTION_DAYS',
    );
  });
});
