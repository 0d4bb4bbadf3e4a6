import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RANDOM_FAILURES } from '../src/cli.js';
import { get, json, post, setup, submit } from './helpers.js';

let ctx: Awaited<ReturnType<typeof setup>>;
beforeEach(async () => {
  ctx = await setup();
});
afterEach(async () => {
  await ctx.stop();
});

describe('fault injection', () => {
  it('answers 429 with Retry-After for the matching kind only, at most `times` times', async () => {
    const { emulator } = ctx;
    emulator.inject({
      match: { kind: 'submit' },
      action: { type: 'status', status: 429, retryAfterSeconds: 2 },
      times: 1,
    });
    const limited = await post(`${emulator.url}/acme/painter`, { prompt: 'p' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.headers.get('content-type')).toContain('application/json');
    expect(await json(limited)).toEqual({ detail: 'Emulated fault: HTTP 429' });
    expect(emulator.jobs()).toHaveLength(0);
    const next = await post(`${emulator.url}/acme/painter`, { prompt: 'p' });
    expect(next.status).toBe(200);
    expect(emulator.log.map((entry) => [entry.status, entry.fault])).toEqual([
      [429, 'status'],
      [200, undefined],
    ]);
    expect(emulator.stats.faults).toBe(1);
  });

  it('serves 5xx with a custom body and headers, matched by endpoint and removable', async () => {
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const remove = emulator.inject({
      match: { kind: ['status', 'result'], endpointId: 'acme/painter' },
      action: { type: 'status', status: 503, body: { detail: 'busy' }, headers: { 'x-a': 'b' } },
    });
    const failed = await get(job.status_url);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('x-a')).toBe('b');
    expect(await json(failed)).toEqual({ detail: 'busy' });
    remove();
    expect((await get(job.status_url)).status).toBeLessThan(300);
    emulator.inject({
      match: { method: 'GET', path: /\/status$/ },
      action: { type: 'status', status: 500 },
    });
    expect((await get(job.status_url)).status).toBe(500);
    emulator.clearFaults();
    expect((await get(job.status_url)).status).toBeLessThan(300);
  });

  it('drops the connection without a response', async () => {
    const { emulator } = ctx;
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'drop' }, times: 1 });
    await expect(post(`${emulator.url}/acme/painter`, { prompt: 'p' })).rejects.toThrow(TypeError);
    expect(emulator.jobs()).toHaveLength(0);
    expect(emulator.log[0]).toMatchObject({ kind: 'submit', status: 0, fault: 'drop' });
  });

  it('drop-after-accept enqueues the job, then drops the connection', async () => {
    const { emulator } = ctx;
    emulator.inject({ action: { type: 'drop-after-accept' }, times: 1 });
    await expect(post(`${emulator.url}/acme/painter`, { prompt: 'p' })).rejects.toThrow(TypeError);
    expect(emulator.jobs()).toHaveLength(1);
    expect(emulator.jobs()[0]?.input).toEqual({ prompt: 'p' });
  });

  it('delays a response and then answers normally', async () => {
    const { emulator } = ctx;
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'delay', ms: 30 } });
    const response = await post(`${emulator.url}/acme/painter`, { prompt: 'p' });
    expect(response.status).toBe(200);
    expect(emulator.log[0]?.fault).toBe('delay');
  });

  it('draws probabilities from the seeded PRNG, reproducibly', async () => {
    const pattern = async (seed: number) => {
      const run = await setup({ seed });
      run.emulator.inject({
        match: { kind: 'submit' },
        probability: 0.5,
        action: { type: 'one-of', actions: RANDOM_FAILURES.slice(0, 5) },
      });
      const statuses: number[] = [];
      for (let index = 0; index < 24; index++) {
        statuses.push((await post(`${run.emulator.url}/acme/painter`, { prompt: 'p' })).status);
      }
      await run.stop();
      return statuses;
    };
    const first = await pattern(42);
    expect(await pattern(42)).toEqual(first);
    expect(first.filter((status) => status === 200).length).toBeGreaterThan(0);
    expect(first.filter((status) => status >= 429).length).toBeGreaterThan(0);
    expect(await pattern(7)).not.toEqual(first);
  });
});
