import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as v from 'valibot';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, MediaError } from '../../src/errors/falai-error.js';
import { type FileUploader, prepareInput } from '../../src/media/index.js';
import { createModelRegistry } from '../../src/models/index.js';
import { InputSummarySchema } from '../../src/store/record.js';
import { FIXTURES, fixture, tempDir } from './helpers.js';

const registry = createModelRegistry();
const { dir, cleanup } = tempDir();
afterAll(cleanup);
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Records uploads and answers with a fake storage URL. */
function fakeUploader(): FileUploader & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async upload(path, options) {
      calls.push(path);
      const size = readFileSync(path).byteLength;
      options?.onProgress?.(size, size);
      return { url: `https://v3.fal.media/files/test/${calls.length}` };
    },
  };
}

describe('prepareInput', () => {
  it('turns a small local image into a data URI and stores only path + digest', async () => {
    const bytes = readFileSync(fixture('png-named.jpg'));
    const out = await prepareInput(
      'fal-ai/flux/dev/image-to-image',
      { prompt: 'anime', image_url: relative(process.cwd(), fixture('png-named.jpg')) },
      { registry },
    );
    expect(out.input.image_url).toBe(`data:image/png;base64,${bytes.toString('base64')}`);
    expect(out.input.prompt).toBe('anime');
    expect(out.summary.fields).toEqual({ prompt: 'anime', image_url: '<file image_url>' });
    expect(out.summary.files).toEqual([
      {
        field: 'image_url',
        kind: 'path',
        location: fixture('png-named.jpg'),
        digest: sha(bytes),
        size: bytes.byteLength,
        mime: 'image/png',
        sentAs: 'data-uri',
      },
    ]);
    expect(JSON.stringify(out.summary)).not.toContain('base64');
    expect(v.is(InputSummarySchema, out.summary)).toBe(true);
  });

  it('uploads files over the threshold, with progress, and reuses one upload per path', async () => {
    const uploader = fakeUploader();
    const progress: string[] = [];
    const out = await prepareInput(
      'fal-ai/kling-video/o3/pro/video-to-video/edit',
      {
        prompt: 'snow as @Image1, keep @Video1',
        video_url: 'ok-1280x720-4s.mp4',
        image_urls: ['photo-320x240.jpg'],
        elements: [
          {
            frontal_image_url: 'photo-320x240.jpg',
            reference_image_urls: ['https://x.test/a.png'],
          },
        ],
      },
      {
        registry,
        uploader,
        cwd: FIXTURES,
        uploadThresholdBytes: 1000,
        onProgress: (p) => progress.push(`${p.field}:${p.sent}/${p.total}`),
      },
    );
    expect(uploader.calls).toEqual([fixture('ok-1280x720-4s.mp4')]);
    expect(out.input.video_url).toBe('https://v3.fal.media/files/test/1');
    expect(String(out.input.image_urls && (out.input.image_urls as string[])[0])).toMatch(
      /^data:image\/jpeg;base64,/,
    );
    const elements = out.input.elements as {
      frontal_image_url: string;
      reference_image_urls: string[];
    }[];
    expect(elements[0]?.frontal_image_url).toBe((out.input.image_urls as string[])[0]);
    expect(elements[0]?.reference_image_urls).toEqual(['https://x.test/a.png']);
    const size = readFileSync(fixture('ok-1280x720-4s.mp4')).byteLength;
    expect(progress).toEqual([`video_url:${size}/${size}`]);
    expect(out.summary.files.map((f) => [f.field, f.kind, f.sentAs])).toEqual([
      ['video_url', 'path', 'upload'],
      ['image_urls.0', 'path', 'data-uri'],
      ['elements.0.frontal_image_url', 'path', 'data-uri'],
      ['elements.0.reference_image_urls.0', 'url', 'url'],
    ]);
    expect(out.summary.files[0]).toMatchObject({
      uploadedUrl: 'https://v3.fal.media/files/test/1',
      mime: 'video/mp4',
      size,
      digest: sha(readFileSync(fixture('ok-1280x720-4s.mp4'))),
    });
    expect(out.summary.fields.elements).toEqual([
      {
        frontal_image_url: '<file elements.0.frontal_image_url>',
        reference_image_urls: ['<file elements.0.reference_image_urls.0>'],
      },
    ]);
    expect(JSON.stringify(out.summary)).not.toContain('base64');
  });

  it('mode forces data URIs or uploads', async () => {
    const uploader = fakeUploader();
    const input = { prompt: 'x', image_urls: [fixture('photo-320x240.jpg')] };
    const up = await prepareInput('fal-ai/nano-banana-pro/edit', input, {
      registry,
      uploader,
      mode: 'upload',
    });
    expect(up.input.image_urls).toEqual(['https://v3.fal.media/files/test/1']);
    const inline = await prepareInput('fal-ai/nano-banana-pro/edit', input, {
      registry,
      uploader,
      mode: 'data-uri',
      uploadThresholdBytes: 1,
    });
    expect((inline.input.image_urls as string[])[0]).toMatch(/^data:image\/jpeg;base64,/);
    expect(uploader.calls).toHaveLength(1);
    expect(input.image_urls[0]).toBe(fixture('photo-320x240.jpg'));
  });

  it('mode upload without an uploader is a ConfigError; auto falls back to a data URI with a warning', async () => {
    const input = { prompt: 'x', image_urls: [fixture('photo-320x240.jpg')] };
    await expect(
      prepareInput('fal-ai/nano-banana-pro/edit', input, { registry, mode: 'upload' }),
    ).rejects.toBeInstanceOf(ConfigError);
    const out = await prepareInput('fal-ai/nano-banana-pro/edit', input, {
      registry,
      uploadThresholdBytes: 10,
    });
    expect(out.warnings[0]).toMatch(
      /sending it inline as a data URI because uploads are not available/,
    );
  });

  it('inline data URIs are sent as given and summarised by digest, never stored', async () => {
    const bytes = readFileSync(fixture('photo-320x240.jpg'));
    const uri = `data:image/jpeg;base64,${bytes.toString('base64')}`;
    const out = await prepareInput(
      'fal-ai/nano-banana-pro/edit',
      { prompt: 'x', image_urls: [uri, 'https://a.test/b.png'] },
      { registry },
    );
    expect(out.input.image_urls).toEqual([uri, 'https://a.test/b.png']);
    expect(out.summary.files).toEqual([
      {
        field: 'image_urls.0',
        kind: 'data-uri',
        digest: sha(bytes),
        size: bytes.byteLength,
        mime: 'image/jpeg',
        sentAs: 'data-uri',
      },
      { field: 'image_urls.1', kind: 'url', location: 'https://a.test/b.png', sentAs: 'url' },
    ]);
    expect(JSON.stringify(out.summary)).not.toContain('base64');
  });

  it('unknown endpoints: *_url fields are files and stray data URIs are not stored', async () => {
    const out = await prepareInput(
      'acme/unknown-model',
      {
        mask_url: fixture('image-800x600.png'),
        extra: { blob: 'data:text/plain;base64,aGVsbG8=' },
        n: 2,
      },
      { registry },
    );
    expect(out.input.mask_url).toMatch(/^data:image\/png;base64,/);
    expect(out.input.extra).toEqual({ blob: 'data:text/plain;base64,aGVsbG8=' });
    expect(out.summary.fields).toEqual({
      mask_url: '<file mask_url>',
      extra: { blob: '<file extra.blob>' },
      n: 2,
    });
    expect(out.summary.files[1]).toEqual({
      field: 'extra.blob',
      kind: 'data-uri',
      digest: sha(Buffer.from('hello')),
      size: 5,
      mime: 'text/plain',
      sentAs: 'data-uri',
    });
  });

  it('a missing local file is a MediaError naming it', async () => {
    const err = await prepareInput(
      'fal-ai/flux/dev/image-to-image',
      { prompt: 'x', image_url: join(dir, 'gone.png') },
      { registry },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.message).toMatch(/File not found: .*gone\.png/);
  });

  it('a file too big for a data URI with no uploader is refused', async () => {
    const models = join(dir, 'models');
    mkdirSync(join(models, 'acme'), { recursive: true });
    writeFileSync(
      join(models, 'acme', 'tiny.json'),
      JSON.stringify({
        endpointId: 'acme/tiny',
        name: 'Tiny',
        description: 'Accepts images up to 1000 bytes.',
        category: 'image-to-image',
        input: { image_url: { type: 'file', media: 'image', required: true } },
        limits: { image: { formats: ['png', 'jpg'], maxBytes: 1000 } },
        output: { kind: 'images', schema: {} },
        example: { image_url: 'https://example.com/a.png' },
      }),
    );
    const withTiny = createModelRegistry({ userDirs: [models] });
    const path = fixture('image-800x600.png');
    const err = await prepareInput(
      'acme/tiny',
      { image_url: path },
      { registry: withTiny, uploadThresholdBytes: 100 },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.message).toMatch(
      /image_url: .*image-800x600\.png is 2\.9 KB, too big for a data URI \(max 1000 B\), and no uploader is available/,
    );
  });
});
