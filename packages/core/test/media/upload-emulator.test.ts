import { createHash } from 'node:crypto';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileDigest, prepareInput } from '../../src/media/index.js';
import { createModelRegistry } from '../../src/models/index.js';
import { createFalClient } from '../../src/queue/index.js';
import { tempDir } from './helpers.js';

/** Just over fal-js's 90 MiB multipart threshold (reference §9). */
const SIZE = 90 * 1024 * 1024 + 12345;

/** A file of non-repeating bytes, written in chunks so memory stays small. */
function writePatterned(path: string, size: number): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  let written = 0;
  let block = 0;
  while (written < size) {
    const seed = createHash('sha256').update(String(block++)).digest();
    for (let i = 0; i < chunk.length; i += seed.length) seed.copy(chunk, i);
    chunk.writeUInt32BE(block, 0);
    const n = Math.min(chunk.length, size - written);
    writeSync(fd, chunk, 0, n);
    written += n;
  }
  closeSync(fd);
}

async function urlDigest(url: string): Promise<{ digest: string; size: number }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const hash = createHash('sha256');
  let size = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    hash.update(value);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

describe('uploads through the emulator', () => {
  const { dir, cleanup } = tempDir();
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, strict: true });
  });
  afterAll(async () => {
    await emulator?.close();
    cleanup();
  });

  it('a file over the multipart threshold round-trips byte for byte via prepareInput', async () => {
    const path = join(dir, 'big.mp4');
    writePatterned(path, SIZE);
    const client = createFalClient({ credentials: 'id:secret', baseUrl: emulator.url });
    const progress: number[] = [];
    const out = await prepareInput(
      'acme/any-model',
      { video_url: path },
      {
        registry: createModelRegistry(),
        uploader: client,
        onProgress: (p) => progress.push(p.sent),
      },
    );
    const url = out.input.video_url as string;
    expect(url.startsWith(emulator.url)).toBe(true);
    const back = await urlDigest(url);
    expect(back.size).toBe(statSync(path).size);
    expect(back.digest).toBe(await fileDigest(path));
    expect(out.summary.files[0]).toMatchObject({
      sentAs: 'upload',
      uploadedUrl: url,
      size: SIZE,
      digest: back.digest,
    });
    expect(progress.at(-1)).toBe(SIZE);
    const multipart = emulator.log.filter((e) => JSON.stringify(e).includes('initiate-multipart'));
    expect(multipart.length).toBeGreaterThan(0);
  });
});
