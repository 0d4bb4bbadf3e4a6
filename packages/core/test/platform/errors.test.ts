import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Emulator, startEmulator } from '@falai/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  ApiError,
  AuthError,
  type FalaiError,
  InputError,
  NetworkError,
  RateLimitError,
} from '../../src/errors/index.js';
import { createPlatformClient, type PlatformClient } from '../../src/platform/index.js';
import {
  ADMIN_KEY,
  API_KEY,
  API_SECRET,
  platformCalls,
  platformFor,
  startPlatformEmulator,
} from './harness.js';

let emulator: Emulator;
let platform: PlatformClient;
beforeAll(async () => {
  emulator = await startPlatformEmulator();
  platform = platformFor(emulator);
});
afterEach(() => {
  emulator.clearFaults();
  emulator.clearLog();
});
afterAll(async () => {
  await emulator.close();
});

const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error as FalaiError,
  );

/** Everything an error shows: message and JSON. */
const shown = (error: FalaiError) => `${error.message} ${JSON.stringify(error.toJSON())}`;

describe('the Platform error envelope mapped to falai codes', () => {
  it('401 → AUTH_REJECTED, never showing the key', async () => {
    const stranger = platformFor(emulator, { credentials: 'stranger-id:stranger-secret-91ab' });
    const error = await caught(stranger.getPrices(['fal-ai/flux/dev']));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('AUTH_REJECTED');
    expect(error.details).toMatchObject({ status: 401, type: 'authorization_error' });
    expect(shown(error)).not.toContain('stranger-secret-91ab');
  });

  it('redacts a key that fal echoes in its message', async () => {
    emulator.inject({
      match: { kind: 'platform' },
      action: {
        type: 'status',
        status: 401,
        body: { error: { type: 'authorization_error', message: `Unknown key ${API_KEY}` } },
      },
      times: 1,
    });
    const error = await caught(platform.getPrices(['fal-ai/flux/dev']));
    expect(error.code).toBe('AUTH_REJECTED');
    expect(shown(error)).not.toContain(API_SECRET);
  });

  it('404 → NOT_FOUND, 422 → INPUT_INVALID', async () => {
    const missing = await caught(platform.getPrices(['fal-ai/not-a-model']));
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing.code).toBe('NOT_FOUND');
    expect((missing as ApiError).errorType).toBe('not_found');
    expect(missing.message).toContain('fal-ai/not-a-model');
    const invalid = await caught(platform.listModels({ limit: 5000 }));
    expect(invalid).toBeInstanceOf(InputError);
    expect(invalid.code).toBe('INPUT_INVALID');
    expect(invalid.details).toMatchObject({ status: 422, type: 'validation_error' });
    const cursor = await caught(platform.listModels({ cursor: 'garbage!' }));
    expect(cursor.code).toBe('INPUT_INVALID');
    // Nothing was retried: these are final answers.
    expect(platformCalls(emulator)).toHaveLength(3);
  });

  it('500 after retries → API_ERROR (retryable), a 503 in between is retried away', async () => {
    const delays: number[] = [];
    const client = platformFor(emulator, {
      retry: { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 5 },
      _internal: { sleep: async (ms) => void delays.push(ms) },
    });
    emulator.inject({
      match: { kind: 'platform' },
      action: {
        type: 'status',
        status: 500,
        body: { error: { type: 'server_error', message: 'boom' } },
      },
    });
    const error = await caught(client.listModels());
    expect(error.code).toBe('API_ERROR');
    expect((error as ApiError).retryable).toBe(true);
    expect(error.message).toContain('boom');
    expect(platformCalls(emulator)).toHaveLength(3);
    expect(delays).toHaveLength(2);
    emulator.clearFaults();
    emulator.inject({
      match: { kind: 'platform' },
      action: { type: 'status', status: 503 },
      times: 1,
    });
    expect((await client.listModels({ limit: 1 })).items).toHaveLength(1);
  });

  it('a body that is not the documented shape, or not JSON, is an API_ERROR', async () => {
    emulator.inject({
      match: { kind: 'platform' },
      action: { type: 'status', status: 200, body: { models: 'nope' } },
      times: 1,
    });
    const shape = await caught(platform.listModels());
    expect(shape.code).toBe('API_ERROR');
    expect(shape.message).toContain('models');
    emulator.inject({
      match: { kind: 'platform' },
      action: { type: 'status', status: 200, body: '<html>captive portal</html>' },
      times: 1,
    });
    expect((await caught(platform.listModels())).code).toBe('API_ERROR');
  });

  it('caps the body size', async () => {
    const small = platformFor(emulator, { maxOpenApiBodyBytes: 2000 });
    const error = await caught(small.listModels({ openapi: true }));
    expect(error.code).toBe('API_ERROR');
    expect(error.message).toMatch(/more than/);
  });

  it('refuses a body cap or timeout that is not a positive number (NaN would turn the cap off)', () => {
    for (const name of ['maxBodyBytes', 'maxOpenApiBodyBytes', 'timeoutMs'] as const) {
      for (const value of [Number.NaN, 0, -1, Number.POSITIVE_INFINITY]) {
        let error: unknown;
        try {
          platformFor(emulator, { [name]: value });
        } catch (thrown) {
          error = thrown;
        }
        expect(error, `${name} ${value}`).toBeInstanceOf(InputError);
        expect((error as InputError).message).toBe(
          `${name} must be a positive number, got ${value}.`,
        );
      }
    }
  });

  it('a cap of 100 bytes stops a catalogue page', async () => {
    const small = platformFor(emulator, { maxBodyBytes: 100 });
    const error = await caught(small.listModels());
    expect(error.code).toBe('API_ERROR');
    expect(error.message).toContain('answered more than 100 bytes');
  });
});

describe("bounds on fal's amounts and text", () => {
  const answer = (path: string, body: unknown) =>
    emulator.inject({
      match: { kind: 'platform', path: `/v1${path}` },
      action: { type: 'status', status: 200, body },
      times: 1,
    });
  const prices = (entry: Record<string, unknown>) => ({
    prices: [
      { endpoint_id: 'fal-ai/flux/dev', unit_price: 0.025, unit: 'megapixels' },
      { endpoint_id: 'a/b', unit_price: 1, unit: 'images', ...entry },
    ],
    has_more: false,
  });

  it('refuses a price page with one price that is infinite, negative or too long to keep', async () => {
    const hostile: Record<string, Record<string, unknown>> = {
      'unit_price "1e999"': { unit_price: '1e999' },
      'negative unit_price': { unit_price: -0.5 },
      '101-character unit': { unit: 'u'.repeat(101) },
      '11-character currency': { currency: 'DOLLARSXXXX' },
      '301-character endpoint id': { endpoint_id: `a/${'b'.repeat(299)}` },
    };
    for (const [what, entry] of Object.entries(hostile)) {
      answer('/models/pricing', prices(entry));
      const error = await caught(platform.getPrices(['fal-ai/flux/dev']));
      expect(error.code, what).toBe('API_ERROR');
      expect(error.message, what).toContain('in a shape falai does not understand (prices.1.');
    }
    // At the bounds it is accepted.
    answer(
      '/models/pricing',
      prices({
        endpoint_id: `a/${'b'.repeat(298)}`,
        unit_price: 0,
        unit: 'u'.repeat(100),
        currency: 'USD',
      }),
    );
    expect(await platform.getPrices(['fal-ai/flux/dev'])).toHaveLength(2);
  });

  it('refuses a number JSON cannot hold (1e999 parses to Infinity)', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        '{"prices":[{"endpoint_id":"fal-ai/flux/dev","unit_price":1e999,"unit":"images"}],"has_more":false}',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = createPlatformClient({
        credentials: API_KEY,
        apiUrl: `http://127.0.0.1:${port}/v1`,
      });
      const error = await caught(client.getPrices(['fal-ai/flux/dev']));
      expect(error.code).toBe('API_ERROR');
      expect(error.message).toContain('(prices.0.unit_price:');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses a billed cost above $1,000,000, a negative estimate and a negative balance', async () => {
    const admin = platformFor(emulator, { credentials: ADMIN_KEY });
    const events = (costTotal: number) => ({
      billing_events: [
        {
          request_id: 'r-1',
          endpoint_id: 'fal-ai/flux/dev',
          timestamp: '2026-11-29T12:00:00Z',
          cost_total: costTotal,
        },
      ],
      has_more: false,
    });
    answer('/models/billing-events', events(1_000_000.01));
    expect((await caught(admin.listBillingEvents())).code).toBe('API_ERROR');
    answer('/models/billing-events', events(1_000_000));
    expect((await admin.listBillingEvents()).items[0]?.costTotal).toBe(1_000_000);

    answer('/models/pricing/estimate', { estimate_type: 'unit_price', total_cost: -1 });
    const estimate = platform.estimateCost({
      estimateType: 'unit_price',
      endpoints: { 'fal-ai/flux/dev': 1 },
    });
    expect((await caught(estimate)).code).toBe('API_ERROR');

    answer('/account/billing', { username: 'contract', credits: { current_balance: -3 } });
    expect((await caught(admin.getAccountBilling({ credits: true }))).code).toBe('API_ERROR');
  });
});

describe('retries on 429 honour Retry-After', () => {
  it('waits what Retry-After asks, then succeeds', async () => {
    const delays: number[] = [];
    const client = platformFor(emulator, {
      _internal: { sleep: async (ms) => void delays.push(ms) },
    });
    emulator.inject({
      match: { kind: 'platform', path: '/v1/models/pricing' },
      action: {
        type: 'status',
        status: 429,
        retryAfterSeconds: 3,
        body: { error: { type: 'rate_limited', message: 'slow down' } },
      },
      times: 2,
    });
    const prices = await client.getPrices(['fal-ai/flux/dev']);
    expect(prices[0]?.endpointId).toBe('fal-ai/flux/dev');
    expect(delays).toEqual([3000, 3000]);
    expect(platformCalls(emulator, '/models/pricing').map((entry) => entry.status)).toEqual([
      429, 429, 200,
    ]);
  });

  it('against a real rate limit: the retry after Retry-After gets through', async () => {
    const limited = await startEmulator({
      deterministic: true,
      strict: true,
      keys: { accept: [API_KEY] },
      platform: { rateLimit: { requests: 1, windowMs: 1000 } },
    });
    try {
      const asked: number[] = [];
      const client = platformFor(limited, {
        _internal: {
          sleep: (ms, signal) => {
            asked.push(ms);
            return new Promise((resolve, reject) => {
              const timer = setTimeout(resolve, ms);
              signal?.addEventListener('abort', () => {
                clearTimeout(timer);
                reject(signal.reason);
              });
            });
          },
        },
      });
      await client.listModels({ limit: 1 });
      const page = await client.listModels({ limit: 1 });
      expect(page.items).toHaveLength(1);
      expect(asked).toEqual([1000]);
      const statuses = limited.log
        .filter((entry) => entry.kind === 'platform')
        .map((e) => e.status);
      expect(statuses).toEqual([200, 429, 200]);
    } finally {
      await limited.close();
    }
  });

  it('gives up with RATE_LIMITED (and the wait fal asked for) when retries run out or the wait is too long', async () => {
    emulator.inject({
      match: { kind: 'platform' },
      action: {
        type: 'status',
        status: 429,
        retryAfterSeconds: 7,
        body: { error: { type: 'rate_limited', message: 'slow down' } },
      },
    });
    const noRetry = platformFor(emulator, { retry: { maxRetries: 0 } });
    const error = await caught(noRetry.listModels());
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.code).toBe('RATE_LIMITED');
    expect((error as RateLimitError).retryAfterMs).toBe(7000);
    expect(error.message).toContain('7 s');
    emulator.clearLog();
    const impatient = platformFor(emulator, { retry: { maxRetryAfterMs: 5000 } });
    expect((await caught(impatient.listModels())).code).toBe('RATE_LIMITED');
    expect(platformCalls(emulator)).toHaveLength(1);
  });
});

describe('transport', () => {
  it('NETWORK_ERROR when nothing listens, after its retries', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = createPlatformClient({
      credentials: API_KEY,
      apiUrl: `http://127.0.0.1:${port}/v1`,
      retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const error = await caught(client.listModels());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.details).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('TIMEOUT per attempt and ABORTED by the caller', async () => {
    emulator.inject({ match: { kind: 'platform' }, action: { type: 'delay', ms: 300 } });
    const slow = platformFor(emulator, { timeoutMs: 50 });
    const timeout = await caught(slow.listModels());
    expect(timeout).toBeInstanceOf(AbortedError);
    expect(timeout.code).toBe('TIMEOUT');
    const controller = new AbortController();
    const pending = caught(platform.listModels({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    expect((await pending).code).toBe('ABORTED');
  });

  it('refuses a second search kind before sending anything', async () => {
    const error = await caught(
      platform.searchRequests({ query: 'a', imageUrl: 'https://x/y.png' }),
    );
    expect(error.code).toBe('INPUT_INVALID');
    expect(platformCalls(emulator)).toHaveLength(0);
  });
});

describe('unconfirmed details', () => {
  it('[?] reads a unit price sent as a numeric string (seen in one public client) as a number', async () => {
    emulator.inject({
      match: { kind: 'platform', path: '/v1/models/pricing' },
      action: {
        type: 'status',
        status: 200,
        body: {
          prices: [
            {
              endpoint_id: 'fal-ai/flux/dev',
              unit_price: '0.0024075',
              unit: 'megapixels',
              currency: 'USD',
            },
          ],
          next_cursor: null,
          has_more: false,
        },
      },
      times: 1,
    });
    const [price] = await platform.getPrices(['fal-ai/flux/dev']);
    expect(price?.unitPrice).toBe(0.0024075);
  });
});
