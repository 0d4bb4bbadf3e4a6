import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  describeDataUri,
  isOmittedOutput,
  omittedDataUris,
  parseJsonExact,
  summariseOutput,
} from '../../src/internal.js';

const png = readFileSync(
  fileURLToPath(new URL('../fixtures/media/image-800x600.png', import.meta.url)),
);
const pngUri = `data:image/png;base64,${png.toString('base64')}`;
const pngDigest = `sha256:${createHash('sha256').update(png).digest('hex')}`;

describe('summariseOutput', () => {
  it('leaves an ordinary result exactly as it is, big integers included', () => {
    const result = parseJsonExact(
      '{"images":[{"url":"https://v3.fal.media/files/lion/a.jpeg","content_type":"image/jpeg","width":1024}],"seed":17454220438242315174,"has_nsfw_concepts":[false],"prompt":"dog","timings":{"inference":2.1}}',
    );
    expect(summariseOutput(result)).toEqual(result);
  });

  it('replaces an inline data URI with its digest, size and type, and the file when given', () => {
    const output = { images: [{ url: pngUri, content_type: 'image/png' }], seed: 1 };
    const summary = summariseOutput(output) as { images: [{ url: unknown }] };
    expect(summary.images[0].url).toEqual({
      $omitted: 'data-uri',
      mime: 'image/png',
      size: png.length,
      digest: pngDigest,
    });
    expect(JSON.stringify(summary)).not.toContain('base64');
    expect(JSON.stringify(summary).length).toBeLessThan(300);

    const withFile = summariseOutput(output, {
      files: new Map([[pngDigest, '/renders/r-1.png']]),
    }) as { images: [{ url: unknown }] };
    expect(withFile.images[0].url).toMatchObject({ path: '/renders/r-1.png' });
    expect(omittedDataUris(withFile)).toEqual([
      {
        $omitted: 'data-uri',
        mime: 'image/png',
        size: png.length,
        digest: pngDigest,
        path: '/renders/r-1.png',
      },
    ]);
  });

  it('decodes percent-encoded data URIs and distrusts a declared type that is not one', () => {
    expect(describeDataUri('data:text/plain,hello%20world')).toEqual({
      mime: 'text/plain',
      size: 11,
      digest: `sha256:${createHash('sha256').update('hello world').digest('hex')}`,
    });
    expect(describeDataUri('data:<script>;base64,AAAA').mime).toBe('application/octet-stream');
  });

  it('bounds long strings, long arrays, wide objects and deep nesting', () => {
    const text = 'é'.repeat(40_000);
    const wide = Object.fromEntries(
      Array.from({ length: 1_500 }, (_, index) => [`k${index}`, index]),
    );
    let deep: unknown = 'bottom';
    for (let level = 0; level < 50; level += 1) deep = { next: deep };
    const summary = summariseOutput({
      text,
      list: Array.from({ length: 2_500 }, (_, index) => index),
      wide,
      deep,
    }) as Record<string, unknown>;
    expect(summary.text).toMatchObject({ $omitted: 'text', length: 40_000 });
    expect((summary.text as { preview: string }).preview).toHaveLength(200);
    const list = summary.list as unknown[];
    expect(list).toHaveLength(1_001);
    expect(list.at(-1)).toEqual({ $omitted: 'items', count: 1_500 });
    expect(Object.keys(summary.wide as object)).toHaveLength(1_001);
    expect((summary.wide as Record<string, unknown>).$omitted).toEqual({
      $omitted: 'items',
      count: 500,
    });
    expect(JSON.stringify(summary.deep)).toContain('"$omitted":"value"');
  });

  it('keeps only the references of an output still over maxBytes', () => {
    const output = {
      images: Array.from({ length: 400 }, (_, index) => ({
        url: `https://v3.fal.media/files/x/${index}.png`,
        caption: 'c'.repeat(2_000),
      })),
    };
    const summary = summariseOutput(output, { maxBytes: 64 * 1024 });
    expect(isOmittedOutput(summary)).toBe(true);
    const text = JSON.stringify(summary);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(64 * 1024);
    expect(summary).toMatchObject({ $omitted: 'value', size: expect.any(Number) });
    expect((summary as { references: string[] }).references[0]).toBe(
      'https://v3.fal.media/files/x/0.png',
    );
  });

  it('never copies a payload-sized key and never lets a key reach the prototype', () => {
    const output = JSON.parse(`{"__proto__":{"polluted":true},"${'k'.repeat(20_000)}":1,"ok":2}`);
    const summary = summariseOutput(output) as Record<string, unknown>;
    expect(Object.keys(summary).sort()).toEqual(['__proto__', 'ok']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(summary)).toBe(Object.prototype);
  });
});
