import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, post, setup, until } from './helpers.js';

let ctx: Awaited<ReturnType<typeof setup>>;
let dir: string;
beforeEach(async () => {
  ctx = await setup();
  dir = await mkdtemp(join(tmpdir(), 'falai-emulator-storage-'));
});
afterEach(async () => {
  await ctx.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('single upload', () => {
  it('initiates, takes the bytes by PUT and serves them back byte for byte', async () => {
    const { emulator } = ctx;
    const file = join(dir, 'clip.bin');
    await writeFile(file, randomBytes(5 * 1024 * 1024 + 123));
    const bytes = await readFile(file);
    const initiate = await post(`${emulator.url}/storage/upload/initiate?storage_type=fal-cdn-v3`, {
      content_type: 'video/mp4',
      file_name: 'my clip.mp4',
    });
    expect(initiate.status).toBe(200);
    const { upload_url, file_url } = await json(initiate);
    expect(upload_url).toMatch(new RegExp(`^${emulator.url}/storage/upload/object/`));
    expect(file_url).toMatch(/\/files\/uploads\/upload-1\/my_clip\.mp4$/);
    expect((await fetch(file_url)).status).toBe(404);
    const put = await fetch(upload_url, {
      method: 'PUT',
      headers: { 'content-type': 'video/mp4' },
      body: bytes,
    });
    expect(put.status).toBe(200);
    const served = await fetch(file_url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('video/mp4');
    expect(served.headers.get('content-length')).toBe(String(bytes.length));
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    const putEntry = emulator.log.find((entry) => entry.kind === 'upload-put');
    expect(putEntry?.body).toBe(bytes.length);
    expect(putEntry?.headers.authorization).toBeUndefined();
    expect(emulator.stats.uploadCalls).toBe(2);
  });

  it('requires a key to initiate and rejects unknown upload URLs', async () => {
    const { emulator } = ctx;
    const noKey = await fetch(`${emulator.url}/storage/upload/initiate`, {
      method: 'POST',
      body: '{}',
    });
    expect(noKey.status).toBe(401);
    const unknown = await fetch(`${emulator.url}/storage/upload/object/nope`, {
      method: 'PUT',
      body: 'x',
    });
    expect(unknown.status).toBe(404);
  });
});

describe('multipart upload', () => {
  it('stores numbered parts with etags and assembles them in part order', async () => {
    const { emulator } = ctx;
    const whole = randomBytes(3 * 1024 * 1024 + 77);
    const chunks = [
      whole.subarray(0, 1024 * 1024),
      whole.subarray(1024 * 1024, 2 * 1024 * 1024),
      whole.subarray(2 * 1024 * 1024),
    ];
    const initiate = await post(
      `${emulator.url}/storage/upload/initiate-multipart?storage_type=fal-cdn-v3`,
      { content_type: 'application/octet-stream', file_name: 'big.bin' },
    );
    const { upload_url, file_url } = await json(initiate);
    const parts = [];
    // Upload out of order: assembly must follow part numbers, not arrival.
    for (const index of [2, 0, 1]) {
      const partNumber = index + 1;
      const response = await fetch(`${upload_url}/${partNumber}`, {
        method: 'PUT',
        body: chunks[index]!,
      });
      expect(response.status).toBe(200);
      const body = await json(response);
      expect(body).toEqual({ partNumber, etag: expect.stringMatching(/^[0-9a-f]{32}$/) });
      parts.push(body);
    }
    const badEtag = await post(`${upload_url}/complete`, {
      parts: [{ partNumber: 1, etag: 'wrong' }],
    });
    expect(badEtag.status).toBe(400);
    const complete = await post(`${upload_url}/complete`, { parts });
    expect(complete.status).toBe(200);
    expect(await json(complete)).toEqual({ file_url });
    const served = await fetch(file_url);
    expect(served.headers.get('content-length')).toBe(String(whole.length));
    expect(Buffer.from(await served.arrayBuffer()).equals(whole)).toBe(true);
    expect(emulator.log.filter((entry) => entry.kind === 'upload-part')).toHaveLength(3);
    expect(emulator.log.filter((entry) => entry.kind === 'upload-complete')).toHaveLength(2);
    const again = await post(`${upload_url}/complete`, { parts });
    expect(again.status).toBe(404);
  });

  it('rejects bad part numbers and an empty parts list', async () => {
    const { emulator } = ctx;
    const { upload_url } = await json(
      await post(`${emulator.url}/storage/upload/initiate-multipart?storage_type=fal-cdn-v3`, {
        file_name: 'x',
      }),
    );
    expect((await fetch(`${upload_url}/0`, { method: 'PUT', body: 'x' })).status).toBe(400);
    expect((await post(`${upload_url}/complete`, { parts: [] })).status).toBe(400);
  });
});

describe('storage_type', () => {
  it('[?] refuses a missing or unknown storage_type on initiate with a pydantic 422', async () => {
    const { emulator } = ctx;
    const missing = await post(`${emulator.url}/storage/upload/initiate`, { file_name: 'a.png' });
    expect(missing.status).toBe(422);
    expect((await json(missing)).detail).toEqual([
      expect.objectContaining({ type: 'missing', loc: ['query', 'storage_type'] }),
    ]);
    const unknown = await post(`${emulator.url}/storage/upload/initiate?storage_type=s3`, {
      file_name: 'a.png',
    });
    expect(unknown.status).toBe(422);
    expect((await json(unknown)).detail).toEqual([
      expect.objectContaining({
        type: 'literal_error',
        loc: ['query', 'storage_type'],
        input: 's3',
        ctx: { expected: "'fal-cdn-v3', 'fal-cdn' or 'gcs'" },
      }),
    ]);
    for (const type of ['fal-cdn-v3', 'gcs']) {
      const ok = await post(`${emulator.url}/storage/upload/initiate?storage_type=${type}`, {
        file_name: 'a.png',
      });
      expect(ok.status).toBe(200);
    }
  });
});

/** Initiates a single upload and returns its URLs. */
async function initiate(url: string, name = 'f.bin') {
  const response = await post(`${url}/storage/upload/initiate?storage_type=fal-cdn-v3`, {
    content_type: 'application/octet-stream',
    file_name: name,
  });
  return (await json(response)) as { upload_url: string; file_url: string };
}

describe('bandwidth', () => {
  it('moves uploads and downloads in small paced pieces when a bandwidth is set', async () => {
    await ctx.stop();
    // 64 KiB/s: a 40 KiB file arrives in ~13 pieces of 3,276 bytes (one per 50 ms).
    ctx = await setup({ bandwidth: 64 * 1024 });
    const { emulator } = ctx;
    const bytes = randomBytes(40 * 1024);
    const { upload_url, file_url } = await initiate(emulator.url);
    expect((await fetch(upload_url, { method: 'PUT', body: bytes })).status).toBe(200);
    const response = await fetch(file_url);
    const reader = response.body?.getReader();
    const received: Buffer[] = [];
    for (;;) {
      const { done, value } = (await reader?.read()) ?? { done: true, value: undefined };
      if (done) break;
      received.push(Buffer.from(value));
    }
    expect(Buffer.concat(received).equals(bytes)).toBe(true);
    // Unthrottled, the whole file arrives in one chunk; paced, in many small ones (a busy
    // machine may merge a few neighbours, so the bounds are loose).
    expect(received.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...received.map((chunk) => chunk.length))).toBeLessThanOrEqual(16 * 1024);
  });
});

describe('stall', () => {
  it('stalls a download after the headers and some bytes, until the client gives up', async () => {
    const { emulator } = ctx;
    const bytes = randomBytes(64 * 1024);
    const { upload_url, file_url } = await initiate(emulator.url);
    await fetch(upload_url, { method: 'PUT', body: bytes });
    emulator.inject({
      match: { kind: 'file' },
      action: { type: 'stall', afterBytes: 1000 },
      times: 1,
    });
    const controller = new AbortController();
    const response = await fetch(file_url, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    const reader = response.body?.getReader();
    let got = 0;
    while (got < 1000) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      got += chunk.value.length;
    }
    expect(got).toBe(1000);
    // Nothing more comes: the next read only ends because the client aborts.
    const next = reader?.read().then(
      () => 'data',
      () => 'aborted',
    );
    await until(() => emulator.log.some((entry) => entry.fault === 'stall'), 'stall logged');
    controller.abort();
    expect(await next).toBe('aborted');
    // The rule was used once: the next download is whole.
    const whole = Buffer.from(await (await fetch(file_url)).arrayBuffer());
    expect(whole.equals(bytes)).toBe(true);
  });

  it('stalls an upload body: bytes are not read past afterBytes and no answer comes', async () => {
    const { emulator } = ctx;
    const { upload_url, file_url } = await initiate(emulator.url);
    emulator.inject({
      match: { kind: 'upload-put' },
      action: { type: 'stall', afterBytes: 0 },
      times: 1,
    });
    const outcome = await new Promise<string>((resolve) => {
      const req = request(upload_url, { method: 'PUT' }, () => resolve('answered'));
      req.on('error', () => resolve('gave up'));
      req.setTimeout(300, () => req.destroy());
      // 8 MiB cannot fit in socket buffers: the writes back up while the server reads nothing.
      req.end(randomBytes(8 * 1024 * 1024));
    });
    expect(outcome).toBe('gave up');
    expect(emulator.log.find((entry) => entry.kind === 'upload-put')?.fault).toBe('stall');
    expect((await fetch(file_url)).status).toBe(404);
  });
});
