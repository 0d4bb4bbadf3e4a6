import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, type FalaiError } from '../../src/errors/index.js';
import type { PlatformClient, PlatformRequest } from '../../src/platform/index.js';
import type { FalClient } from '../../src/queue/types.js';
import {
  ADMIN_KEY,
  ADMIN_SECRET,
  API_KEY,
  API_SECRET,
  platformCalls,
  platformFor,
  queueFor,
  startPlatformEmulator,
} from './harness.js';

let emulator: Emulator;
let platform: PlatformClient;
let admin: PlatformClient;
let queue: FalClient;
beforeAll(async () => {
  emulator = await startPlatformEmulator();
  platform = platformFor(emulator);
  admin = platformFor(emulator, { credentials: ADMIN_KEY });
  queue = queueFor(emulator);
});
afterAll(async () => {
  await emulator.close();
});

/** Submits through the queue client, waits, and reads the result's billable units. */
async function paidRun(endpointId: string, input: Record<string, unknown>) {
  const { requestId } = await queue.submit(endpointId, input);
  const outcome = await queue.wait(endpointId, requestId);
  expect(outcome.state).toBe('completed');
  const job = emulator.job(requestId);
  const base = endpointId.split('/').slice(0, 2).join('/');
  const result = await fetch(`${emulator.url}/${base}/requests/${requestId}`, {
    headers: { authorization: `Key ${API_KEY}` },
  });
  expect(job?.status).toBe('COMPLETED');
  return { requestId, units: Number(result.headers.get('x-fal-billable-units')) };
}

describe('prices and estimates', () => {
  it('reads unit prices in several unit kinds', async () => {
    const prices = await platform.getPrices([
      'fal-ai/nano-banana-pro',
      'fal-ai/flux/dev',
      'fal-ai/kling-video/v2.1/standard/image-to-video',
      'fal-ai/kokoro/american-english',
      'fal-ai/ltx-video',
      'fal-ai/bytedance/seedance/v1/pro/text-to-video',
      'fal-ai/flux/dev',
    ]);
    expect(prices.map((price) => price.endpointId)).toEqual([
      'fal-ai/nano-banana-pro',
      'fal-ai/flux/dev',
      'fal-ai/kling-video/v2.1/standard/image-to-video',
      'fal-ai/kokoro/american-english',
      'fal-ai/ltx-video',
      'fal-ai/bytedance/seedance/v1/pro/text-to-video',
    ]);
    expect(prices.map((price) => price.unit)).toEqual([
      'images',
      'megapixels',
      'seconds',
      '1000 characters',
      'videos',
      'units',
    ]);
    for (const price of prices) {
      expect(price.unitPrice).toBeGreaterThan(0);
      expect(price.currency).toBe('USD');
    }
  });

  it('estimates by unit price and by historical price per call', async () => {
    const [flux, audio] = await platform.getPrices(['fal-ai/flux/dev', 'fal-ai/stable-audio']);
    const units = await platform.estimateCost({
      estimateType: 'unit_price',
      endpoints: { 'fal-ai/flux/dev': 3.5 },
    });
    expect(units).toMatchObject({ estimateType: 'unit_price', currency: 'USD' });
    expect(units.totalCost).toBeCloseTo(3.5 * (flux?.unitPrice ?? 0), 9);
    const history = await platform.estimateCost({
      estimateType: 'historical_api_price',
      endpoints: { 'fal-ai/stable-audio': 2 },
    });
    expect(history.estimateType).toBe('historical_api_price');
    // A `units` model bills several units per call: the historical price reveals how many.
    const unitsPerCall = history.totalCost / 2 / (audio?.unitPrice ?? 1);
    expect(unitsPerCall).toBeGreaterThan(1);
    const { units: billed } = await paidRun('fal-ai/stable-audio', { prompt: 'rain on a roof' });
    expect(billed).toBeCloseTo(unitsPerCall, 6);
    expect(platformCalls(emulator, '/models/pricing/estimate').at(-1)?.body).toEqual({
      estimate_type: 'historical_api_price',
      endpoints: { 'fal-ai/stable-audio': { call_quantity: 2 } },
    });
  });
});

describe('request history and billing after real submits', () => {
  const runs: Array<{ requestId: string; units: number; endpointId: string }> = [];

  beforeAll(async () => {
    for (const [endpointId, input] of [
      ['fal-ai/flux/dev', { prompt: 'a lighthouse at dusk', image_size: 'square_hd' }],
      ['fal-ai/flux/dev', { prompt: 'a harbour at dawn', num_images: 2 }],
      ['fal-ai/elevenlabs/tts/multilingual-v2', { text: 'The tide is turning.' }],
      [
        'fal-ai/kling-video/v2.1/standard/image-to-video',
        {
          prompt: 'waves',
          image_url: 'https://example.com/sea.png',
        },
      ],
    ] as const) {
      runs.push({ ...(await paidRun(endpointId, { ...input })), endpointId });
    }
  });

  it('lists an endpoint’s requests through the iterator, with payloads', async () => {
    const seen: PlatformRequest[] = [];
    for await (const item of platform.iterateRequestsByEndpoint({
      endpointIds: ['fal-ai/flux/dev'],
      payloads: true,
      limit: 1,
    }))
      seen.push(item);
    const flux = runs.filter((run) => run.endpointId === 'fal-ai/flux/dev');
    expect(seen.map((item) => item.requestId)).toEqual(flux.map((run) => run.requestId).reverse());
    for (const item of seen) {
      expect(item).toMatchObject({ endpointId: 'fal-ai/flux/dev', statusCode: 200 });
      expect(Date.parse(item.endedAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(item.startedAt ?? ''),
      );
      expect((item.input as { prompt: string }).prompt).toMatch(/^a (lighthouse|harbour)/);
      expect((item.output as { images: unknown[] }).images.length).toBeGreaterThan(0);
    }
    const byId = await platform.listRequestsByEndpoint({
      endpointIds: ['fal-ai/flux/dev'],
      requestIds: [flux[0]?.requestId ?? ''],
      status: 'success',
    });
    expect(byId.items.map((item) => item.requestId)).toEqual([flux[0]?.requestId]);
    expect(byId.items[0]?.input).toBeUndefined();
    const window = await platform.listRequestsByEndpoint({
      endpointIds: ['fal-ai/flux/dev'],
      start: new Date(Date.now() + 60_000),
      end: new Date(Date.now() + 120_000),
    });
    expect(window.items).toEqual([]);
  });

  it('searches requests by text', async () => {
    const page = await platform.searchRequests({ query: 'lighthouse dusk', payloads: true });
    expect(page.items[0]?.requestId).toBe(runs[0]?.requestId);
    expect(page.items[0]?.similarity).toBe(1);
    const all = [];
    for await (const item of platform.iterateSearchRequests({ limit: 2 })) all.push(item);
    expect(all.length).toBe(emulator.jobs().length);
  });

  it('reads billing events with an ADMIN key: output units × unit price', async () => {
    const events = [];
    for await (const event of admin.iterateBillingEvents({ limit: 2 })) events.push(event);
    const prices = await platform.getPrices(runs.map((run) => run.endpointId));
    for (const run of runs) {
      const event = events.find((item) => item.requestId === run.requestId);
      const price = prices.find((item) => item.endpointId === run.endpointId);
      expect(event?.outputUnits).toBe(run.units);
      expect(event?.unitPrice).toBe(price?.unitPrice);
      expect(event?.costTotal).toBeCloseTo(run.units * (price?.unitPrice ?? 0), 9);
    }
    const one = await admin.listBillingEvents({ requestIds: [runs[2]?.requestId ?? ''] });
    expect(one.items.map((event) => event.requestId)).toEqual([runs[2]?.requestId]);
  });

  it('refuses billing calls with an API key, naming the ADMIN key it needs and never the key', async () => {
    for (const attempt of [
      () => platform.getAccountBilling({ credits: true }),
      () => platform.listBillingEvents(),
      () => platform.getUsage({ summary: true }),
    ]) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).code).toBe('AUTH_REJECTED');
      expect((error as AuthError).status).toBe(403);
      expect((error as AuthError).message).toMatch(/ADMIN key/);
      expect((error as AuthError).details).toMatchObject({ adminRequired: true });
      const text = JSON.stringify((error as FalaiError).toJSON()) + (error as Error).message;
      expect(text).not.toContain(API_SECRET);
    }
  });

  it('answers the account’s credits with an ADMIN key', async () => {
    const events = [];
    for await (const event of admin.iterateBillingEvents()) events.push(event);
    const spent = events.reduce((sum, event) => sum + (event.costTotal ?? 0), 0);
    const account = await admin.getAccountBilling({ credits: true });
    expect(account.username).toBe('contract');
    expect(account.credits?.currency).toBe('USD');
    expect(account.credits?.currentBalance).toBeCloseTo(25 - spent, 6);
    expect((await admin.getAccountBilling()).credits).toBeUndefined();
    const usage = await admin.getUsage({ summary: true, endpointIds: ['fal-ai/flux/dev'] });
    const fluxUnits = runs
      .filter((run) => run.endpointId === 'fal-ai/flux/dev')
      .reduce((sum, run) => sum + run.units, 0);
    expect(usage.summary?.[0]).toMatchObject({ endpointId: 'fal-ai/flux/dev', unit: 'megapixels' });
    expect(usage.summary?.[0]?.quantity).toBeCloseTo(fluxUnits, 6);
    const text = JSON.stringify(emulator.log);
    expect(text).not.toContain(ADMIN_SECRET);
  });

  it('reports analytics: counts and queue/run percentiles', async () => {
    const analytics = await platform.getAnalytics({
      endpointIds: ['fal-ai/flux/dev', 'fal-ai/elevenlabs/tts/multilingual-v2'],
      metrics: [
        'request_count',
        'success_count',
        'p50_duration',
        'p90_duration',
        'p50_prepare_duration',
      ],
      summary: true,
      timeSeries: true,
      timeframe: 'hour',
    });
    const flux = analytics.summary?.find((record) => record.endpointId === 'fal-ai/flux/dev');
    expect(flux?.metrics.request_count).toBe(2);
    expect(flux?.metrics.success_count).toBe(2);
    expect(flux?.metrics.p50_duration).toBeGreaterThan(0);
    expect(flux?.metrics.p50_duration).toBeLessThanOrEqual(flux?.metrics.p90_duration ?? 0);
    expect(flux?.metrics.p50_prepare_duration).toBeGreaterThanOrEqual(0);
    expect(flux?.metrics.error_count).toBeUndefined();
    const bucketed = (analytics.timeSeries ?? [])
      .flatMap((bucket) => bucket.results)
      .filter((record) => record.endpointId === 'fal-ai/flux/dev')
      .reduce((sum, record) => sum + (record.metrics.request_count ?? 0), 0);
    expect(bucketed).toBe(2);
    expect(analytics.hasMore).toBe(false);
  });
});
