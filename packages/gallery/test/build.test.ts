import { createHash } from 'node:crypto';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PendingRecord } from '@falai/core';
import { FalaiError } from '@falai/core';
import { newPendingRecord } from '@falai/core/internal';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGallery, MARKER_FILE } from '../src/build.js';
import type { GalleryData } from '../src/page.js';

const VIDEO = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'core',
  'test',
  'fixtures',
  'media',
  'ok-1280x720-4s.mp4',
);
const HOSTILE = '</script><script>alert("pwned")</script><img src=x onerror=alert(1)>';

let dir: string;
let outputs: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-gallery-build-'));
  outputs = join(dir, 'falai-output');
  await mkdir(outputs);
  // A large photo-like JPEG (noise) that needs a thumbnail, a small PNG that does not.
  const noise = Buffer.alloc(1200 * 800 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  await sharp(noise, { raw: { width: 1200, height: 800, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(join(outputs, 'big-0.jpg'));
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3366cc' } })
    .png()
    .toFile(join(outputs, 'small-0.png'));
  await copyFile(VIDEO, join(outputs, 'clip-0.mp4'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(
  id: string,
  at: string,
  extra: Partial<PendingRecord> & Record<string, unknown>,
): PendingRecord {
  const base = newPendingRecord({
    requestId: id,
    endpointId: 'fal-ai/nano-banana-pro',
    now: new Date(at),
  });
  return { ...base, status: 'completed', completedAt: at, ...extra } as PendingRecord;
}

function records(): PendingRecord[] {
  return [
    record('big', '2026-03-01T10:00:00.000Z', {
      input: { fields: { prompt: 'a lighthouse at dusk', seed: 17454220438242315174n }, files: [] },
      outputs: [
        { url: 'https://cdn.test/big-0.jpg', path: join(outputs, 'big-0.jpg'), mime: 'image/jpeg' },
      ],
    }),
    record('small', '2026-03-02T10:00:00.000Z', {
      endpointId: 'fal-ai/flux/dev/image-to-image',
      input: {
        fields: { prompt: HOSTILE, image_url: '<file image_url>' },
        files: [{ field: 'image_url', kind: 'url', location: 'https://cdn.test/big-0.jpg' }],
      },
      outputs: [{ url: 'https://cdn.test/small-0.png', path: join(outputs, 'small-0.png') }],
    }),
    record('clip', '2026-03-03T10:00:00.000Z', {
      endpointId: 'fal-ai/kling-video/o3/standard/video-to-video/edit',
      input: { fields: { prompt: 'snow everywhere' }, files: [] },
      outputs: [
        { url: 'https://cdn.test/clip.mp4', path: join(outputs, 'clip-0.mp4'), mime: 'video/mp4' },
      ],
    }),
    record('gone', '2026-03-04T10:00:00.000Z', {
      input: { fields: { prompt: 'deleted since' }, files: [] },
      outputs: [{ url: 'https://cdn.test/gone.png', path: join(outputs, 'nope.png') }],
    }),
    record('remote', '2026-03-04T11:00:00.000Z', {
      input: { fields: { prompt: 'never downloaded' }, files: [] },
      result: {
        images: [
          { url: 'https://cdn.test/remote-0.png' },
          { url: 'https://cdn.test/remote-1.png' },
        ],
      },
    }),
    { ...record('waiting', '2026-03-05T10:00:00.000Z', {}), status: 'running' },
  ];
}

async function readData(out: string): Promise<GalleryData> {
  return JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as GalleryData;
}

describe('buildGallery', () => {
  it('writes a site of completed requests with their files, thumbnails and lineage', async () => {
    const out = join(dir, 'site');
    const summary = await buildGallery({
      records: records(),
      outDir: out,
      now: () => new Date('2026-03-06T00:00:00Z'),
    });
    expect(summary).toMatchObject({
      items: 5,
      files: 3,
      withoutFiles: 2,
      missingFiles: 3,
      skipped: 1,
      copied: 3,
      thumbnails: 1,
      removed: 0,
    });
    const data = await readData(out);
    expect(data.items.map((item) => item.id)).toEqual(['remote', 'gone', 'clip', 'small', 'big']);
    const byId = new Map(data.items.map((item) => [item.id, item]));
    const big = byId.get('big');
    expect(big?.seed).toBe('17454220438242315174');
    expect(big?.children).toEqual(['small']);
    expect(byId.get('small')?.parents).toEqual(['big']);
    expect(byId.get('gone')).toMatchObject({ media: [], missingFiles: 1 });
    expect(byId.get('remote')).toMatchObject({ media: [], missingFiles: 2 });

    // Every file the page refers to exists, by a relative path inside the site.
    const [image] = big?.media ?? [];
    expect(image).toMatchObject({
      kind: 'image',
      src: 'media/big-0.jpg',
      width: 1200,
      height: 800,
    });
    expect(image?.thumb).toBe('thumbs/big-0.jpg');
    const thumb = await sharp(join(out, image?.thumb ?? '')).metadata();
    expect(thumb).toMatchObject({ format: 'jpeg', width: 480, height: 320 });
    expect(byId.get('small')?.media[0]).toMatchObject({ src: 'media/small-0.png', width: 64 });
    expect(byId.get('small')?.media[0]?.thumb).toBeUndefined();
    const [video] = byId.get('clip')?.media ?? [];
    expect(video).toMatchObject({
      kind: 'video',
      src: 'media/clip-0.mp4',
      width: 1280,
      height: 720,
    });
    expect(await readFile(join(out, 'media', 'clip-0.mp4'))).toEqual(await readFile(VIDEO));
  });

  it('keeps hostile prompts as text: no markup, two script elements, and a policy that pins them', async () => {
    const out = join(dir, 'site');
    const html = await readFile(join(out, 'index.html'), 'utf8');
    expect(html).not.toContain('alert("pwned")</script>');
    expect(html).not.toContain('<img src=x');
    expect(html.match(/<script/g)).toHaveLength(2);
    // The data element holds the prompt exactly, once parsed.
    const json = /<script type="application\/json" id="gallery-data">([^<]*)<\/script>/.exec(html);
    const data = JSON.parse(json?.[1] ?? '') as GalleryData;
    expect(data.items.find((item) => item.id === 'small')?.prompt).toBe(HOSTILE);
    // The only runnable script is the one whose hash the page's policy names.
    const script = /<script>([\s\S]*)<\/script>\s*<\/body>/.exec(html)?.[1] ?? '';
    const digest = createHash('sha256').update(script).digest('base64');
    expect(html).toContain(`script-src &#39;sha256-${digest}&#39;`);
    // Outside the data (where input URLs are text to show), the page names no other place.
    const markup = html.replace(json?.[0] ?? '', '');
    expect(markup).not.toMatch(/https?:\/\//);
    expect(markup).not.toMatch(/\b(?:src|href)="(?!media\/|thumbs\/)/);
  });

  it('does nothing again for unchanged files, and removes what no card uses', async () => {
    const out = join(dir, 'site');
    const again = await buildGallery({ records: records(), outDir: out });
    expect(again).toMatchObject({ copied: 0, thumbnails: 0, removed: 0, files: 3 });
    const fewer = records().filter((item) => item.requestId !== 'big');
    const after = await buildGallery({ records: fewer, outDir: out });
    expect(after).toMatchObject({ items: 4, copied: 0, removed: 2 });
    expect((await readdir(join(out, 'media'))).sort()).toEqual(['clip-0.mp4', 'small-0.png']);
    expect(await readdir(join(out, 'thumbs'))).toEqual([]);
    // The user's files are untouched (the site held links or copies).
    expect((await stat(join(outputs, 'big-0.jpg'))).isFile()).toBe(true);
  });

  it('still works after the folder is moved: every path is relative and present', async () => {
    const out = join(dir, 'to-move');
    await buildGallery({ records: records(), outDir: out });
    const moved = join(dir, 'moved', 'elsewhere');
    await mkdir(dirname(moved), { recursive: true });
    await rename(out, moved);
    const data = await readData(moved);
    const paths = data.items.flatMap((item) =>
      item.media.flatMap((media) => [media.src, ...(media.thumb ? [media.thumb] : [])]),
    );
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) {
      expect(path).not.toMatch(/^(\/|[a-z]+:)/i);
      expect((await stat(join(moved, path))).isFile()).toBe(true);
    }
  });

  it('refuses a folder that holds other files, and leaves it as it was', async () => {
    const mine = join(dir, 'my-folder');
    await mkdir(join(mine, 'media'), { recursive: true });
    await writeFile(join(mine, 'media', 'holiday.jpg'), 'precious');
    const error = await buildGallery({ records: records(), outDir: mine }).catch((e: unknown) => e);
    expect(FalaiError.isInstance(error)).toBe(true);
    expect((error as FalaiError).code).toBe('OUTPUT_EXISTS');
    expect((error as FalaiError).message).toMatch(/--out <dir>/);
    expect(await readdir(mine)).toEqual(['media']);
    expect(await readFile(join(mine, 'media', 'holiday.jpg'), 'utf8')).toBe('precious');
    await expect(stat(join(mine, MARKER_FILE))).rejects.toThrow();
  });

  it('keeps transparency in thumbnails of images that have it (WebP), and rotates by EXIF', async () => {
    const png = join(outputs, 'alpha-0.png');
    await sharp({
      create: {
        width: 900,
        height: 600,
        channels: 4,
        background: { r: 0, g: 0, b: 0, alpha: 0.3 },
      },
    })
      .png()
      .toFile(png);
    const turned = join(outputs, 'turned-0.jpg');
    await sharp({ create: { width: 900, height: 600, channels: 3, background: '#888888' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(turned);
    const out = join(dir, 'alpha');
    await buildGallery({
      records: [
        record('alpha', '2026-03-01T10:00:00.000Z', {
          outputs: [{ url: 'https://cdn.test/alpha.png', path: png }],
        }),
        record('turned', '2026-03-01T11:00:00.000Z', {
          outputs: [{ url: 'https://cdn.test/t.jpg', path: turned }],
        }),
      ],
      outDir: out,
    });
    const data = await readData(out);
    const alpha = data.items.find((item) => item.id === 'alpha')?.media[0];
    expect(alpha?.thumb).toBe('thumbs/alpha-0.webp');
    expect(await sharp(join(out, alpha?.thumb ?? '')).metadata()).toMatchObject({
      format: 'webp',
      hasAlpha: true,
    });
    // Shown upright: the page's sizes and the thumbnail follow the EXIF orientation.
    const upright = data.items.find((item) => item.id === 'turned')?.media[0];
    expect(upright).toMatchObject({ width: 600, height: 900, thumb: 'thumbs/turned-0.jpg' });
    expect(await sharp(join(out, upright?.thumb ?? '')).metadata()).toMatchObject({
      width: 320,
      height: 480,
    });
  });

  it('never publishes a file a record names unless its bytes are media', async () => {
    // A shared or edited store can name any path: a key, text dressed as an image, a database,
    // an archive or a document (recognised formats, but not what a model makes).
    const secrets = join(dir, 'home', '.ssh');
    await mkdir(secrets, { recursive: true });
    await writeFile(join(secrets, 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n');
    await writeFile(join(secrets, 'dressed.png'), 'not an image at all');
    const sqlite = Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(200)]);
    await writeFile(join(secrets, 'store.png'), sqlite);
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200)]);
    await writeFile(join(secrets, 'backup.png'), zip);
    await writeFile(
      join(secrets, 'tax.png'),
      Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n'),
    );
    const out = join(dir, 'site-hostile');
    const summary = await buildGallery({
      records: [
        record('steal', '2026-03-06T10:00:00.000Z', {
          input: { fields: { prompt: 'innocent' }, files: [] },
          outputs: [
            { url: 'https://cdn.test/a.png', path: join(secrets, 'id_ed25519'), mime: 'image/png' },
            { url: 'https://cdn.test/b.png', path: join(secrets, 'dressed.png') },
            { url: 'https://cdn.test/c.png', path: join(outputs, 'small-0.png') },
            { url: 'https://cdn.test/d.png', path: join(secrets, 'store.png') },
            { url: 'https://cdn.test/e.png', path: join(secrets, 'backup.png') },
            { url: 'https://cdn.test/f.png', path: join(secrets, 'tax.png') },
            { url: 'https://cdn.test/g.png', path: join(secrets, 'gone.png') },
          ],
        }),
      ],
      outDir: out,
    });
    // Refused (on this machine, not media) and missing (not here at all) are told apart.
    expect(summary.refusedFiles).toBe(5);
    expect(summary.missingFiles).toBe(1);
    expect(summary.files).toBe(1);
    const data = await readData(out);
    expect(data.items[0]?.media.map((media) => media.name)).toEqual(['steal-2.png']);
    expect(await readdir(join(out, 'media'))).toEqual(['steal-2.png']);
  });

  it('an empty store gives a page that says how to fill it', async () => {
    const out = join(dir, 'empty');
    const summary = await buildGallery({ records: [], outDir: out });
    expect(summary.items).toBe(0);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    expect(html).toContain('0 requests');
  });
});
