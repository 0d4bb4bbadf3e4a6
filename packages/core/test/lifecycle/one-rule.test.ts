import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkStatus,
  createFalai,
  fetchResult,
  pollRequests,
  submitAndRecord,
  waitAndFinalise,
} from '../../src/lifecycle/index.js';
import { createModelRegistry } from '../../src/models/index.js';
import { readProvenance } from '../../src/provenance/index.js';
import type { FalClient } from '../../src/queue/index.js';
import { createMemoryStore, type PendingRecord, type PendingStore } from '../../src/store/index.js';
import {
  createWebhookHandler,
  createWebhookServer,
  createWebhookVerifier,
  type WebhookEvent,
  type WebhookServer,
} from '../../src/webhooks/index.js';
import { clientFor, GOOD_KEY, logged, until } from '../queue/emulator-harness.js';

/**
 * One rule turns an outcome into a record: the webhook receiver, the poll pass, waiting and
 * fetching a result write the same record for the same outcome, and a request fal has
 * forgotten ends `expired` instead of staying pending forever.
 */
let emulator: Emulator;
let client: FalClient;
let dir: string;
const registry = createModelRegistry();
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);
const INLINE = `data:image/png;base64,${PNG.toString('base64')}`;

beforeAll(async () => {
  emulator = await startEmulator({
    port: 0,
    deterministic: true,
    strict: true,
    defaultLatency: { queueMs: 10, runMs: 40 },
    keys: { accept: [GOOD_KEY] },
    webhook: { retries: 3, retryDelayMs: 20 },
    // fal keeps a result 1 h (6 min past 10 KB): here 1 h is 1.8 s.
    timeScale: 0.0005,
    sseKeepAliveMs: 1000,
  });
  client = clientFor(emulator);
  dir = await mkdtemp(join(tmpdir(), 'falai-one-rule-'));
  // A sync-mode model: its image comes inline as a data URI, with a seed.
  emulator.setModel('acme/inline', {
    output: { images: [{ url: INLINE, content_type: 'image/png' }], seed: 1234 },
  });
  emulator.setModel('acme/broken', {
    completeWithError: { status: 500, detail: 'boom', error_type: 'runner_disconnected' },
  });
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

async function submit(
  store: PendingStore,
  endpointId: string,
  webhookUrl?: string,
): Promise<PendingRecord> {
  const { record } = await submitAndRecord({
    endpointId,
    input: { prompt: 'same input' },
    registry,
    client,
    store,
    ...(webhookUrl ? { webhookUrl } : {}),
    signals: { replay: false, onInterrupt: () => {} },
  });
  return record;
}

/**
 * A record without what differs between two requests: times, URLs, counters, and its own
 * request id wherever it appears (messages name the request).
 */
function comparable(record: PendingRecord | undefined) {
  expect(record).toBeDefined();
  const {
    requestId,
    submittedAt: _submitted,
    updatedAt: _updated,
    startedAt: _started,
    completedAt,
    urls: _urls,
    webhookUrl: _webhook,
    attempts: _attempts,
    lease: _lease,
    ...rest
  } = record as PendingRecord;
  expect(completedAt).toBeDefined();
  return JSON.parse(JSON.stringify(rest).replaceAll(requestId, '<request-id>'));
}

describe('one outcome rule', () => {
  let receiver: WebhookServer;
  const webhookStore = createMemoryStore();
  const events: WebhookEvent[] = [];
  beforeAll(async () => {
    const handler = createWebhookHandler({
      verifier: createWebhookVerifier({ restBaseUrl: emulator.url }),
      store: webhookStore,
      onDelivery: (event) => events.push(event),
    });
    receiver = await createWebhookServer({ port: 0, handler });
  });
  afterAll(async () => {
    await receiver.close();
  });

  const finalisedByWebhook = async (endpointId: string) => {
    const record = await submit(webhookStore, endpointId, receiver.url);
    await until(() =>
      events.some(
        (event) => event.kind === 'finalised' && event.record.requestId === record.requestId,
      ),
    );
    return webhookStore.get(record.requestId);
  };
  const finalisedByPolling = async (endpointId: string) => {
    const store = createMemoryStore();
    const record = await submit(store, endpointId);
    await pollRequests({ store, client, watch: true, intervalMs: 20 });
    return store.get(record.requestId);
  };
  const finalisedByWaiting = async (endpointId: string) => {
    const store = createMemoryStore();
    const record = await submit(store, endpointId);
    await waitAndFinalise({
      client,
      store,
      endpointId,
      requestId: record.requestId,
      record,
    }).catch(() => undefined);
    return store.get(record.requestId);
  };

  it('the webhook receiver, the poll pass and a wait write the same completed record', async () => {
    const [byWebhook, byPolling, byWaiting] = await Promise.all([
      finalisedByWebhook('acme/inline'),
      finalisedByPolling('acme/inline'),
      finalisedByWaiting('acme/inline'),
    ]);
    expect(comparable(byWebhook)).toEqual(comparable(byPolling));
    expect(comparable(byWaiting)).toEqual(comparable(byPolling));
    // The record keeps a bounded summary: the inline image by digest, the seed as it came.
    expect(byPolling).toMatchObject({
      status: 'completed',
      result: {
        images: [{ url: { $omitted: 'data-uri', mime: 'image/png', size: PNG.length } }],
        seed: 1234,
      },
    });
    expect(JSON.stringify(byWebhook)).not.toContain('base64');
  });

  it('the webhook receiver, the poll pass and a wait write the same failed record', async () => {
    const [byWebhook, byPolling, byWaiting] = await Promise.all([
      finalisedByWebhook('acme/broken'),
      finalisedByPolling('acme/broken'),
      finalisedByWaiting('acme/broken'),
    ]);
    expect(byPolling).toMatchObject({ status: 'failed', error: { code: 'REQUEST_FAILED' } });
    expect(comparable(byWebhook)).toEqual(comparable(byPolling));
    expect(comparable(byWaiting)).toEqual(comparable(byPolling));
  });
});

describe('a request fal has forgotten', () => {
  /** A recorded request whose result fal has dropped (its retention ran out). */
  async function forgotten(store: PendingStore): Promise<PendingRecord> {
    const record = await submit(store, 'fal-ai/nano-banana-pro');
    await until(() => {
      const job = emulator.job(record.requestId);
      return job?.expiresAt !== undefined && Date.now() > job.expiresAt + 50;
    });
    return record;
  }

  it('ends expired in a poll pass, a wait and a status check, never pending forever', async () => {
    const store = createMemoryStore();
    const [polled, waited, checked] = await Promise.all([
      forgotten(store),
      forgotten(store),
      forgotten(store),
    ]);
    // Each record is still queued in the store: nothing looked at them while fal forgot them.
    for (const record of [polled, waited, checked]) {
      expect((await store.get(record.requestId))?.status).toBe('queued');
    }

    const waitedFor = waitAndFinalise({
      client,
      store,
      endpointId: waited.endpointId,
      requestId: waited.requestId,
      record: waited,
    });
    await expect(waitedFor).rejects.toMatchObject({
      code: 'REQUEST_FAILED',
      details: { reason: 'expired' },
    });
    const status = await checkStatus(client, store, {
      endpointId: checked.endpointId,
      requestId: checked.requestId,
      record: checked,
    });
    expect(status).toMatchObject({ status: 'expired', recorded: true });
    const summary = await pollRequests({ store, client });
    expect(summary.completed.map((item) => [item.requestId, item.status])).toEqual([
      [polled.requestId, 'expired'],
    ]);
    expect(summary.pending).toBe(0);
    for (const record of [polled, waited, checked]) {
      expect(await store.get(record.requestId)).toMatchObject({
        status: 'expired',
        error: { code: 'REQUEST_FAILED', details: { reason: 'expired' } },
      });
    }
    // Nothing is left for the next pass.
    expect((await pollRequests({ store, client })).count).toBe(0);
  });
});

describe('saving the outputs of a stored result', () => {
  it('fetches a result again from fal when the record kept an inline output only as a digest', async () => {
    const store = createMemoryStore();
    const record = await submit(store, 'acme/inline');
    const done = await waitAndFinalise({
      client,
      store,
      endpointId: 'acme/inline',
      requestId: record.requestId,
      record,
    });
    expect(JSON.stringify(done.record?.result)).toContain('$omitted');

    // For showing, the summary is the answer; for saving files it is not: fal is asked again.
    const shown = await fetchResult({
      client,
      store,
      endpointId: 'acme/inline',
      requestId: record.requestId,
      record: done.record as PendingRecord,
    });
    expect(shown.fromStore).toBe(true);
    const before = logged(emulator, 'result', record.requestId).length;
    const falai = createFalai({ store, client, registry, cwd: dir });
    const job = await falai.job(record.requestId);
    const files = await job.download(join(dir, 'inline'));
    expect(logged(emulator, 'result', record.requestId).length).toBe(before + 1);
    expect(files).toHaveLength(1);
    const saved = await readFile(files[0]?.path as string);
    // The same image (signature and header), with falai's provenance written into it.
    expect(saved.subarray(0, 33)).toEqual(PNG.subarray(0, 33));
    expect((await readProvenance(files[0]?.path as string))?.provenance.requestId).toBe(
      record.requestId,
    );
    expect((await store.get(record.requestId))?.outputs).toEqual(files);
  });

  it('uses the files the webhook receiver wrote for inline outputs, without asking fal', async () => {
    const store = createMemoryStore();
    const inlineDir = join(dir, 'webhook-inline');
    const events: WebhookEvent[] = [];
    const handler = createWebhookHandler({
      verifier: createWebhookVerifier({ restBaseUrl: emulator.url }),
      store,
      inlineOutputDir: inlineDir,
      onDelivery: (event) => events.push(event),
    });
    const receiver = await createWebhookServer({ port: 0, handler });
    try {
      const record = await submit(store, 'acme/inline', receiver.url);
      await until(() => events.some((event) => event.kind === 'finalised'));
      const stored = await store.get(record.requestId);
      const written = stored?.outputs?.[0]?.path as string;
      expect(await readFile(written)).toEqual(PNG);
      const before = logged(emulator, 'result', record.requestId).length;
      const job = await createFalai({ store, client, registry, cwd: dir }).job(record.requestId);
      const files = await job.download(join(dir, 'elsewhere'));
      expect(files.map((file) => file.path)).toEqual([written]);
      expect(logged(emulator, 'result', record.requestId).length).toBe(before);
    } finally {
      await receiver.close();
    }
  });
});
