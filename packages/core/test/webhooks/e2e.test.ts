import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Emulator } from '@falai/emulator';
import { describe, expect, it } from 'vitest';
import {
  createFalClient,
  createWebhookHandler,
  createWebhookServer,
  createWebhookVerifier,
  type PendingStore,
  type WebhookEvent,
} from '../../src/index.js';
import { newPendingRecord } from '../../src/internal.js';
import { closeAfterEach, memoryStore } from './helpers.js';

const ENDPOINT = 'fal-ai/nano-banana-pro';
const JOBS = 100;

const closing = closeAfterEach();

/** Submits like `falai submit --webhook`: the queue client's submit, then the store record. */
async function submitAll(
  emulator: Emulator,
  store: PendingStore,
  webhookUrl: string,
): Promise<string[]> {
  const client = createFalClient({ baseUrl: emulator.url, credentials: 'test-id:test-secret' });
  const submitOne = async (index: number): Promise<string> => {
    const { requestId } = await client.submit(ENDPOINT, { prompt: `job ${index}` }, { webhookUrl });
    await store.put(newPendingRecord({ requestId, endpointId: ENDPOINT, webhookUrl }));
    return requestId;
  };
  return Promise.all(Array.from({ length: JOBS }, (_, index) => submitOne(index)));
}

/** Resolves once every id has a `finalised` event; a lost delivery fails on the test timeout. */
function allFinalised(events: WebhookEvent[], ids: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const done = new Set(
        events.flatMap((event) => (event.kind === 'finalised' ? [event.record.requestId] : [])),
      );
      if (ids.every((id) => done.has(id))) resolve();
      else setTimeout(check, 20);
    };
    check();
  });
}

describe('emulator → receiver → store', () => {
  it(`finalises ${JOBS} jobs exactly once, even when first deliveries fail`, async () => {
    const { startEmulator } = await import('@falai/emulator');
    const emulator = closing(
      await startEmulator({
        port: 0,
        strict: true,
        defaultLatency: { queueMs: [5, 40], runMs: [10, 80] },
        // fal's retry schedule (10 retries, each wait twice the last, over 2 h) shrunk 1000×:
        // a refused first delivery comes again about 7 ms later.
        timeScale: 0.001,
      }),
    );
    emulator.setModel(ENDPOINT, { output: { images: [{ url: 'https://example.invalid/x.png' }] } });
    const store = memoryStore();
    const events: WebhookEvent[] = [];
    const handler = createWebhookHandler({
      verifier: createWebhookVerifier({ restBaseUrl: emulator.url }),
      store,
      onDelivery: (event) => events.push(event),
    });
    // Fault: every third job's first delivery gets a 500; the emulator must deliver it again.
    const refused = new Set<string>();
    let counter = 0;
    const faulty = (request: IncomingMessage, response: ServerResponse) => {
      const id = String(request.headers['x-fal-webhook-request-id']);
      counter += 1;
      if (counter % 3 === 0 && !refused.has(id)) {
        refused.add(id);
        request.resume();
        response.writeHead(500).end('try again');
        return;
      }
      handler(request, response);
    };
    const receiver = closing(await createWebhookServer({ port: 0, handler: faulty }));

    const ids = await submitAll(emulator, store, receiver.url);
    expect(new Set(ids).size).toBe(JOBS);
    await allFinalised(events, ids);

    const finalised = events.filter((event) => event.kind === 'finalised');
    expect(finalised).toHaveLength(JOBS);
    expect(events.filter((event) => event.kind === 'rejected')).toEqual([]);
    const records = await Promise.all(ids.map((id) => store.get(id)));
    for (const record of records) {
      expect(record?.status).toBe('completed');
      expect(record?.result).toEqual({ images: [{ url: 'https://example.invalid/x.png' }] });
    }
    expect(refused.size).toBeGreaterThan(0);
    // Every refused delivery was retried by the emulator and then accepted. The receiver
    // finalises before its 200 is back at the emulator, which logs the delivery's status then:
    // wait (bounded) for the last answers to arrive.
    const lastStatuses = () => {
      const log = emulator.log.filter((entry) => entry.kind === 'webhook-delivery');
      return [...refused].map((id) => log.filter((entry) => entry.requestId === id).at(-1)?.status);
    };
    for (let waited = 0; waited < 5000 && lastStatuses().some((status) => status !== 200); ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      waited += 20;
    }
    const deliveries = emulator.log.filter((entry) => entry.kind === 'webhook-delivery');
    for (const id of refused) {
      const statuses = deliveries.filter((entry) => entry.requestId === id).map((e) => e.status);
      expect(statuses[0]).toBe(500);
      expect(statuses.at(-1)).toBe(200);
    }
    // The receiver fetched the emulator's JWKS once for all of it.
    expect(emulator.log.filter((entry) => entry.kind === 'jwks')).toHaveLength(1);
  });

  it('records a failed job, and picks up a rotated emulator key with one JWKS refresh', async () => {
    const { startEmulator } = await import('@falai/emulator');
    const emulator = closing(
      await startEmulator({
        port: 0,
        strict: true,
        defaultLatency: { queueMs: 5, runMs: 10 },
        timeScale: 0.001,
      }),
    );
    emulator.setModel(ENDPOINT, {
      completeWithError: {
        status: 422,
        body: { detail: [{ loc: ['body', 'prompt'], msg: 'too long', type: 'string_too_long' }] },
      },
    });
    const store = memoryStore();
    const events: WebhookEvent[] = [];
    const clock = { now: Date.now() };
    const verifier = createWebhookVerifier({
      restBaseUrl: emulator.url,
      now: () => clock.now,
      minRefreshIntervalMs: 60_000,
    });
    const handler = createWebhookHandler({
      verifier,
      store,
      onDelivery: (event) => events.push(event),
    });
    const receiver = closing(await createWebhookServer({ port: 0, handler }));

    const submit = async () => {
      const response = await fetch(
        `${emulator.url}/${ENDPOINT}?fal_webhook=${encodeURIComponent(receiver.url)}`,
        {
          method: 'POST',
          headers: { authorization: 'Key test-id:test-secret' },
          body: JSON.stringify({ prompt: 'x'.repeat(50) }),
        },
      );
      const { request_id: requestId } = (await response.json()) as { request_id: string };
      await store.put(newPendingRecord({ requestId, endpointId: ENDPOINT }));
      return requestId;
    };

    const first = await submit();
    await allFinalised(events, [first]);
    const failed = await store.get(first);
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toMatchObject({
      code: 'INPUT_INVALID',
      details: { issues: [{ path: ['prompt'], message: 'too long', kind: 'string_too_long' }] },
    });

    emulator.rotateWebhookKey();
    clock.now = Date.now() + 61_000; // past the refresh interval; still inside ±300 s
    const second = await submit();
    await allFinalised(events, [second]);
    expect(verifier.jwksFetches).toBe(2);
    expect(events.filter((event) => event.kind === 'rejected')).toEqual([]);
  });
});
