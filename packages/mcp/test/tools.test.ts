import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFalai,
  createMemoryStore,
  createModelRegistry,
  type PendingStore,
} from '@falai/core';
import { newPendingRecord } from '@falai/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpContext } from '../src/context.js';
import { createTools, type ToolDefinition } from '../src/tools.js';

/**
 * The job tools over a real memory store (no fal is reached: every call here is answered from
 * the arguments or the store), with the store's reads counted.
 */
let dir: string;
let store: PendingStore;
let reads: { list: number; get: number };
let tools: ToolDefinition[];
let ctx: McpContext;

/** The store, with every `list` and `get` counted. */
function counted(inner: PendingStore): PendingStore {
  return new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if ((name === 'list' || name === 'get') && typeof value === 'function') {
        return (...args: unknown[]) => {
          reads[name] += 1;
          return value.apply(target, args);
        };
      }
      return value;
    },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-mcp-tools-'));
  reads = { list: 0, get: 0 };
  const registry = createModelRegistry();
  store = counted(createMemoryStore());
  const at = new Date('2026-03-01T10:00:00Z');
  await store.put(
    newPendingRecord({ requestId: 'pending-a1', endpointId: 'fal-ai/nano-banana-pro', now: at }),
  );
  await store.put({
    ...newPendingRecord({ requestId: 'done-b1', endpointId: 'fal-ai/flux/dev', now: at }),
    status: 'completed',
    completedAt: '2026-03-01T10:00:05.000Z',
  });
  ctx = new McpContext({
    falai: createFalai({ store, registry, env: {}, key: 'test:secret' }),
    registry,
    outputDir: dir,
  });
  tools = createTools(ctx);
});

afterAll(async () => {
  await ctx.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (name: string, args: unknown) => {
  const tool = tools.find((candidate) => candidate.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  return tool.run(args, { signal: new AbortController().signal });
};

describe('download_job_outputs', () => {
  it('refuses a folder leading out of the output folder before it looks the job up', async () => {
    reads = { list: 0, get: 0 };
    await expect(
      call('download_job_outputs', {
        request_id: '00000000-0000-4000-8000-000000000001',
        dir: '../../elsewhere',
      }),
    ).rejects.toThrow(/leads out of the output folder/);
    expect(reads).toEqual({ list: 0, get: 0 });
  });
});

describe('list_jobs', () => {
  it('reads the store once: the filtered jobs, and the pending count over every job', async () => {
    reads = { list: 0, get: 0 };
    const done = await call('list_jobs', { status: 'done' });
    expect(reads.list).toBe(1);
    expect(done.structured).toMatchObject({ pending: 1, total: 1 });
    expect((done.structured.jobs as { requestId: string }[]).map((job) => job.requestId)).toEqual([
      'done-b1',
    ]);
    const banana = await call('list_jobs', { endpoint_id: 'fal-ai/nano-banana-pro' });
    expect(banana.structured).toMatchObject({ pending: 1, total: 1 });
    expect((banana.structured.jobs as { requestId: string }[])[0]?.requestId).toBe('pending-a1');
  });
});

describe('generate', () => {
  it('sends nothing when the model definition cannot be had (its file fields would go unchecked)', async () => {
    const registry = createModelRegistry();
    const unreachable = new Proxy(registry, {
      get: (target, name) =>
        name === 'resolve'
          ? () => Promise.reject(new Error('catalogue unreachable'))
          : Reflect.get(target, name),
    });
    const own = createMemoryStore();
    const closed = new McpContext({
      falai: createFalai({ store: own, registry: unreachable, env: {}, key: 'test:secret' }),
      registry: unreachable,
      outputDir: dir,
    });
    try {
      const generate = createTools(closed).find((tool) => tool.name === 'generate');
      if (!generate) throw new Error('no generate tool');
      await expect(
        generate.run(
          { endpoint_id: 'acme/unknown-model', input: { prompt: 'x', image_url: '/etc/passwd' } },
          { signal: new AbortController().signal },
        ),
      ).rejects.toThrow(/catalogue unreachable/);
      expect(await own.list()).toEqual([]);
    } finally {
      await closed.close();
    }
  });
});
