import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostEstimator } from '../../src/cost/estimator.js';
import { platformCalls, platformFor, startPlatformEmulator } from '../platform/harness.js';

/**
 * Estimates from fal's prices over HTTP (the emulator's Platform API): one unit kind per
 * endpoint, each measured from the input; `units` and compute seconds calibrated with fal's
 * historical estimate; prices and historical costs cached on disk for the TTL and served
 * without a call.
 */
let emulator: Emulator;
let dir: string;
beforeAll(async () => {
  emulator = await startPlatformEmulator();
  dir = await mkdtemp(join(tmpdir(), 'falai-estimator-'));
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

function estimatorAt(cacheDir: string, now: () => number = Date.now) {
  return createCostEstimator({
    apiUrl: `${emulator.url}/v1`,
    platform: platformFor(emulator),
    cacheDir,
    now,
  });
}

describe('estimates from fal pricing, by unit kind', () => {
  it.each([
    // [endpoint, input, expected usd, fal's unit]
    ['fal-ai/nano-banana-pro', { prompt: 'x', num_images: 3 }, 0.45, 'images'],
    [
      'fal-ai/flux/dev',
      { prompt: 'x', image_size: 'landscape_4_3', num_images: 2 },
      0.039322,
      'megapixels',
    ],
    [
      'fal-ai/kling-video/v2.1/master/text-to-video',
      { prompt: 'x', duration: '10' },
      2.8,
      'seconds',
    ],
    ['fal-ai/birefnet/v2', { image_url: 'https://example.com/a.png' }, 0.002, 'requests'],
    ['fal-ai/elevenlabs/tts/multilingual-v2', { text: 'y'.repeat(1500) }, 0.15, '1000 characters'],
    ['fal-ai/elevenlabs/music', { prompt: 'x', music_length_ms: 30_000 }, 0.4, 'minutes'],
  ])('%s', async (endpointId, input, usd, unit) => {
    const result = await estimatorAt(join(dir, 'kinds')).estimate({ endpointId, input });
    if (result.estimate === null) throw new Error(result.reason);
    expect(result.estimate.usd).toBe(usd);
    expect(result.estimate.unit).toBe(unit);
    expect(result.estimate.method).toBe('input');
  });

  it('calibrates "units" with the historical estimate: 5 units a call, not 1', async () => {
    emulator.clearLog();
    const result = await estimatorAt(join(dir, 'units')).estimate({
      endpointId: 'fal-ai/bytedance/seedance/v1/pro/text-to-video',
      input: { prompt: 'a wave' },
    });
    if (result.estimate === null) throw new Error(result.reason);
    // unit price 0.124 per unit; fal's historical cost of a call 0.62 → 5 units a call.
    expect(result.estimate.usd).toBe(0.62);
    expect(result.estimate.units).toBe(5);
    expect(result.estimate.method).toBe('history');
    const asked = platformCalls(emulator, '/models/pricing/estimate');
    expect(asked).toHaveLength(1);
    expect(asked[0]?.body).toMatchObject({
      estimate_type: 'historical_api_price',
      endpoints: { 'fal-ai/bytedance/seedance/v1/pro/text-to-video': { call_quantity: 1 } },
    });
  });

  it('estimates compute seconds from history too', async () => {
    const result = await estimatorAt(join(dir, 'compute')).estimate({
      endpointId: 'fal-ai/aura-sr',
      input: { image_url: 'https://example.com/a.png' },
    });
    if (result.estimate === null) throw new Error(result.reason);
    expect(result.estimate.usd).toBe(0.0025);
    expect(result.estimate.assumptions[0]).toContain('run time is only known');
  });

  it('says why when it cannot estimate: an endpoint fal does not price, or no usable key', async () => {
    const unknown = await estimatorAt(join(dir, 'unknown')).estimate({
      endpointId: 'acme/not-a-model',
      input: {},
    });
    expect(unknown).toEqual({
      estimate: null,
      reason: "fal's pricing does not know acme/not-a-model",
    });

    const rejected = await createCostEstimator({
      apiUrl: `${emulator.url}/v1`,
      platform: platformFor(emulator, { credentials: 'wrong-id:wrong-secret-000000' }),
    }).estimate({ endpointId: 'fal-ai/nano-banana-pro', input: { prompt: 'x' } });
    expect(rejected.estimate).toBeNull();
    expect(rejected.estimate === null && rejected.reason).toMatch(/could not be asked.*401/);
    expect(JSON.stringify(rejected)).not.toContain('wrong-secret');
  });
});

describe('the price cache', () => {
  it('serves a fresh price and historical cost from disk without a call, and asks again after the TTL', async () => {
    const cacheDir = join(dir, 'ttl');
    let now = Date.parse('2026-03-01T10:00:00Z');
    const endpointId = 'fal-ai/stable-audio';
    const input = { prompt: 'rain' };
    emulator.clearLog();
    const first = await estimatorAt(cacheDir, () => now).estimate({ endpointId, input });
    expect(first.estimate?.usd).toBe(0.045);
    expect(platformCalls(emulator, '/models/pricing')).toHaveLength(1);
    expect(platformCalls(emulator, '/models/pricing/estimate')).toHaveLength(1);

    // Another estimator (another process) an hour later: both answers come from the cache.
    now += 60 * 60 * 1000;
    emulator.clearLog();
    const cached = await estimatorAt(cacheDir, () => now).estimate({ endpointId, input });
    expect(cached).toEqual(first);
    expect(platformCalls(emulator)).toHaveLength(0);

    // A day and more later the price is asked again.
    now += 24 * 60 * 60 * 1000;
    const later = await estimatorAt(cacheDir, () => now).estimate({ endpointId, input });
    expect(later.estimate?.usd).toBe(0.045);
    expect(platformCalls(emulator, '/models/pricing')).toHaveLength(1);
    expect(platformCalls(emulator, '/models/pricing/estimate')).toHaveLength(1);
  });

  it('reads the cache file once per estimator: a batch of rows does not read it per row', async () => {
    const cacheDir = join(dir, 'once');
    const endpointId = 'fal-ai/nano-banana-pro';
    await estimatorAt(cacheDir).estimate({ endpointId, input: { prompt: 'x' } });
    const estimator = estimatorAt(cacheDir);
    emulator.clearLog();
    expect(
      (await estimator.estimate({ endpointId, input: { prompt: 'row 1' } })).estimate?.usd,
    ).toBe(0.15);
    // The file is gone (another process cleared the cache): still priced, still no call.
    await rm(join(cacheDir, 'catalogue'), { recursive: true, force: true });
    const next = await estimator.estimate({
      endpointId,
      input: { prompt: 'row 2', num_images: 2 },
    });
    expect(next.estimate?.usd).toBe(0.3);
    expect(platformCalls(emulator)).toHaveLength(0);
  });

  it('falls back to a stale cached price, saying so, when fal cannot be asked', async () => {
    const cacheDir = join(dir, 'stale');
    let now = Date.parse('2026-03-01T10:00:00Z');
    await estimatorAt(cacheDir, () => now).estimate({
      endpointId: 'fal-ai/nano-banana-pro',
      input: { prompt: 'x' },
    });
    now += 3 * 24 * 60 * 60 * 1000;
    const offline = createCostEstimator({
      apiUrl: `${emulator.url}/v1`,
      // Nothing listens here: the call fails at once.
      platform: platformFor(emulator, {
        apiUrl: 'http://127.0.0.1:9/v1',
        retry: { maxRetries: 0 },
      }),
      cacheDir,
      now: () => now,
    });
    const result = await offline.estimate({
      endpointId: 'fal-ai/nano-banana-pro',
      input: { prompt: 'x' },
    });
    expect(result.estimate?.usd).toBe(0.15);
    expect(result.notes?.[0]).toMatch(/could not be asked.*cached at 2026-03-01T10:00:00/);
  });
});
