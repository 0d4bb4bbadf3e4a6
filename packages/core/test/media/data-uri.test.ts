import { createHash, randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors/falai-error.js';
import { encodeDataUri, fileDigest, toDataUri } from '../../src/media/index.js';
import { fixture, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const decode = (uri: string) => Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64');

function sparse(name: string, size: number): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

describe('toDataUri', () => {
  it.each([0, 1, 2, 3, 4, 5, 767, 3 * 256 * 1024 + 1, 2 * 1024 * 1024 + 2])(
    'round-trips %i random bytes exactly',
    async (size) => {
      const bytes = randomBytes(size);
      const path = join(dir, `r${size}.bin`);
      writeFileSync(path, bytes);
      const out = await toDataUri(path);
      expect(out.uri).toMatch(/^data:(application\/octet-stream|text\/plain);base64,/);
      expect(decode(out.uri).equals(bytes)).toBe(true);
      expect(out.uri.slice(out.uri.indexOf(',') + 1)).toBe(bytes.toString('base64'));
      expect(out.size).toBe(size);
      expect(out.digest).toBe(sha(bytes));
    },
  );

  it('takes the MIME type from the content, not the name', async () => {
    const out = await toDataUri(fixture('png-named.jpg'));
    expect(out.mime).toBe('image/png');
    expect(out.uri.startsWith('data:image/png;base64,')).toBe(true);
    expect(decode(out.uri).equals(readFileSync(fixture('png-named.jpg')))).toBe(true);
    expect((await toDataUri(fixture('mp4-named.mov'))).mime).toBe('video/mp4');
    expect((await toDataUri(fixture('ok-1280x720-4s.mov'))).mime).toBe('video/quicktime');
  });

  it('refuses files above the limit (default 200 MB) without reading them', async () => {
    const path = sparse('huge.bin', 200 * 1024 * 1024 + 1);
    const err = await toDataUri(path).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.code).toBe('MEDIA_INVALID');
    expect(err.message).toMatch(
      /is 200\.0 MB; data URIs are limited to 200\.0 MB\. Upload the file/,
    );
    await expect(toDataUri(fixture('photo-320x240.jpg'), { maxBytes: 100 })).rejects.toThrow(
      /limited to 100 B/,
    );
  });

  it('warns above 50 MB by default and still encodes', async () => {
    const path = sparse('big.bin', 50 * 1024 * 1024 + 3);
    const warnings: string[] = [];
    const out = await toDataUri(path, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/is 50\.0 MB; data URIs above 50\.0 MB are slow/);
    expect(out.size).toBe(50 * 1024 * 1024 + 3);
    expect(out.uri.length).toBe(
      'data:application/octet-stream;base64,'.length + Math.ceil(out.size / 3) * 4,
    );
  });

  it('a missing file says so', async () => {
    await expect(toDataUri(join(dir, 'nope.png'))).rejects.toThrow(/File not found: .*nope\.png/);
  });
});

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

describe('encodeDataUri (streamed)', () => {
  it.each([
    [0, 3],
    [1, 3],
    [2, 3],
    [3, 3],
    [10, 3],
    [11, 6],
    [1000, 7],
    [1001, 300],
    [4097, 1024],
    [3 * 256 * 1024 + 2, undefined],
  ])('round-trips %i random bytes exactly in chunks of %s', async (size, chunkBytes) => {
    const bytes = randomBytes(size);
    const path = join(dir, `s${size}.bin`);
    writeFileSync(path, bytes);
    const encoding = await encodeDataUri(path, chunkBytes ? { chunkBytes } : {});
    const chunks = await collect(encoding.chunks);
    expect(chunks[0]).toBe(encoding.prefix);
    expect(encoding.prefix).toMatch(/^data:(application\/octet-stream|text\/plain);base64,$/);
    // Every chunk but the last encodes a whole number of 3-byte groups: no padding inside.
    for (const chunk of chunks.slice(1, -1)) expect(chunk).not.toContain('=');
    const uri = chunks.join('');
    expect(uri.length).toBe(encoding.length);
    expect(decode(uri).equals(bytes)).toBe(true);
    expect(uri.slice(encoding.prefix.length)).toBe(bytes.toString('base64'));
    expect(encoding.size).toBe(size);
    expect(await encoding.digest).toBe(sha(bytes));
    if (chunkBytes && size > chunkBytes) {
      expect(chunks.length - 1).toBe(Math.ceil(size / (Math.floor(chunkBytes / 3) * 3)));
    }
  });

  it('refuses an oversized file before yielding anything, and warns before reading', async () => {
    const path = join(dir, 'twelve.bin');
    writeFileSync(path, randomBytes(12));
    const err = await encodeDataUri(path, { maxBytes: 11 }).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.message).toMatch(/is 12 B; data URIs are limited to 11 B\. Upload the file/);
    const events: string[] = [];
    const encoding = await encodeDataUri(path, {
      warnBytes: 10,
      onWarning: (m) => events.push(`warning: ${m}`),
    });
    expect(events).toEqual([expect.stringMatching(/^warning: .*is 12 B; data URIs above 10 B/)]);
    expect(encoding.length).toBe(encoding.prefix.length + 16);
  });

  it('takes the MIME type from the content before streaming', async () => {
    const encoding = await encodeDataUri(fixture('png-named.jpg'));
    expect(encoding.mime).toBe('image/png');
    expect(encoding.prefix).toBe('data:image/png;base64,');
    const uri = (await collect(encoding.chunks)).join('');
    expect(decode(uri).equals(readFileSync(fixture('png-named.jpg')))).toBe(true);
  });

  it('is read once; stopping early closes the file and rejects the digest', async () => {
    const path = join(dir, 'early.bin');
    writeFileSync(path, randomBytes(30));
    const encoding = await encodeDataUri(path, { chunkBytes: 3 });
    for await (const chunk of encoding.chunks) {
      if (chunk !== encoding.prefix) break;
    }
    await expect(encoding.digest).rejects.toThrow(/stopped before the end/);
    await expect(collect(encoding.chunks)).rejects.toThrow(/read only once/);
  });

  it('fails when the file shrinks or grows between the check and the read', async () => {
    const path = join(dir, 'moving.bin');
    writeFileSync(path, randomBytes(30));
    const shrinking = await encodeDataUri(path, { chunkBytes: 3 });
    writeFileSync(path, randomBytes(10));
    await expect(collect(shrinking.chunks)).rejects.toThrow(/shrank while it was being read/);
    await expect(shrinking.digest).rejects.toThrow(/shrank/);
    const growing = await encodeDataUri(path);
    writeFileSync(path, randomBytes(11));
    await expect(collect(growing.chunks)).rejects.toThrow(/grew while it was being read/);
  });
});

describe('fileDigest', () => {
  it('streams a sha256', async () => {
    const bytes = readFileSync(fixture('ok-1280x720-4s.mp4'));
    expect(await fileDigest(fixture('ok-1280x720-4s.mp4'))).toBe(sha(bytes));
  });
});
