import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestExpectation } from '../../src/lifecycle/eta.js';
import { platformFor, queueFor, startPlatformEmulator } from '../platform/harness.js';

/**
 * What fal expects of a request, over HTTP: the catalogue's `duration_estimate` and the last
 * day's analytics percentiles of the requests the emulator served.
 */
let emulator: Emulator;
beforeAll(async () => {
  emulator = await startPlatformEmulator();
});
afterAll(async () => {
  await emulator.close();
});

describe('requestExpectation', () => {
  it('reads the duration estimate and the run and queue percentiles', async () => {
    const client = queueFor(emulator);
    for (const prompt of ['one', 'two', 'three']) {
      const { requestId } = await client.submit('fal-ai/flux/dev', { prompt });
      await client.wait('fal-ai/flux/dev', requestId);
    }
    const expected = await requestExpectation({
      platform: platformFor(emulator),
      endpointId: 'fal-ai/flux/dev',
    });
    expect(expected.durationEstimateS).toBe(4);
    const analytics = await platformFor(emulator).getAnalytics({
      endpointIds: ['fal-ai/flux/dev'],
      metrics: ['p50_duration', 'p90_duration', 'p50_prepare_duration', 'p90_prepare_duration'],
      summary: true,
    });
    const metrics = analytics.summary?.[0]?.metrics ?? {};
    expect(expected).toEqual({
      durationEstimateS: 4,
      runP50S: metrics.p50_duration,
      runP90S: metrics.p90_duration,
      queueP50S: metrics.p50_prepare_duration,
      queueP90S: metrics.p90_prepare_duration,
    });
    expect(expected.runP50S).toBeGreaterThan(0);
  });

  it('keeps what is known when fal cannot be asked, and never throws', async () => {
    const expected = await requestExpectation({
      platform: platformFor(emulator, {
        apiUrl: 'http://127.0.0.1:9/v1',
        retry: { maxRetries: 0 },
      }),
      endpointId: 'fal-ai/nano-banana-pro',
      known: { durationEstimateS: 18 },
    });
    expect(expected).toEqual({ durationEstimateS: 18 });
  });
});
