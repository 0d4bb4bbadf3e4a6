import { createHash, createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseExact, pythonDumps } from '../src/json.js';
import { retrySchedule } from '../src/webhook-delivery.js';
import { completion, type Json, json, setup, submit, until } from './helpers.js';

interface Delivery {
  headers: IncomingMessage['headers'];
  raw: Buffer;
}

let ctx: Awaited<ReturnType<typeof setup>>;
let receiver: Server;
let hookUrl: string;
let deliveries: Delivery[];
let failFirst: number;

beforeEach(async () => {
  ctx = await setup();
  deliveries = [];
  failFirst = 0;
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    deliveries.push({ headers: req.headers, raw: Buffer.concat(chunks) });
    res.statusCode = deliveries.length <= failFirst ? 500 : 200;
    res.end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterEach(async () => {
  await ctx.stop();
  // Idle keep-alive sockets from the emulator's fetch would hold close() for seconds.
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

/** Verifies a delivery as a receiver would: JWKS fetched over HTTP, any key may match. */
async function verifies(delivery: Delivery, jwksUrl: string): Promise<boolean> {
  const jwks = await json(await fetch(jwksUrl));
  const h = delivery.headers;
  const message = [
    h['x-fal-webhook-request-id'],
    h['x-fal-webhook-user-id'],
    h['x-fal-webhook-timestamp'],
    createHash('sha256').update(delivery.raw).digest('hex'),
  ].join('\n');
  const signature = Buffer.from(String(h['x-fal-webhook-signature']), 'hex');
  return jwks.keys.some((jwk: Json) =>
    verify(
      null,
      Buffer.from(message),
      createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' }),
      signature,
    ),
  );
}

describe('webhooks', () => {
  it('posts a signed OK delivery that verifies against the served JWKS', async () => {
    const { emulator } = ctx;
    const jwks = await json(await fetch(`${emulator.url}/.well-known/jwks.json`));
    expect(jwks.keys).toEqual([
      expect.objectContaining({
        kty: 'OKP',
        crv: 'Ed25519',
        x: expect.any(String),
        kid: expect.any(String),
      }),
    ]);
    expect(jwks).toEqual(emulator.jwks);
    const job = await submit(
      emulator,
      'acme/painter',
      { prompt: 'p' },
      {},
      `?fal_webhook=${encodeURIComponent(hookUrl)}`,
    );
    await until(() => deliveries.length === 1, 'delivery');
    const delivery = deliveries[0] as Delivery;
    const body = JSON.parse(delivery.raw.toString('utf8'));
    expect(body).toMatchObject({
      request_id: job.request_id,
      gateway_request_id: job.request_id,
      status: 'OK',
      payload: { images: [expect.objectContaining({ content_type: 'image/png' })] },
    });
    expect(delivery.headers['x-fal-webhook-request-id']).toBe(job.request_id);
    expect(delivery.headers['x-fal-webhook-user-id']).toMatch(/^user-[0-9a-f]{16}$/);
    expect(
      Math.abs(Number(delivery.headers['x-fal-webhook-timestamp']) - Date.now() / 1000),
    ).toBeLessThan(300);
    expect(await verifies(delivery, `${emulator.url}/.well-known/jwks.json`)).toBe(true);
    const tampered = { ...delivery, raw: Buffer.concat([delivery.raw, Buffer.from(' ')]) };
    expect(await verifies(tampered, `${emulator.url}/.well-known/jwks.json`)).toBe(false);
    await until(() => emulator.stats.webhookDeliveries === 1, 'delivery logged');
    const logged = emulator.log.find((entry) => entry.kind === 'webhook-delivery');
    expect(logged).toMatchObject({ status: 200, path: hookUrl });
    // The log keeps the exact signed bytes, so a test can replay the delivery.
    expect(logged?.rawBody).toBe(delivery.raw.toString('utf8'));
  });

  it('retries after a non-2xx answer and delivers ERROR payloads for 422s', async () => {
    const { emulator } = ctx;
    failFirst = 2;
    const job = await submit(
      emulator,
      'acme/painter',
      {},
      {},
      `?fal_webhook=${encodeURIComponent(hookUrl)}`,
    );
    await completion(emulator, job.request_id);
    await until(() => deliveries.length === 3, 'three attempts');
    const bodies = deliveries.map((delivery) => JSON.parse(delivery.raw.toString('utf8')));
    expect(bodies[2]).toMatchObject({
      request_id: job.request_id,
      status: 'ERROR',
      error: 'Invalid status code: 422',
      payload: { detail: [{ loc: ['body', 'prompt'], type: 'missing' }] },
    });
    for (const delivery of deliveries) {
      expect(await verifies(delivery, `${emulator.url}/.well-known/jwks.json`)).toBe(true);
    }
    await until(() => emulator.stats.webhookDeliveries === 3, 'deliveries logged');
    const statuses = emulator.log.filter((e) => e.kind === 'webhook-delivery').map((e) => e.status);
    expect(statuses).toEqual([500, 500, 200]);
  });

  it('gives up after the configured retries and records connection errors', async () => {
    const { emulator } = ctx;
    await new Promise((resolve) => receiver.close(resolve));
    receiver.listen(0);
    const job = await submit(
      emulator,
      'acme/painter',
      { prompt: 'p' },
      {},
      `?fal_webhook=${encodeURIComponent(hookUrl)}`,
    );
    await completion(emulator, job.request_id);
    await until(() => emulator.stats.webhookDeliveries === 4, 'four attempts');
    const attempts = emulator.log.filter((entry) => entry.kind === 'webhook-delivery');
    expect(attempts.every((entry) => entry.status === 0 && entry.error)).toBe(true);
  });

  it('refuses non-loopback webhook URLs without contacting them', async () => {
    const { emulator } = ctx;
    const job = await submit(
      emulator,
      'acme/painter',
      { prompt: 'p' },
      {},
      '?fal_webhook=https%3A%2F%2Fexample.com%2Fhook',
    );
    await completion(emulator, job.request_id);
    await until(() => emulator.stats.webhookDeliveries === 1, 'refusal logged');
    expect(emulator.log.find((entry) => entry.kind === 'webhook-delivery')).toMatchObject({
      status: 0,
      error: expect.stringContaining('loopback'),
    });
  });

  it('rotates the signing key so clients must refresh the JWKS', async () => {
    const { emulator } = ctx;
    const before = (emulator.jwks.keys[0] as Json).kid;
    const kid = emulator.rotateWebhookKey();
    expect(kid).not.toBe(before);
    const served = await json(await fetch(`${emulator.url}/.well-known/jwks.json`));
    expect(served.keys.map((key: Json) => key.kid)).toEqual([kid]);
    const kept = emulator.rotateWebhookKey({ keepPrevious: true });
    expect(emulator.jwks.keys.map((key) => (key as Json).kid)).toEqual([kept, kid]);
    await submit(
      emulator,
      'acme/painter',
      { prompt: 'p' },
      {},
      `?fal_webhook=${encodeURIComponent(hookUrl)}`,
    );
    await until(() => deliveries.length === 1, 'delivery');
    expect(await verifies(deliveries[0] as Delivery, `${emulator.url}/.well-known/jwks.json`)).toBe(
      true,
    );
  });

  it('serialises the body as fal does: Python json.dumps, sorted keys, error null, exact 64-bit seed', async () => {
    const { emulator } = ctx;
    const seed = 17454220438242315174n;
    const job = await submit(
      emulator,
      'acme/flux/dev/image-to-image',
      { prompt: 'dog', image_url: 'http://127.0.0.1/in.png', seed: null },
      {},
      `?fal_webhook=${encodeURIComponent(hookUrl)}`,
    );
    await until(() => deliveries.length === 1, 'delivery');
    const first = deliveries[0] as Delivery;
    const text = first.raw.toString('utf8');
    const parsed = parseExact(text) as Json;
    expect(Object.keys(parsed)).toEqual([
      'error',
      'gateway_request_id',
      'payload',
      'request_id',
      'status',
    ]);
    expect(parsed).toMatchObject({ error: null, status: 'OK', request_id: job.request_id });
    expect(text).toBe(pythonDumps(parsed));
    expect(text.startsWith('{"error": null, "gateway_request_id": "')).toBe(true);
    expect(Object.keys(parsed.payload)).toEqual([
      'has_nsfw_concepts',
      'images',
      'prompt',
      'seed',
      'timings',
    ]);
    // Without a seed the app draws a 64-bit one.
    expect(typeof parsed.payload.seed).toBe('bigint');

    // A seed above 2^53 goes in and comes back digit for digit, on the wire and at result.
    deliveries = [];
    const response = await fetch(
      `${emulator.url}/acme/flux/dev/image-to-image?fal_webhook=${encodeURIComponent(hookUrl)}`,
      {
        method: 'POST',
        headers: { authorization: 'Key test-id:test-secret', 'content-type': 'application/json' },
        body: `{"prompt":"dog","image_url":"http://127.0.0.1/in.png","seed":${seed}}`,
      },
    );
    const exact = (await response.json()) as { request_id: string; response_url: string };
    await completion(emulator, exact.request_id);
    expect(emulator.job(exact.request_id)?.input).toMatchObject({ seed });
    await until(() => deliveries.length === 1, 'second delivery');
    const raw = (deliveries[0] as Delivery).raw.toString('utf8');
    expect(raw).toContain(`"seed": ${seed},`);
    const result = await fetch(exact.response_url, {
      headers: { authorization: 'Key test-id:test-secret' },
    });
    expect(await result.text()).toContain(`"seed":${seed},`);
    expect(await verifies(deliveries[0] as Delivery, `${emulator.url}/.well-known/jwks.json`)).toBe(
      true,
    );
  });

  it('[?] carries payload: null and payload_error when the model is set up so (text guessed)', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { webhookPayloadError: true });
    const job = await submit(
      emulator,
      'acme/painter',
      { prompt: 'p' },
      {},
      `?fal_webhook=${encodeURIComponent(hookUrl)}`,
    );
    await until(() => deliveries.length === 1, 'delivery');
    const body = JSON.parse((deliveries[0] as Delivery).raw.toString('utf8'));
    expect(body).toEqual({
      error: null,
      gateway_request_id: job.request_id,
      payload: null,
      payload_error: expect.stringContaining('response_url'),
      request_id: job.request_id,
      status: 'OK',
    });
    // The output itself is still there for a poll.
    await completion(emulator, job.request_id);
    expect(emulator.job(job.request_id)?.output).toBeDefined();
  });

  it('makes a share of deliveries carry payload_error with webhook.payloadErrorRate', async () => {
    await ctx.stop();
    ctx = await setup({ webhook: { retries: 0, retryDelayMs: 0, payloadErrorRate: 1 } });
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { webhookPayloadError: 'too big' });
    await submit(
      emulator,
      'acme/painter',
      { prompt: 'p' },
      {},
      `?fal_webhook=${encodeURIComponent(hookUrl)}`,
    );
    emulator.setModel('acme/painter', {});
    await submit(
      emulator,
      'acme/painter',
      { prompt: 'q' },
      {},
      `?fal_webhook=${encodeURIComponent(hookUrl)}`,
    );
    await until(() => deliveries.length === 2, 'deliveries');
    const errors = deliveries.map((d) => JSON.parse(d.raw.toString('utf8')).payload_error).sort();
    expect(errors).toEqual([expect.stringContaining('response_url'), 'too big']);
  });

  it("[?] spreads 10 retries exponentially over fal's 2 hours, scaled by timeScale", async () => {
    const schedule = retrySchedule(10, 7_200_000);
    expect(schedule).toHaveLength(10);
    expect(schedule.reduce((sum, wait) => sum + wait, 0)).toBeCloseTo(7_200_000, 3);
    for (let index = 1; index < schedule.length; index++) {
      expect(schedule[index]).toBeCloseTo((schedule[index - 1] as number) * 2, 6);
    }
    expect(schedule[0]).toBeCloseTo(7_038.1, 1);
    expect(retrySchedule(0, 1000)).toEqual([]);

    // The default schedule, at 1/100,000 of fal's time (72 ms in all): 11 attempts, then stop.
    await ctx.stop();
    ctx = await setup({ webhook: {}, timeScale: 0.00001 });
    const { emulator } = ctx;
    failFirst = 100;
    const job = await submit(
      emulator,
      'acme/painter',
      { prompt: 'p' },
      {},
      `?fal_webhook=${encodeURIComponent(hookUrl)}`,
    );
    await completion(emulator, job.request_id);
    await until(() => emulator.stats.webhookDeliveries === 11, 'eleven attempts');
    // Let a (wrong) twelfth attempt show up if there were one.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(deliveries).toHaveLength(11);
  });
});
