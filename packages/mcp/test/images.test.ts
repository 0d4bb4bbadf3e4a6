import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlineImages } from '../src/images.js';

let dir: string;
let small: string;
let large: string;
let alpha: string;
let text: string;

/** Noise, so that compression cannot make the image small. */
function noise(width: number, height: number, channels: 3 | 4): Buffer {
  return randomBytes(width * height * channels);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-mcp-images-'));
  small = join(dir, 'small.png');
  large = join(dir, 'large.png');
  alpha = join(dir, 'alpha.png');
  text = join(dir, 'notes.txt');
  await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c33' } })
    .png()
    .toFile(small);
  await sharp(noise(1200, 900, 3), { raw: { width: 1200, height: 900, channels: 3 } })
    .png()
    .toFile(large);
  await sharp(noise(900, 900, 4), { raw: { width: 900, height: 900, channels: 4 } })
    .png()
    .toFile(alpha);
  await writeFile(text, 'not an image');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('inlineImages', () => {
  it('sends a small image as it is', async () => {
    const { images, notes } = await inlineImages([{ url: 'u', path: small, mime: 'image/png' }]);
    expect(notes).toEqual([]);
    expect(images).toHaveLength(1);
    expect(images[0]?.mimeType).toBe('image/png');
    expect(
      Buffer.from(images[0]?.data ?? '', 'base64')
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it('downscales an image over the bound until it fits (JPEG; WebP with transparency)', async () => {
    const maxBytes = 200_000;
    expect((await stat(large)).size).toBeGreaterThan(maxBytes);
    const { images } = await inlineImages(
      [
        { url: 'u', path: large, mime: 'image/png' },
        { url: 'u', path: alpha, mime: 'image/png' },
      ],
      { maxBytes },
    );
    expect(images.map((image) => image.mimeType)).toEqual(['image/jpeg', 'image/webp']);
    for (const image of images) {
      const bytes = Buffer.from(image.data, 'base64');
      expect(bytes.length).toBeLessThanOrEqual(maxBytes);
      const meta = await sharp(bytes).metadata();
      expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThan(1200);
    }
  });

  it('never sends a file whose bytes are not an image, whatever the record says', async () => {
    const key = join(dir, 'id_ed25519');
    await writeFile(key, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n');
    const { images, notes } = await inlineImages([{ url: 'u', path: key, mime: 'image/png' }]);
    expect(images).toEqual([]);
    expect(notes.join(' ')).toContain('is not an image; not shown inline');
  });

  it('skips what is not an image, and images past the count, with a note', async () => {
    const { images, notes } = await inlineImages(
      [
        { url: 'u', path: text, mime: 'text/plain' },
        { url: 'u', path: small, mime: 'image/png' },
        { url: 'u', path: small, mime: 'image/png' },
        { url: 'u', path: join(dir, 'gone.png'), mime: 'image/png' },
      ],
      { maxImages: 1 },
    );
    expect(images).toHaveLength(1);
    expect(notes.join(' ')).toMatch(/not shown inline \(at most 1\)/);
  });
});
