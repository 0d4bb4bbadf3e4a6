import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors/index.js';
import type { FalClient } from '../../src/queue/index.js';
import { clientFor, logged, startTestEmulator } from './emulator-harness.js';

let emulator: Emulator;
let client: FalClient;
let dir: string;
let path: string;
let bytes: Buffer;

beforeAll(async () => {
  emulator = await startTestEmulator();
  client = clientFor(emulator);
  dir = await mkdtemp(join(tmpdir(), 'falai-upload-'));
  bytes = randomBytes(300_000);
  path = join(dir, 'clip.mp4');
  await writeFile(path, bytes);
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.ok).toBe(true);
  return Buffer.from(await response.arrayBuffer());
}

describe('upload', () => {
  it('uploads a file in one PUT, streamed, and it round-trips byte for byte', async () => {
    emulator.clearLog();
    const progress: [number, number][] = [];
    const uploaded = await client.upload(path, {
      onProgress: (sent, total) => progress.push([sent, total]),
    });
    expect(uploaded).toMatchObject({ size: bytes.length, contentType: 'video/mp4' });
    expect((await download(uploaded.url)).equals(bytes)).toBe(true);
    expect(progress.at(-1)).toEqual([bytes.length, bytes.length]);
    const kinds = emulator.log.map((e) => e.kind);
    expect(kinds.slice(0, 2)).toEqual(['upload-initiate', 'upload-put']);
    const [initiate] = logged(emulator, 'upload-initiate');
    expect(initiate?.body).toEqual({ content_type: 'video/mp4', file_name: 'clip.mp4' });
    expect(initiate?.headers.authorization).toMatch(/^Key /);
    // The pre-signed PUT never carries the key.
    expect(logged(emulator, 'upload-put')[0]?.headers.authorization).toBeUndefined();
  });

  it('uses multipart above the threshold, retrying a failed part', async () => {
    emulator.clearLog();
    emulator.inject({
      match: { kind: 'upload-part' },
      action: { type: 'status', status: 503 },
      times: 1,
    });
    const progress: number[] = [];
    const uploaded = await client.upload(path, {
      multipartThresholdBytes: 100_000,
      partSizeBytes: 64 * 1024,
      onProgress: (sent) => progress.push(sent),
    });
    expect((await download(uploaded.url)).equals(bytes)).toBe(true);
    const parts = logged(emulator, 'upload-part');
    expect(parts.map((p) => p.status)).toEqual([503, 200, 200, 200, 200, 200]);
    expect(logged(emulator, 'upload-complete')).toHaveLength(1);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    // Each part is streamed with its exact length (pre-signed part URLs need Content-Length).
    const sizes = [65536, 65536, 65536, 65536, 300_000 - 4 * 65536];
    expect(parts.slice(1).map((p) => p.headers['content-length'])).toEqual(sizes.map(String));
    expect(parts.map((p) => p.headers['transfer-encoding'])).not.toContain('chunked');
  });

  it('uploads bytes and blobs in parts too, byte for byte', async () => {
    const data = randomBytes(150_001);
    for (const source of [data, new Blob([data], { type: 'image/png' })]) {
      emulator.clearLog();
      const uploaded = await client.upload(source, {
        multipartThresholdBytes: 100_000,
        partSizeBytes: 50_000,
        contentType: 'image/png',
      });
      expect((await download(uploaded.url)).equals(data)).toBe(true);
      expect(logged(emulator, 'upload-part').map((p) => p.headers['content-length'])).toEqual([
        '50000',
        '50000',
        '50000',
        '1',
      ]);
    }
  });

  it('uploads bytes and blobs with the given type and name', async () => {
    const small = randomBytes(1234);
    const fromBytes = await client.upload(small, { contentType: 'image/png', fileName: 'a.png' });
    expect(fromBytes.contentType).toBe('image/png');
    expect((await download(fromBytes.url)).equals(small)).toBe(true);
    const fromBlob = await client.upload(new Blob([small], { type: 'image/webp' }));
    expect(fromBlob.contentType).toBe('image/webp');
    expect((await download(fromBlob.url)).equals(small)).toBe(true);
  });

  it('rejects a missing file with a MediaError before any request', async () => {
    emulator.clearLog();
    await expect(client.upload(join(dir, 'missing.png'))).rejects.toBeInstanceOf(MediaError);
    expect(emulator.log).toHaveLength(0);
  });
});
