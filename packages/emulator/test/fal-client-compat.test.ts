import { ApiError, createFalClient, type FalClient, ValidationError } from '@fal-ai/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { completion, type Json, setup } from './helpers.js';

/**
 * The official JS client, unmodified apart from a fetch that routes fal's hosts to the
 * emulator (reference §13 option a). This is the emulator's faithfulness check.
 */
let ctx: Awaited<ReturnType<typeof setup>>;
let fal: FalClient;
let routed: string[];

beforeEach(async () => {
  ctx = await setup({ deterministic: false, seed: 5 });
  routed = [];
  const hosts = /^https:\/\/(queue\.fal\.run|fal\.run|rest\.fal\.ai)/;
  const routingFetch: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const target = url.replace(hosts, ctx.emulator.url);
    routed.push(target);
    return fetch(target, init);
  };
  fal = createFalClient({ credentials: 'test-id:test-secret', fetch: routingFetch });
});
afterEach(async () => {
  await ctx.stop();
});

describe('@fal-ai/client 1.10.1 against the emulator', () => {
  it('queue.submit, status, result', async () => {
    const submitted = await fal.queue.submit('acme/flux/dev/image-to-image', {
      input: { prompt: 'p', image_url: 'http://127.0.0.1/x.png' },
      priority: 'low',
      hint: 'runner-1',
    });
    expect(submitted.status).toBe('IN_QUEUE');
    expect(submitted.request_id).toMatch(/^[0-9a-f-]{36}$/);
    const job = ctx.emulator.job(submitted.request_id);
    expect(job).toMatchObject({ priority: 'low', runnerHint: 'runner-1' });
    const early = await fal.queue.status('acme/flux/dev/image-to-image', {
      requestId: submitted.request_id,
      logs: true,
    });
    expect(['IN_QUEUE', 'IN_PROGRESS']).toContain(early.status);
    await completion(ctx.emulator, submitted.request_id);
    const status = await fal.queue.status('acme/flux/dev/image-to-image', {
      requestId: submitted.request_id,
    });
    expect(status.status).toBe('COMPLETED');
    const result = await fal.queue.result('acme/flux/dev/image-to-image', {
      requestId: submitted.request_id,
    });
    expect(result.requestId).toBe(submitted.request_id);
    expect((result.data as Json).has_nsfw_concepts).toEqual([false]);
    expect(routed.every((url) => url.startsWith(ctx.emulator.url))).toBe(true);
    const statusEntry = ctx.emulator.log.find((entry) => entry.kind === 'status');
    expect(statusEntry?.path).toBe(`/acme/flux/requests/${submitted.request_id}/status`);
    expect(statusEntry?.headers.authorization).toBe('Key <masked>');
  });

  it('queue.cancel succeeds on a queued job and the result is a 499 ApiError', async () => {
    ctx.emulator.setModel('acme/painter', { queueMs: 60_000 });
    const { request_id } = await fal.queue.submit('acme/painter', { input: { prompt: 'p' } });
    await fal.queue.cancel('acme/painter', { requestId: request_id });
    const error = await fal.queue
      .result('acme/painter', { requestId: request_id })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError<unknown>).status).toBe(499);
    const again = await fal.queue
      .cancel('acme/painter', { requestId: request_id })
      .catch((caught: unknown) => caught);
    expect((again as ApiError<unknown>).status).toBe(400);
  });

  it('subscribe in polling mode, with logs and queue updates', async () => {
    ctx.emulator.setModel('acme/painter', {
      queueMs: 0,
      runMs: 50,
      logs: [{ message: 'working', atMs: 0 }],
    });
    const updates: string[] = [];
    const result = await fal.subscribe('acme/painter', {
      input: { prompt: 'p', output_format: 'jpeg' },
      mode: 'polling',
      pollInterval: 20,
      logs: true,
      onQueueUpdate: (update) => updates.push(update.status),
    });
    expect(updates.at(-1)).toBe('COMPLETED');
    expect((result.data as Json).images[0].content_type).toBe('image/jpeg');
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('subscribe in streaming mode', async () => {
    ctx.emulator.setModel('acme/painter', {
      queueMs: 20,
      runMs: 60,
      logs: [
        { message: 'one', atMs: 10 },
        { message: 'two', atMs: 30 },
      ],
    });
    const updates: Json[] = [];
    const result = await fal.subscribe('acme/painter', {
      input: { prompt: 'p' },
      mode: 'streaming',
      logs: true,
      onQueueUpdate: (update) => updates.push(update),
    });
    expect((result.data as Json).description).toContain('p');
    expect(updates.at(-1)?.status).toBe('COMPLETED');
    const streamEntry = ctx.emulator.log.find((entry) => entry.kind === 'stream');
    expect(streamEntry?.query).toEqual({ logs: '1' });
    const messages = updates.at(-1)?.logs.map((log: Json) => log.message);
    expect(messages).toEqual(['one', 'two']);
  });

  it('surfaces a 422 as ValidationError with field errors', async () => {
    const error = await fal
      .subscribe('acme/painter', { input: {}, pollInterval: 10 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors[0]?.loc).toEqual(['body', 'prompt']);
  });

  it('storage.upload of a Blob', async () => {
    const bytes = new Uint8Array(256 * 1024).map((_, index) => index % 251);
    const url = await fal.storage.upload(new Blob([bytes], { type: 'image/png' }));
    expect(url.startsWith(`${ctx.emulator.url}/files/uploads/`)).toBe(true);
    const served = await fetch(url);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    const initiate = ctx.emulator.log.find((entry) => entry.kind === 'upload-initiate');
    expect(initiate?.query).toEqual({ storage_type: 'fal-cdn-v3' });
  });
});
