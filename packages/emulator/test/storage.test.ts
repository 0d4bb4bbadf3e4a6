import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, post, setup } from './helpers.js';

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
        body: chunks[index],
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
      await post(`${emulator.url}/storage/upload/initiate-multipart`, { file_name: 'x' }),
    );
    expect((await fetch(`${upload_url}/0`, { method: 'PUT', body: 'x' })).status).toBe(400);
    expect((await post(`${upload_url}/complete`, { parts: [] })).status).toBe(400);
  });
});
