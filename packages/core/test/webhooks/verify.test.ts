import { describe, expect, it } from 'vitest';
import { createWebhookVerifier, verifyWebhook } from '../../src/index.js';
import { webhookJwksUrl } from '../../src/internal.js';
import { closeAfterEach, makeKey, signDelivery, startJwksServer, type TestKey } from './helpers.js';

const body = JSON.stringify({ request_id: 'req-1', status: 'OK', payload: { images: [] } });
const T0 = 1_800_000_000; // Unix seconds; the verifier's clock is pinned to it

const closing = closeAfterEach();

async function setup(keys: TestKey[], extra: { minRefreshIntervalMs?: number } = {}) {
  const jwks = closing(await startJwksServer(keys));
  const clock = { now: T0 * 1000 };
  const verifier = createWebhookVerifier({
    jwksUrl: jwks.url,
    now: () => clock.now,
    ...extra,
  });
  return { verifier, clock, jwks };
}

describe('verifyWebhook', () => {
  it('accepts a valid delivery and reports who sent it', async () => {
    const key = makeKey('k1');
    const { verifier } = await setup([key]);
    const headers = signDelivery({ key, body, requestId: 'req-1', timestamp: T0 });
    const result = await verifier.verify({ headers, rawBody: body });
    expect(result).toEqual({
      ok: true,
      requestId: 'req-1',
      userId: 'user-1',
      timestamp: T0,
      keyId: 'k1',
    });
    // Bytes and strings are the same body; a Headers object works as well as a record.
    const again = await verifier.verify({
      headers: new Headers(headers),
      rawBody: new TextEncoder().encode(body),
    });
    expect(again.ok).toBe(true);
    expect(verifier.jwksFetches).toBe(1);
  });

  it('accepts a key among several, and skips keys that are not Ed25519', async () => {
    const key = makeKey();
    const jwks = closing(await startJwksServer([makeKey(), key]));
    jwks.keys = [
      { privateKey: key.privateKey, jwk: { kty: 'RSA', crv: '', x: 'abc' } },
      makeKey(),
      key,
    ];
    const verifier = createWebhookVerifier({ jwksUrl: jwks.url, now: () => T0 * 1000 });
    const headers = signDelivery({ key, body, requestId: 'req-1', timestamp: T0 });
    expect((await verifier.verify({ headers, rawBody: body })).ok).toBe(true);
  });

  it('rejects a tampered body', async () => {
    const key = makeKey();
    const { verifier } = await setup([key]);
    const headers = signDelivery({ key, body, requestId: 'req-1', timestamp: T0 });
    const tampered = body.replace('"OK"', '"ERROR"');
    const result = await verifier.verify({ headers, rawBody: tampered });
    expect(result).toMatchObject({ ok: false, reason: 'bad-signature' });
    // Re-serialising the JSON (even without changing it semantically) also breaks it.
    const reserialised = JSON.stringify(JSON.parse(body), null, 1);
    expect(await verifier.verify({ headers, rawBody: reserialised })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('rejects tampered signed headers', async () => {
    const key = makeKey();
    const { verifier } = await setup([key]);
    const headers = signDelivery({ key, body, requestId: 'req-1', timestamp: T0 });
    for (const [name, value] of [
      ['x-fal-webhook-request-id', 'req-2'],
      ['x-fal-webhook-user-id', 'someone-else'],
      ['x-fal-webhook-timestamp', String(T0 + 1)],
    ] as const) {
      const result = await verifier.verify({
        headers: { ...headers, [name]: value },
        rawBody: body,
      });
      expect(result, name).toMatchObject({ ok: false, reason: 'bad-signature' });
    }
  });

  it('rejects a delivery signed with another key', async () => {
    const { verifier } = await setup([makeKey()]);
    const headers = signDelivery({ key: makeKey(), body, requestId: 'req-1', timestamp: T0 });
    const result = await verifier.verify({ headers, rawBody: body });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe('bad-signature');
      expect(result.message).toMatch(/not sent by fal/);
    }
  });

  it('enforces the ±300 s window at both edges', async () => {
    const key = makeKey();
    const { verifier } = await setup([key]);
    const at = async (timestamp: number) =>
      verifier.verify({
        headers: signDelivery({ key, body, requestId: 'req-1', timestamp }),
        rawBody: body,
      });
    expect(await at(T0 - 301)).toMatchObject({ ok: false, reason: 'stale' });
    expect(await at(T0 + 301)).toMatchObject({ ok: false, reason: 'future' });
    expect((await at(T0 - 300)).ok).toBe(true);
    expect((await at(T0 + 300)).ok).toBe(true);
    expect((await at(T0 - 299)).ok).toBe(true);
  });

  it('takes the time per call and honours toleranceSeconds', async () => {
    const key = makeKey();
    const jwks = closing(await startJwksServer([key]));
    const verifier = createWebhookVerifier({ jwksUrl: jwks.url, toleranceSeconds: 10 });
    const headers = signDelivery({ key, body, requestId: 'req-1', timestamp: T0 });
    expect(
      await verifier.verify({ headers, rawBody: body, now: new Date(T0 * 1000 + 11_000) }),
    ).toMatchObject({ ok: false, reason: 'stale' });
    expect((await verifier.verify({ headers, rawBody: body, now: T0 * 1000 + 9_000 })).ok).toBe(
      true,
    );
  });

  it('names missing headers and rejects malformed ones without fetching keys', async () => {
    const key = makeKey();
    const { verifier, jwks } = await setup([key]);
    const headers = signDelivery({ key, body, requestId: 'req-1', timestamp: T0 });
    const { 'x-fal-webhook-signature': _signature, ...unsigned } = headers;
    const missing = await verifier.verify({ headers: unsigned, rawBody: body });
    expect(missing).toMatchObject({ ok: false, reason: 'missing-header' });
    if (!missing.ok) expect(missing.message).toContain('x-fal-webhook-signature');
    expect(await verifier.verify({ headers: {}, rawBody: body })).toMatchObject({
      reason: 'missing-header',
    });

    const malformed: Record<string, string>[] = [
      { ...headers, 'x-fal-webhook-timestamp': 'yesterday' },
      { ...headers, 'x-fal-webhook-timestamp': '-5' },
      { ...headers, 'x-fal-webhook-signature': 'zz'.repeat(64) },
      { ...headers, 'x-fal-webhook-signature': headers['x-fal-webhook-signature']!.slice(2) },
      { ...headers, 'x-fal-webhook-request-id': '' },
    ];
    for (const bad of malformed) {
      expect(await verifier.verify({ headers: bad, rawBody: body })).toMatchObject({
        ok: false,
        reason: 'malformed-header',
      });
    }
    // Case-insensitive header names are fine.
    const upper = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name.toUpperCase(), value]),
    );
    expect((await verifier.verify({ headers: upper, rawBody: body })).ok).toBe(true);
    expect(jwks.fetches).toBe(1);
  });

  it('refreshes the JWKS exactly once for a rotated key', async () => {
    const oldKey = makeKey('old');
    const newKey = makeKey('new');
    const { verifier, clock, jwks } = await setup([oldKey], { minRefreshIntervalMs: 60_000 });
    const signed = (key: TestKey) =>
      signDelivery({ key, body, requestId: 'req-1', timestamp: Math.floor(clock.now / 1000) });

    expect((await verifier.verify({ headers: signed(oldKey), rawBody: body })).ok).toBe(true);
    expect(jwks.fetches).toBe(1);

    // fal rotates its key a while later: the unknown signature triggers one refresh.
    jwks.keys = [newKey];
    clock.now += 120_000;
    const rotated = await verifier.verify({ headers: signed(newKey), rawBody: body });
    expect(rotated).toMatchObject({ ok: true, keyId: 'new' });
    expect(jwks.fetches).toBe(2);
    // …and the refreshed keys are then served from the cache.
    expect((await verifier.verify({ headers: signed(newKey), rawBody: body })).ok).toBe(true);
    expect(jwks.fetches).toBe(2);
  });

  it('does not let a flood of forged deliveries hammer the JWKS', async () => {
    const key = makeKey();
    const { verifier, clock, jwks } = await setup([key], { minRefreshIntervalMs: 60_000 });
    const forged = () =>
      signDelivery({
        key: makeKey(),
        body,
        requestId: 'req-1',
        timestamp: Math.floor(clock.now / 1000),
      });

    const first = await Promise.all(
      Array.from({ length: 50 }, () => verifier.verify({ headers: forged(), rawBody: body })),
    );
    expect(first.every((result) => !result.ok && result.reason === 'bad-signature')).toBe(true);
    expect(jwks.fetches).toBe(1); // the initial fetch; a refresh right after it is refused

    clock.now += 61_000;
    for (let i = 0; i < 50; i += 1) {
      expect((await verifier.verify({ headers: forged(), rawBody: body })).ok).toBe(false);
    }
    expect(jwks.fetches).toBe(2); // one refresh for the whole interval

    clock.now += 30_000;
    await verifier.verify({ headers: forged(), rawBody: body });
    expect(jwks.fetches).toBe(2);
    clock.now += 31_000;
    await verifier.verify({ headers: forged(), rawBody: body });
    expect(jwks.fetches).toBe(3);
  });

  it('fetches again once the cache TTL has passed', async () => {
    const key = makeKey();
    const { verifier, clock, jwks } = await setup([key]);
    const signed = () =>
      signDelivery({ key, body, requestId: 'r', timestamp: Math.floor(clock.now / 1000) });
    await verifier.verify({ headers: signed(), rawBody: body });
    clock.now += 23 * 3_600_000;
    await verifier.verify({ headers: signed(), rawBody: body });
    expect(jwks.fetches).toBe(1);
    clock.now += 3_600_000; // 24 h: the most fal allows
    expect((await verifier.verify({ headers: signed(), rawBody: body })).ok).toBe(true);
    expect(jwks.fetches).toBe(2);
  });

  it('reports an unreachable or empty JWKS, and retries it only after the interval', async () => {
    const key = makeKey();
    const { verifier, clock, jwks } = await setup([key], { minRefreshIntervalMs: 60_000 });
    const signed = () =>
      signDelivery({ key, body, requestId: 'r', timestamp: Math.floor(clock.now / 1000) });
    jwks.status = 503;
    const down = await verifier.verify({ headers: signed(), rawBody: body });
    expect(down).toMatchObject({ ok: false, reason: 'jwks-unavailable' });
    if (!down.ok) expect(down.message).toContain('HTTP 503');
    jwks.status = 200;
    expect(await verifier.verify({ headers: signed(), rawBody: body })).toMatchObject({
      reason: 'jwks-unavailable',
    });
    expect(jwks.fetches).toBe(1);
    clock.now += 60_000;
    expect((await verifier.verify({ headers: signed(), rawBody: body })).ok).toBe(true);
    expect(jwks.fetches).toBe(2);

    const empty = createWebhookVerifier({ jwksUrl: jwks.url, now: () => clock.now });
    jwks.keys = [];
    expect(await empty.verify({ headers: signed(), rawBody: body })).toMatchObject({
      ok: false,
      reason: 'no-keys',
    });

    const closed = createWebhookVerifier({
      jwksUrl: 'http://127.0.0.1:1/.well-known/jwks.json',
      now: () => clock.now,
    });
    expect(await closed.verify({ headers: signed(), rawBody: body })).toMatchObject({
      ok: false,
      reason: 'jwks-unavailable',
    });
  });

  it('derives the JWKS URL from a REST base URL, and verifyWebhook takes a verifier', async () => {
    const key = makeKey();
    const jwks = closing(await startJwksServer([key]));
    const base = jwks.url.replace('/.well-known/jwks.json', '/');
    expect(webhookJwksUrl(base)).toBe(jwks.url);
    const verifier = createWebhookVerifier({ restBaseUrl: base });
    expect(verifier.jwksUrl).toBe(jwks.url);
    expect(createWebhookVerifier().jwksUrl).toBe('https://rest.fal.ai/.well-known/jwks.json');
    const headers = signDelivery({ key, body, requestId: 'req-1' });
    expect((await verifyWebhook({ headers, rawBody: body, verifier })).ok).toBe(true);
  });

  it('checks the headers alone, before any body, and never echoes what a stranger sent', async () => {
    const key = makeKey();
    const { verifier, jwks } = await setup([key]);
    const headers = signDelivery({ key, body, requestId: 'req-1', timestamp: T0 });
    expect(verifier.checkHeaders(headers)).toEqual({
      ok: true,
      requestId: 'req-1',
      userId: 'user-1',
      timestamp: T0,
      timestampText: String(T0),
      signature: headers['x-fal-webhook-signature'],
    });
    const hostile = 'secret-looking-value-0123456789';
    const bad: [Record<string, string>, string][] = [
      [{ ...headers, 'x-fal-webhook-timestamp': hostile }, 'malformed-header'],
      [{ ...headers, 'x-fal-webhook-signature': hostile }, 'malformed-header'],
      [{ ...headers, 'x-fal-webhook-request-id': `${hostile} with spaces` }, 'malformed-header'],
      [{ ...headers, 'x-fal-webhook-user-id': 'u'.repeat(257) }, 'malformed-header'],
      [{ ...headers, 'x-fal-webhook-request-id': 'a\u001b[31mred' }, 'malformed-header'],
      [{ ...headers, 'x-fal-webhook-timestamp': String(T0 - 301) }, 'stale'],
      [{ ...headers, 'x-fal-webhook-timestamp': String(T0 + 301) }, 'future'],
    ];
    for (const [input, reason] of bad) {
      const checked = verifier.checkHeaders(input);
      expect(checked).toMatchObject({ ok: false, reason });
      if (!checked.ok) expect(checked.message).not.toContain(hostile);
      // verify() applies the same checks.
      expect(await verifier.verify({ headers: input, rawBody: body })).toMatchObject({ reason });
    }
    expect(jwks.fetches).toBe(0);
  });
});
