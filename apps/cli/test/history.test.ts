import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  ErrorOutputSchema,
  HistoryOutputSchema,
  type PendingRecord,
  type PendingStore,
  RunOutputSchema,
} from '@falai/core';
import { newPendingRecord, parsePendingRecord } from '@falai/core/internal';
import { createFileStore } from '@falai/store-file';
import { createRedisStore } from '@falai/store-redis';
import { createSqliteStore } from '@falai/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, redisForTest, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env?.close());

const HOUR = 3_600_000;

/** Requests at known ages: prompts, models, statuses, costs, outputs and a lineage edge. */
function records(now: number): PendingRecord[] {
  const make = (
    id: string,
    hoursAgo: number,
    prompt: string | undefined,
    extra: Partial<PendingRecord> = {},
  ): PendingRecord =>
    parsePendingRecord({
      ...newPendingRecord({
        requestId: id,
        endpointId: 'fal-ai/flux/dev',
        now: new Date(now - hoursAgo * HOUR),
        ...(prompt === undefined ? {} : { input: { fields: { prompt }, files: [] } }),
      }),
      ...extra,
    });
  return [
    make('req-fox-old', 24 * 10, 'A red fox, ten days ago', {
      status: 'completed',
      outputs: [{ url: 'https://v3.fal.media/files/a/fox.png', path: '/renders/fox-old-0.png' }],
    }),
    make('req-fox', 5, 'A red FOX in the snow', {
      status: 'completed',
      result: { seed: 17454220438242315174n },
      provenance: { cost: { amount: 0.025, currency: 'USD' } },
      outputs: [
        { url: 'https://v3.fal.media/files/a/0.png', path: '/renders/fox-0.png' },
        { url: 'https://v3.fal.media/files/a/1.png', path: '/renders/fox-1.png' },
      ],
    }),
    make('req-video', 3, 'the fox, now running', {
      endpointId: 'fal-ai/kling-video/o3/pro/video-to-video/edit',
      status: 'running',
      provenance: { parents: [{ requestId: 'req-fox', output: 1, field: 'image_urls.0' }] },
    }),
    make('req-sea', 2, 'a red sea at dawn', {
      status: 'failed',
      error: { code: 'REQUEST_FAILED', message: 'boom' },
    }),
    make('req-none', 1, undefined, { status: 'queued' }),
  ];
}

interface StoreCase {
  readonly name: string;
  open(): Promise<{ spec: string; store: PendingStore; cleanup?: () => Promise<void> } | undefined>;
}

const STORES: StoreCase[] = [
  {
    name: 'sqlite',
    async open() {
      const path = join(env.dir, `history-${randomBytes(4).toString('hex')}.db`);
      return { spec: `sqlite:${path}`, store: createSqliteStore({ path }) };
    },
  },
  {
    name: 'file',
    async open() {
      const path = join(env.dir, `history-${randomBytes(4).toString('hex')}.json`);
      return { spec: `file:${path}`, store: createFileStore({ path }) };
    },
  },
  {
    name: 'redis',
    async open() {
      const url = await redisForTest('the Redis history test');
      if (!url) return undefined;
      const prefix = `falaitest-history-${randomBytes(6).toString('hex')}`;
      const store = createRedisStore({ url, prefix });
      return {
        spec: `${url}?prefix=${prefix}`,
        store,
        async cleanup() {
          const { Redis } = await import('ioredis');
          const admin = new Redis(url);
          const keys = await admin.keys(`${prefix}:*`);
          if (keys.length > 0) await admin.del(...keys);
          admin.disconnect();
        },
      };
    },
  },
];

for (const item of STORES) {
  describe(`falai history (${item.name} store)`, () => {
    let spec: string | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      const opened = await item.open();
      if (!opened) return;
      spec = opened.spec;
      cleanup = opened.cleanup;
      for (const record of records(Date.now())) await opened.store.put(record);
      await opened.store.close();
    });
    afterAll(async () => cleanup?.());

    const history = async (...args: string[]) => {
      if (!spec) throw new Error('no store (Redis missing outside CI)');
      return env.run(['history', ...args], { env: { FALAI_STORE: spec } });
    };
    const idsOf = async (...args: string[]) => {
      const result = await history(...args, '--json');
      expect(result.code, result.stderr).toBe(0);
      return result.json(HistoryOutputSchema).requests.map((r) => r.requestId);
    };

    it('lists finished and pending requests, newest first, with prompt, model, cost, seed, outputs and lineage', async () => {
      if (!spec) return;
      const result = await history('--json');
      expect(result.code, result.stderr).toBe(0);
      const out = result.json(HistoryOutputSchema);
      expect(out.requests.map((r) => r.requestId)).toEqual([
        'req-none',
        'req-sea',
        'req-video',
        'req-fox',
        'req-fox-old',
      ]);
      expect(out.truncated).toBe(false);
      const fox = out.requests.find((r) => r.requestId === 'req-fox');
      expect(fox).toMatchObject({
        endpointId: 'fal-ai/flux/dev',
        status: 'completed',
        prompt: 'A red FOX in the snow',
        seed: '17454220438242315174',
        cost: { amount: 0.025, currency: 'USD' },
        outputs: ['/renders/fox-0.png', '/renders/fox-1.png'],
      });
      expect(out.requests.find((r) => r.requestId === 'req-video')?.parents).toEqual([
        { requestId: 'req-fox', output: 1, field: 'image_urls.0' },
      ]);
      expect(out.requests.find((r) => r.requestId === 'req-sea')?.error?.message).toBe('boom');
    });

    it('searches prompts by word beginnings, ignoring case; filters by model, time and status', async () => {
      if (!spec) return;
      expect(await idsOf('red fo')).toEqual(['req-fox', 'req-fox-old']);
      expect(await idsOf('fox')).toEqual(['req-video', 'req-fox', 'req-fox-old']);
      expect(await idsOf('fox', '--model', 'fal-ai/flux/dev')).toEqual(['req-fox', 'req-fox-old']);
      expect(await idsOf('fox', '--since', '7d')).toEqual(['req-video', 'req-fox']);
      expect(await idsOf('--since', '4h')).toEqual(['req-none', 'req-sea', 'req-video']);
      expect(await idsOf('--status', 'completed', '--status', 'failed')).toEqual([
        'req-sea',
        'req-fox',
        'req-fox-old',
      ]);
      expect(await idsOf('giraffe')).toEqual([]);
    });

    it('--limit keeps the newest and says there are more', async () => {
      if (!spec) return;
      const result = await history('--limit', '2', '--json');
      const out = result.json(HistoryOutputSchema);
      expect(out.requests.map((r) => r.requestId)).toEqual(['req-none', 'req-sea']);
      expect(out.truncated).toBe(true);
      const human = await history('--limit', '2');
      expect(human.stderr).toContain('Showing the newest 2');
    });

    it('prints a readable block per request', async () => {
      if (!spec) return;
      const result = await history('snow');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(
        /^5h ago {2}completed {2}fal-ai\/flux\/dev {2}0\.025 USD {2}req-fox$/m,
      );
      expect(result.stdout).toContain('"A red FOX in the snow"');
      expect(result.stdout).toContain('seed 17454220438242315174');
      expect(result.stdout).toContain('→ /renders/fox-1.png');
      const none = await history('giraffe');
      expect(none.stdout.trim()).toBe('No matching requests.');
    });
  });
}

describe('falai history after real runs', () => {
  it('finds what falai run made, with its saved file', async () => {
    const out = join(env.dir, 'runs');
    const store = `sqlite:${join(env.dir, 'runs.db')}`;
    const run = await env.run(
      ['run', 'fal-ai/flux/dev', '--set', 'prompt=a lighthouse at dusk', '--out', out, '--json'],
      { env: { FALAI_STORE: store } },
    );
    expect(run.code, run.stderr).toBe(0);
    const made = run.json(RunOutputSchema);
    const result = await env.run(['history', 'lighthouse', '--json'], {
      env: { FALAI_STORE: store },
    });
    const entry = result.json(HistoryOutputSchema).requests[0];
    expect(entry?.requestId).toBe(made.requestId);
    expect(entry?.outputs).toEqual(made.outputs.map((file) => file.path));
    expect(entry?.prompt).toBe('a lighthouse at dusk');
  });

  it('--since without a unit, or neither a period nor a date, is a usage error', async () => {
    const bare = await env.run(['history', '--since', '7', '--json']);
    expect(bare.code).toBe(2);
    expect(bare.json(ErrorOutputSchema).error.message).toContain('7d (days)');
    const nonsense = await env.run(['history', '--since', 'yesterdayish']);
    expect(nonsense.code).toBe(2);
    expect(nonsense.stderr).toContain('neither a period');
  });
});
