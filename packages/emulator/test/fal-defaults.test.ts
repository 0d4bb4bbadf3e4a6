import { afterEach, describe, expect, it } from 'vitest';
import { completion, get, json, post, setup, submit, until } from './helpers.js';

let ctx: Awaited<ReturnType<typeof setup>> | undefined;
afterEach(async () => {
  await ctx?.stop();
  ctx = undefined;
});

const key = (value: string) => ({ authorization: `Key ${value}` });

describe('per-account concurrency', () => {
  it('runs at most 2 requests per key by default; the rest wait IN_QUEUE', async () => {
    ctx = await setup({ defaultLatency: { queueMs: 0, runMs: 60_000 } });
    const { emulator } = ctx;
    const jobs = [];
    for (let index = 0; index < 4; index++) {
      jobs.push(await submit(emulator, 'acme/painter', { prompt: `${index}` }, key('a:1')));
    }
    await until(
      () => emulator.jobs().filter((job) => job.status === 'IN_PROGRESS').length === 2,
      'two running',
    );
    const third = await json(await get((jobs[2] as { status_url: string }).status_url));
    expect(third).toMatchObject({ status: 'IN_QUEUE', queue_position: 0 });
    const fourth = await json(await get((jobs[3] as { status_url: string }).status_url));
    expect(fourth).toMatchObject({ status: 'IN_QUEUE', queue_position: 1 });
    // Another key (another account) has its own two slots.
    const other = await submit(emulator, 'acme/painter', { prompt: 'b' }, key('b:2'));
    await until(() => emulator.job(other.request_id)?.status === 'IN_PROGRESS', 'other key runs');
    expect(emulator.stats.peakRunning).toEqual({
      [emulator.userId('a:1')]: 2,
      [emulator.userId('b:2')]: 1,
    });
    expect(emulator.job(other.request_id)?.userId).toBe(emulator.userId('b:2'));
    // The same numbers are served for out-of-process callers.
    const admin = await json(await fetch(`${emulator.url}/_emulator/stats`));
    expect(admin).toMatchObject({ concurrency: 2, peakRunning: emulator.stats.peakRunning });
  });

  it('starts the next waiting request when a slot frees, and records the peak', async () => {
    ctx = await setup({ concurrency: 3, defaultLatency: { queueMs: 0, runMs: 30 } });
    const { emulator } = ctx;
    const jobs = await Promise.all(
      Array.from({ length: 9 }, (_, index) =>
        submit(emulator, 'acme/painter', { prompt: `${index}` }),
      ),
    );
    for (const job of jobs) await completion(emulator, job.request_id);
    expect(Object.values(emulator.stats.peakRunning)).toEqual([3]);
    emulator.resetStats();
    expect(emulator.stats.peakRunning).toEqual({});
  });

  it('lifts the limit with concurrency: Infinity', async () => {
    ctx = await setup({
      concurrency: Number.POSITIVE_INFINITY,
      defaultLatency: { queueMs: 0, runMs: 60_000 },
    });
    const { emulator } = ctx;
    for (let index = 0; index < 5; index++) {
      await submit(emulator, 'acme/painter', { prompt: `${index}` });
    }
    await until(
      () => emulator.jobs().every((job) => job.status === 'IN_PROGRESS'),
      'all five running',
    );
    expect(Object.values(emulator.stats.peakRunning)).toEqual([5]);
    expect((await json(await fetch(`${emulator.url}/_emulator/stats`))).concurrency).toBeNull();
  });
});

describe('rate limit', () => {
  it('[?] answers 429 with Retry-After once a key uses up its window (body guessed)', async () => {
    ctx = await setup({
      rateLimit: { requests: 3, windowMs: 60_000 },
      defaultLatency: { queueMs: 60_000, runMs: 60_000 },
    });
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('a:1'));
    expect((await get(job.status_url, key('a:1'))).status).toBe(202);
    expect((await get(job.status_url, key('a:1'))).status).toBe(202);
    const limited = await get(job.status_url, key('a:1'));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((await json(limited)).detail).toContain('Rate limit exceeded');
    const refused = await post(`${emulator.url}/acme/painter`, { prompt: 'q' }, key('a:1'));
    expect(refused.status).toBe(429);
    expect(emulator.jobs()).toHaveLength(1);
    // Counted per key.
    expect((await get(job.status_url, key('b:2'))).status).toBe(202);
    expect(emulator.stats.rateLimited).toBe(2);
  });

  it('has no rate limit by default (fal publishes none for inference)', async () => {
    ctx = await setup();
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const statuses = await Promise.all(
      Array.from({ length: 50 }, async () => (await get(job.status_url)).status),
    );
    expect(statuses.every((status) => status === 202 || status === 200)).toBe(true);
    expect(emulator.stats.rateLimited).toBe(0);
  });
});

describe('strict mode', () => {
  it('[?] answers 404 at submit for an endpoint id it does not know (body guessed)', async () => {
    ctx = await setup({ strict: true });
    const { emulator } = ctx;
    const unknown = await post(`${emulator.url}/acme/nothing-here`, { prompt: 'p' });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).detail).toContain("'acme/nothing-here'");
    expect(emulator.jobs()).toHaveLength(0);
    // Known: a loaded definition, or a model given a behaviour.
    expect((await post(`${emulator.url}/acme/painter`, { prompt: 'p' })).status).toBe(200);
    emulator.setModel('acme/scripted', { output: { images: [] } });
    expect((await post(`${emulator.url}/acme/scripted`, {})).status).toBe(200);
    // Not strict: anything is accepted.
    await ctx.stop();
    ctx = await setup();
    expect((await post(`${ctx.emulator.url}/acme/nothing-here`, {})).status).toBe(200);
  });

  it('[?] answers 405 for status, result, cancel and stream under the full endpoint id (body guessed)', async () => {
    ctx = await setup({ strict: true });
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/flux/dev/image-to-image', {
      prompt: 'p',
      image_url: 'http://127.0.0.1/x.png',
    });
    await completion(emulator, job.request_id);
    const full = `${emulator.url}/acme/flux/dev/image-to-image/requests/${job.request_id}`;
    expect((await get(`${full}/status`)).status).toBe(405);
    expect((await get(full)).status).toBe(405);
    expect((await get(`${full}/status/stream`)).status).toBe(405);
    const cancel = await fetch(`${full}/cancel`, { method: 'PUT', headers: key('test-id:s') });
    expect(cancel.status).toBe(405);
    expect(await json(cancel)).toEqual({ detail: 'Method Not Allowed' });
    // Also for an id nobody knows (the 3P observation), while owner/alias gives 404.
    expect((await get(`${emulator.url}/acme/flux/dev/requests/x/status`)).status).toBe(405);
    expect((await get(`${emulator.url}/acme/flux/requests/x/status`)).status).toBe(404);
    // The owner/alias URLs the submit answer gave work.
    expect((await get(job.status_url)).status).toBe(200);
    expect((await get(job.response_url)).status).toBe(200);
  });
});

describe('result retention', () => {
  it('keeps a small result 1 h and a result of 10 KB or more 6 min after completion (fal time)', async () => {
    ctx = await setup();
    const { emulator } = ctx;
    const small = await submit(emulator, 'acme/painter', { prompt: 'p' });
    emulator.setModel('acme/painter', { output: { text: 'x'.repeat(10 * 1024) } });
    const large = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const smallDone = await completion(emulator, small.request_id);
    const largeDone = await completion(emulator, large.request_id);
    expect((smallDone.expiresAt as number) - (smallDone.completedAt as number)).toBeCloseTo(
      3_600_000,
      3,
    );
    expect((largeDone.expiresAt as number) - (largeDone.completedAt as number)).toBeCloseTo(
      360_000,
      3,
    );
    expect((await get(small.response_url)).status).toBe(200);
  });

  it('[?] answers 404 for status, result and cancel once the result has expired', async () => {
    // An hour at 1/100,000 is 36 ms.
    ctx = await setup({ timeScale: 0.00001 });
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const done = await completion(emulator, job.request_id);
    expect((done.expiresAt as number) - (done.completedAt as number)).toBeCloseTo(36, 3);
    await until(() => Date.now() > (done.expiresAt as number) + 50, 'expiry');
    const status = await get(job.status_url);
    expect(status.status).toBe(404);
    expect(await json(status)).toMatchObject({ status: 'NOT_FOUND' });
    expect((await get(job.response_url)).status).toBe(404);
    expect((await fetch(job.cancel_url, { method: 'PUT', headers: key('a:b') })).status).toBe(404);
    // The admin view still has it.
    expect(emulator.job(job.request_id)?.status).toBe('COMPLETED');
  });
});
