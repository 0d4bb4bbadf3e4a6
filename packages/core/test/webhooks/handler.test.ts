import { describe, expect, it } from 'vitest';
import {
  createWebhookHandler,
  createWebhookServer,
  createWebhookVerifier,
  type PendingStore,
  type WebhookEvent,
  type WebhookHandlerOptions,
} from '../../src/index.js';
import { newPendingRecord } from '../../src/internal.js';
import {
  closeAfterEach,
  type JwksServer,
  makeKey,
  memoryStore,
  signDelivery,
  startJwksServer,
  type TestKey,
} from './helpers.js';

const closing = closeAfterEach();

/** The receiver's JSON answers. */
interface Answer {
  ok?: boolean;
  duplicate?: boolean;
  unknown?: boolean;
  payloadPending?: boolean;
  requestId?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface Receiver {
  url: string;
  key: TestKey;
  jwks: JwksServer;
  store: PendingStore;
  events: WebhookEvent[];
  idle(): Promise<void>;
  post(body: string, headers?: Record<string, string>): Promise<{ status: number; json: Answer }>;
}

async function startReceiver(options: Partial<WebhookHandlerOptions> = {}): Promise<Receiver> {
  const key = makeKey();
  const jwks = closing(await startJwksServer([key]));
  const store = memoryStore();
  const events: WebhookEvent[] = [];
  const handler = createWebhookHandler({
    verifier: createWebhookVerifier({ jwksUrl: jwks.url }),
    store,
    onDelivery: (event) => events.push(event),
    ...options,
  });
  const { url } = closing(await createWebhookServer({ port: 0, handler }));
  return {
    url,
    key,
    jwks,
    store,
    events,
    idle: handler.idle,
    async post(body, headers) {
      const signed = () => {
        const requestId = (JSON.parse(body) as { request_id?: string }).request_id ?? 'x';
        return signDelivery({ key, body, requestId });
      };
      const response = await fetch(url, {
        method: 'POST',
        headers: headers ?? signed(),
        body,
      });
      return { status: response.status, json: (await response.json()) as Answer };
    },
  };
}

const okBody = (requestId: string) =>
  JSON.stringify({
    request_id: requestId,
    gateway_request_id: requestId,
    status: 'OK',
    payload: { images: [{ url: 'https://fal.media/files/a.png' }] },
  });

async function queued(
  store: PendingStore,
  requestId: string,
  status: 'queued' | 'running' = 'queued',
) {
  const record = newPendingRecord({ requestId, endpointId: 'fal-ai/nano-banana-pro' });
  await store.put(status === 'queued' ? record : { ...record, status });
}

describe('createWebhookHandler', () => {
  it('finalises a pending record from a valid delivery', async () => {
    const receiver = await startReceiver();
    await queued(receiver.store, 'r1', 'running');
    const answer = await receiver.post(okBody('r1'));
    expect(answer).toEqual({
      status: 200,
      json: { ok: true, requestId: 'r1', status: 'completed' },
    });
    const record = await receiver.store.get('r1');
    expect(record?.status).toBe('completed');
    expect(record?.result).toEqual({ images: [{ url: 'https://fal.media/files/a.png' }] });
    expect(receiver.events.map((event) => event.kind)).toEqual(['finalised']);
  });

  it('keeps a completed request whose output fal could not deliver active, answering 200', async () => {
    const receiver = await startReceiver({
      download: async () => {
        throw new Error('no download without a payload');
      },
    });
    await queued(receiver.store, 'r-big', 'running');
    await receiver.store.update('r-big', { tags: { label: 'keep' } });
    const body = JSON.stringify({
      request_id: 'r-big',
      status: 'OK',
      payload: null,
      payload_error: 'Response payload is too large',
    });
    const answer = await receiver.post(body);
    expect(answer).toEqual({
      status: 200,
      json: { ok: true, requestId: 'r-big', status: 'running', payloadPending: true },
    });
    await receiver.idle();
    const record = await receiver.store.get('r-big');
    expect(record?.status).toBe('running');
    expect(record?.error).toBeUndefined();
    expect(record?.tags).toEqual({
      label: 'keep',
      webhookPayloadError: 'Response payload is too large',
    });
    expect(receiver.events).toEqual([
      {
        kind: 'payload-pending',
        requestId: 'r-big',
        message: expect.stringContaining('falai poll'),
      },
    ]);
    // A replay is harmless; once polling finalised the record, it is a duplicate.
    expect((await receiver.post(body)).json.payloadPending).toBe(true);
    await receiver.store.update('r-big', { status: 'completed', result: { ok: 1 } });
    expect(await receiver.post(body)).toEqual({
      status: 200,
      json: { ok: true, duplicate: true, requestId: 'r-big' },
    });
    expect((await receiver.store.get('r-big'))?.result).toEqual({ ok: 1 });
  });

  it('asks fal to retry a payload_error delivery for a request not yet in the store', async () => {
    const receiver = await startReceiver();
    const body = JSON.stringify({
      request_id: 'r-later',
      status: 'OK',
      payload: null,
      payload_error: 'too large',
    });
    expect((await receiver.post(body)).status).toBe(404);
    await queued(receiver.store, 'r-later');
    expect((await receiver.post(body)).json).toMatchObject({ ok: true, payloadPending: true });
    expect((await receiver.store.get('r-later'))?.status).toBe('queued');
  });

  it('finalises a failed request with the normalised error', async () => {
    const receiver = await startReceiver();
    await queued(receiver.store, 'r2');
    const body = JSON.stringify({
      request_id: 'r2',
      status: 'ERROR',
      error: 'Invalid status code: 422',
      payload: { detail: [{ loc: ['body', 'prompt'], msg: 'field required', type: 'missing' }] },
    });
    expect((await receiver.post(body)).json).toMatchObject({ ok: true, status: 'failed' });
    const record = await receiver.store.get('r2');
    expect(record?.status).toBe('failed');
    expect(record?.error).toMatchObject({ code: 'INPUT_INVALID' });
    expect(record?.result).toBeUndefined();
  });

  it('answers a replay as a duplicate and leaves the record unchanged', async () => {
    const receiver = await startReceiver();
    await queued(receiver.store, 'r3');
    const body = okBody('r3');
    const headers = signDelivery({ key: receiver.key, body, requestId: 'r3' });
    expect((await receiver.post(body, headers)).json.duplicate).toBeUndefined();
    const after = await receiver.store.get('r3');
    const replay = await receiver.post(body, headers);
    expect(replay).toEqual({ status: 200, json: { ok: true, duplicate: true, requestId: 'r3' } });
    expect(await receiver.store.get('r3')).toEqual(after);
    // A different (later) delivery for the same request does not overwrite it either.
    const late = JSON.stringify({ request_id: 'r3', status: 'ERROR', error: 'x', payload: null });
    expect((await receiver.post(late)).json.duplicate).toBe(true);
    expect(await receiver.store.get('r3')).toEqual(after);
    expect(receiver.events.map((event) => event.kind)).toEqual([
      'finalised',
      'duplicate',
      'duplicate',
    ]);
  });

  it('finalises exactly once when the same delivery arrives many times at once', async () => {
    const receiver = await startReceiver();
    await queued(receiver.store, 'r4');
    const body = okBody('r4');
    const headers = signDelivery({ key: receiver.key, body, requestId: 'r4' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => receiver.post(body, headers)),
    );
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(answers.filter((answer) => answer.json.duplicate !== true)).toHaveLength(1);
    expect(receiver.events.filter((event) => event.kind === 'finalised')).toHaveLength(1);
  });

  it('asks fal to redeliver an unknown request id during the grace period, then acknowledges it', async () => {
    const clock = { now: 1_000_000 };
    const receiver = await startReceiver({ unknownGraceMs: 60_000, now: () => clock.now });
    const first = await receiver.post(okBody('nobody'));
    expect(first).toMatchObject({ status: 404, json: { ok: false, reason: 'unknown-request' } });
    clock.now += 59_000;
    expect((await receiver.post(okBody('nobody'))).status).toBe(404);
    clock.now += 1_000;
    const last = await receiver.post(okBody('nobody'));
    expect(last).toEqual({ status: 200, json: { ok: true, unknown: true, requestId: 'nobody' } });
    expect(await receiver.store.get('nobody')).toBeUndefined();
    expect(receiver.events).toMatchObject([
      { kind: 'unknown', retrying: true },
      { kind: 'unknown', retrying: true },
      { kind: 'unknown', retrying: false },
    ]);
  });

  it('finalises a request whose record was written after its first delivery', async () => {
    const receiver = await startReceiver();
    expect((await receiver.post(okBody('late'))).status).toBe(404);
    await queued(receiver.store, 'late');
    expect((await receiver.post(okBody('late'))).json).toMatchObject({
      ok: true,
      status: 'completed',
    });
  });

  it('acknowledges unknown ids at once with unknownGraceMs 0', async () => {
    const receiver = await startReceiver({ unknownGraceMs: 0 });
    expect(await receiver.post(okBody('x1'))).toEqual({
      status: 200,
      json: { ok: true, unknown: true, requestId: 'x1' },
    });
  });

  it('finds the record under the gateway request id when fal re-keyed it', async () => {
    const receiver = await startReceiver();
    await queued(receiver.store, 'gw-1');
    const body = JSON.stringify({
      request_id: 'attempt-2',
      gateway_request_id: 'gw-1',
      status: 'OK',
      payload: {},
    });
    expect((await receiver.post(body)).json).toMatchObject({ ok: true, requestId: 'gw-1' });
    expect((await receiver.store.get('gw-1'))?.status).toBe('completed');
  });

  it('rejects unsigned, forged and tampered deliveries with 401 and a reason', async () => {
    const receiver = await startReceiver();
    await queued(receiver.store, 'r5');
    const body = okBody('r5');
    const unsigned = await receiver.post(body, { 'content-type': 'application/json' });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json).toMatchObject({ ok: false, reason: 'missing-header' });
    const forged = await receiver.post(
      body,
      signDelivery({ key: makeKey(), body, requestId: 'r5' }),
    );
    expect(forged).toMatchObject({ status: 401, json: { ok: false, reason: 'bad-signature' } });
    const headers = signDelivery({ key: receiver.key, body, requestId: 'r5' });
    const tampered = await receiver.post(body.replace('a.png', 'b.png'), headers);
    expect(tampered).toMatchObject({ status: 401, json: { reason: 'bad-signature' } });
    expect((await receiver.store.get('r5'))?.status).toBe('queued');
  });

  it('answers 503 while the JWKS is unavailable, so fal delivers again', async () => {
    const receiver = await startReceiver();
    await queued(receiver.store, 'r6');
    receiver.jwks.status = 500;
    const answer = await receiver.post(okBody('r6'));
    expect(answer).toMatchObject({ status: 503, json: { reason: 'jwks-unavailable' } });
    expect((await receiver.store.get('r6'))?.status).toBe('queued');
  });

  it('refuses oversized bodies, other methods and signed non-deliveries', async () => {
    const receiver = await startReceiver({ maxBodyBytes: 1024 });
    const big = JSON.stringify({ request_id: 'r7', status: 'OK', payload: 'x'.repeat(4096) });
    expect((await receiver.post(big)).status).toBe(413);
    const put = await fetch(receiver.url, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST');
    const health = await fetch(receiver.url);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    const notJson = 'not json';
    const answer = await receiver.post(
      notJson,
      signDelivery({ key: receiver.key, body: notJson, requestId: 'r7' }),
    );
    expect(answer).toMatchObject({ status: 400, json: { reason: 'malformed-payload' } });
    const wrongShape = JSON.stringify({ request_id: 'r7', status: 'MAYBE' });
    expect((await receiver.post(wrongShape)).json).toMatchObject({
      reason: 'malformed-payload',
      message: expect.stringContaining('MAYBE'),
    });
  });

  it('downloads outputs after answering and records them, or records the failure', async () => {
    const receiver = await startReceiver({
      // A download step records its files itself, as core's saveOutputs does.
      download: async (record) => {
        if (record.requestId === 'broken') throw new Error('disk full');
        const outputs = [
          { url: 'https://fal.media/files/a.png', path: `/tmp/${record.requestId}.png` },
        ];
        await receiver.store.update(record.requestId, { outputs });
        return outputs;
      },
    });
    await queued(receiver.store, 'r8');
    await queued(receiver.store, 'broken');
    await receiver.post(okBody('r8'));
    await receiver.post(okBody('broken'));
    await receiver.idle();
    expect((await receiver.store.get('r8'))?.outputs).toEqual([
      { url: 'https://fal.media/files/a.png', path: '/tmp/r8.png' },
    ]);
    const broken = await receiver.store.get('broken');
    expect(broken?.status).toBe('completed');
    expect(broken?.tags?.downloadError).toContain('disk full');
    expect(receiver.events.map((event) => event.kind).sort()).toEqual([
      'download-failed',
      'downloaded',
      'finalised',
      'finalised',
    ]);
  });
});
