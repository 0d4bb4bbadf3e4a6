import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWebhookHandler,
  createWebhookServer,
  createWebhookVerifier,
  type PendingStore,
  readProvenance,
  type WebhookEvent,
  type WebhookHandlerOptions,
} from '../../src/index.js';
import { newPendingRecord, saveOutputs } from '../../src/internal.js';
import { closeAfterEach, makeKey, memoryStore, signDelivery, startJwksServer } from './helpers.js';

const closing = closeAfterEach();
const png = readFileSync(
  fileURLToPath(new URL('../fixtures/media/image-800x600.png', import.meta.url)),
);
const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function startReceiver(options: Partial<WebhookHandlerOptions> = {}) {
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
  const answers: string[] = [];
  return {
    store,
    events,
    answers,
    handler,
    async post(body: string, headers?: Record<string, string>) {
      const requestId = (JSON.parse(body) as { request_id?: string }).request_id ?? 'x';
      const response = await fetch(url, {
        method: 'POST',
        headers: headers ?? signDelivery({ key, body, requestId }),
        body,
      });
      const text = await response.text();
      answers.push(text);
      return { status: response.status, json: JSON.parse(text) as Record<string, unknown> };
    },
  };
}

async function queued(store: PendingStore, requestId: string) {
  await store.put(newPendingRecord({ requestId, endpointId: 'fal-ai/nano-banana-pro' }));
}

describe('webhook payloads in records', () => {
  it('never copies inline data URIs into the record: digest, size and type instead', async () => {
    const receiver = await startReceiver();
    await queued(receiver.store, 'inline-1');
    const video = randomBytes(3 * 1024 * 1024);
    const body = JSON.stringify({
      request_id: 'inline-1',
      status: 'OK',
      payload: {
        images: [{ url: `data:image/png;base64,${png.toString('base64')}` }],
        video: { url: `data:video/mp4;base64,${video.toString('base64')}` },
        seed: 7,
      },
    });
    expect((await receiver.post(body)).json).toMatchObject({ ok: true, status: 'completed' });
    const record = await receiver.store.get('inline-1');
    const stored = JSON.stringify(record);
    expect(stored).not.toContain('base64');
    expect(stored.length).toBeLessThan(2_000);
    expect(record?.result).toEqual({
      images: [
        {
          url: { $omitted: 'data-uri', mime: 'image/png', size: png.length, digest: digestOf(png) },
        },
      ],
      video: {
        url: {
          $omitted: 'data-uri',
          mime: 'video/mp4',
          size: video.length,
          digest: digestOf(video),
        },
      },
      seed: 7,
    });
    expect(record?.outputs).toBeUndefined();
  });

  it('keeps a 64-bit seed from a delivery exact in the record', async () => {
    const receiver = await startReceiver();
    await queued(receiver.store, 'seed-1');
    // Python-style, as fal serialises it (fal-api-reference.md §14).
    const body =
      '{"error": null, "payload": {"images": [{"url": "https://v3.fal.media/files/lion/a.jpeg"}], "seed": 17454220438242315174}, "request_id": "seed-1", "status": "OK"}';
    expect((await receiver.post(body)).status).toBe(200);
    const record = await receiver.store.get('seed-1');
    expect(record?.result).toMatchObject({ seed: 17454220438242315174n });
  });

  it('writes inline outputs to inlineOutputDir first and keeps the files as references', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'falai-inline-'));
    dirs.push(dir);
    const seen: unknown[] = [];
    const receiver = await startReceiver({
      inlineOutputDir: dir,
      // The lifecycle's save step, with fal's file host answered locally.
      download: async (record) => {
        seen.push(record.result);
        return saveOutputs({
          store: receiver.store,
          requestId: record.requestId,
          result: record.result,
          outDir: dir,
          settings: {},
          ...(record.outputs ? { previous: record.outputs } : {}),
          fetch: async () => new Response(png),
        });
      },
    });
    await queued(receiver.store, 'inline-2');
    // The declared type is wrong on purpose: the file's type comes from its bytes.
    const body = JSON.stringify({
      request_id: 'inline-2',
      status: 'OK',
      payload: {
        images: [
          { url: `data:image/jpeg;base64,${png.toString('base64')}`, file_name: '../../evil.sh' },
          { url: 'https://fal.media/files/a.png' },
        ],
      },
    });
    expect((await receiver.post(body)).status).toBe(200);
    await receiver.handler.idle();
    const files = await readdir(dir);
    const saved = files.filter((name) => /^inline-2-[0-9a-f]{12}\.png$/.test(name));
    expect(saved).toHaveLength(1);
    const path = join(dir, saved[0]!);
    // The image data as fal sent it, with the request's provenance written in front of it.
    const written = await readFile(path);
    const imageData = png.subarray(png.indexOf('IDAT') - 4);
    expect(written.subarray(written.length - imageData.length).equals(imageData)).toBe(true);
    expect((await readProvenance(path))?.provenance.requestId).toBe('inline-2');
    expect(files.some((name) => name.endsWith('.part'))).toBe(false);

    const record = await receiver.store.get('inline-2');
    expect(JSON.stringify(record)).not.toContain('base64');
    expect(record?.result).toEqual({
      images: [
        {
          url: {
            $omitted: 'data-uri',
            mime: 'image/jpeg',
            size: png.length,
            digest: digestOf(png),
            path,
          },
          file_name: '../../evil.sh',
        },
        { url: 'https://fal.media/files/a.png' },
      ],
    });
    expect(record?.outputs).toEqual([
      { url: 'data:', path, size: written.length, fetchedSize: png.length, mime: 'image/png' },
      expect.objectContaining({
        url: 'https://fal.media/files/a.png',
        path: join(dir, 'inline-2-0.png'),
      }),
    ]);
    expect(record?.provenance).toBeDefined();
    // The download step sees the stored summary, never the inline bytes.
    expect(JSON.stringify(seen)).not.toContain('base64');

    // A replay changes nothing and writes nothing more.
    expect((await receiver.post(body)).json).toMatchObject({ duplicate: true });
    expect(await readdir(dir)).toEqual(files);
  });

  it('finalises with the digest when the inline outputs cannot be written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'falai-inline-'));
    dirs.push(dir);
    const blocked = join(dir, 'not-a-dir');
    await import('node:fs/promises').then(({ writeFile }) => writeFile(blocked, 'x'));
    const receiver = await startReceiver({ inlineOutputDir: blocked });
    await queued(receiver.store, 'inline-3');
    const body = JSON.stringify({
      request_id: 'inline-3',
      status: 'OK',
      payload: { image: { url: `data:image/png;base64,${png.toString('base64')}` } },
    });
    expect((await receiver.post(body)).json).toMatchObject({ ok: true, status: 'completed' });
    const record = await receiver.store.get('inline-3');
    expect(record?.result).toMatchObject({ image: { url: { digest: digestOf(png) } } });
    expect(record?.tags?.downloadError).toContain(blocked);
    expect(receiver.events.map((event) => event.kind)).toEqual(['download-failed', 'finalised']);
  });
});

describe('webhook receiver and FAL_KEY', () => {
  const KEY = 'recognisable-key-id:recognisable-secret-0123456789';
  const forms = [KEY, 'recognisable-secret-0123456789', encodeURIComponent(KEY)];

  it('never puts the key in an event or an answer, whatever fal or a stranger sends', async () => {
    const receiver = await startReceiver({ secrets: [KEY] });
    for (const id of ['k1', 'k2', 'k3']) await queued(receiver.store, id);
    // fal's own text quoting the key, plain and URL-encoded.
    await receiver.post(
      JSON.stringify({
        request_id: 'k1',
        status: 'OK',
        payload: null,
        payload_error: `bad ${KEY}`,
      }),
    );
    await receiver.post(
      JSON.stringify({
        request_id: 'k2',
        status: 'ERROR',
        error: `Invalid status code: 500 key=${encodeURIComponent(KEY)}`,
        payload: { detail: `Authorization: Key ${KEY}` },
      }),
    );
    await receiver.post(JSON.stringify({ request_id: 'k3', status: KEY }));
    await receiver.post(
      JSON.stringify({ request_id: `${KEY}-unknown`, status: 'OK', payload: {} }),
    );
    // A stranger's headers carrying the key.
    const body = JSON.stringify({ request_id: 'k1', status: 'OK', payload: {} });
    await receiver.post(body, {
      'x-fal-webhook-request-id': 'k1',
      'x-fal-webhook-user-id': 'u',
      'x-fal-webhook-timestamp': encodeURIComponent(KEY),
      'x-fal-webhook-signature': 'ab'.repeat(64),
    });
    await receiver.post(body, {
      'x-fal-webhook-request-id': KEY,
      'x-fal-webhook-user-id': 'u',
      'x-fal-webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'x-fal-webhook-signature': KEY,
    });
    await receiver.handler.idle();

    const logged = receiver.events.map((event) =>
      JSON.stringify(event, (_key, value) =>
        value instanceof Error ? { message: value.message } : value,
      ),
    );
    expect(receiver.events.map((event) => event.kind)).toEqual([
      'payload-pending',
      'finalised',
      'rejected',
      'unknown',
      'rejected',
      'rejected',
    ]);
    for (const text of [...logged, ...receiver.answers]) {
      for (const form of forms) expect(text).not.toContain(form);
    }
    expect(logged.join('\n')).toContain('[redacted]');
  });

  it('takes the key from the environment without being told', async () => {
    const previous = process.env.FAL_KEY;
    process.env.FAL_KEY = KEY;
    try {
      const receiver = await startReceiver();
      await queued(receiver.store, 'k4');
      await receiver.post(
        JSON.stringify({ request_id: 'k4', status: 'OK', payload: null, payload_error: KEY }),
      );
      expect(receiver.events).toHaveLength(1);
      expect(JSON.stringify(receiver.events)).not.toContain(KEY);
    } finally {
      if (previous === undefined) delete process.env.FAL_KEY;
      else process.env.FAL_KEY = previous;
    }
  });
});
