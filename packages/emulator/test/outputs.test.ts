import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.js';
import { parseExact } from '../src/json.js';
import { imageSize } from '../src/outputs.js';
import { completion, get, type Json, json, setup, submit } from './helpers.js';

let ctx: Awaited<ReturnType<typeof setup>>;
beforeEach(async () => {
  ctx = await setup();
});
afterEach(async () => {
  await ctx.stop();
});

async function resultOf(endpointId: string, input: unknown): Promise<Json> {
  const job = await submit(ctx.emulator, endpointId, input);
  await completion(ctx.emulator, job.request_id);
  const response = await get(job.response_url);
  expect(response.status).toBe(200);
  // Exact: seeds above 2^53 keep their digits.
  return parseExact(await response.text());
}

async function decode(image: Json) {
  const response = await fetch(image.url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(image.content_type);
  const bytes = Buffer.from(await response.arrayBuffer());
  expect(bytes.length).toBe(image.file_size);
  return sharp(bytes).metadata();
}

describe('image outputs', () => {
  it('makes real images honouring output_format, num_images and aspect_ratio', async () => {
    const output = await resultOf('acme/painter', {
      prompt: 'a fox',
      num_images: 2,
      aspect_ratio: '16:9',
      output_format: 'webp',
    });
    expect(Object.keys(output).sort()).toEqual(['description', 'images']);
    expect(output.description).toContain('a fox');
    expect(output.images).toHaveLength(2);
    for (const image of output.images) {
      expect(image).toMatchObject({ content_type: 'image/webp', width: 96, height: 54 });
      expect(image.file_name).toMatch(/\.webp$/);
      const meta = await decode(image);
      expect(meta).toMatchObject({ format: 'webp', width: 96, height: 54 });
    }
  });

  it('uses the definition default format and the flux output shape', async () => {
    const output = await resultOf('acme/flux/dev/image-to-image', {
      prompt: 'p',
      image_url: 'http://127.0.0.1/in.png',
      seed: 99,
    });
    expect(output).toMatchObject({
      has_nsfw_concepts: [false],
      prompt: 'p',
      seed: 99,
      timings: { inference: 0.02 },
    });
    const meta = await decode(output.images[0]);
    expect(meta).toMatchObject({ format: 'jpeg', width: 64, height: 64 });
  });

  it('gives unknown models the shape of a real delivery: nsfw flags beside images, a 64-bit seed', async () => {
    const output = await resultOf('someone/unknown-model', { prompt: 'p', num_images: 2 });
    expect(Object.keys(output).sort()).toEqual([
      'has_nsfw_concepts',
      'images',
      'prompt',
      'seed',
      'timings',
    ]);
    expect(output.has_nsfw_concepts).toEqual([false, false]);
    expect(typeof output.seed).toBe('bigint');
    expect(output.seed).toBeGreaterThanOrEqual(0n);
    expect(output.seed).toBeLessThan(2n ** 64n);
    const meta = await decode(output.images[0]);
    expect(meta.format).toBe('png');
  });

  it('draws most seeds above 2^53, so JSON.parse would round them', async () => {
    const seeds: bigint[] = [];
    for (let index = 0; index < 8; index++) {
      seeds.push((await resultOf('someone/unknown-model', { prompt: `p${index}` })).seed);
    }
    const large = seeds.filter((seed) => seed > 2n ** 53n);
    expect(large.length).toBeGreaterThan(0);
    const one = large[0] as bigint;
    expect(BigInt(Number(one))).not.toBe(one);
  });

  it('flags images as NSFW when told to: black pixels and has_nsfw_concepts true', async () => {
    ctx.emulator.setModel('acme/flux/dev/image-to-image', { nsfw: true });
    const output = await resultOf('acme/flux/dev/image-to-image', {
      prompt: 'p',
      image_url: 'http://127.0.0.1/in.png',
      output_format: 'png',
    });
    expect(output.has_nsfw_concepts).toEqual([true]);
    const bytes = Buffer.from(await (await fetch(output.images[0].url)).arrayBuffer());
    const stats = await sharp(bytes).stats();
    expect(stats.channels.slice(0, 3).map((channel) => channel.max)).toEqual([0, 0, 0]);
  });

  it('[?] sends x-fal-billable-units on results: images made, requested seconds of video, or as set', async () => {
    const { emulator } = ctx;
    const images = await submit(emulator, 'acme/painter', { prompt: 'p', num_images: 3 });
    const video = { prompt: 'p', video_url: 'http://127.0.0.1/in.mp4' };
    const byDefault = await submit(emulator, 'acme/video/v1/edit', video);
    const requested = await submit(emulator, 'acme/video/v1/edit', { ...video, duration: '10' });
    emulator.setModel('acme/painter', { billableUnits: '3.14159265' });
    const set = await submit(emulator, 'acme/painter', { prompt: 'p' });
    for (const job of [images, byDefault, requested, set]) {
      await completion(emulator, job.request_id);
    }
    const units = async (url: string) => (await get(url)).headers.get('x-fal-billable-units');
    expect(await units(images.response_url)).toBe('3');
    // [?] Video bills the requested duration, else the schema default (the sample is 1 s).
    expect(await units(byDefault.response_url)).toBe('5');
    expect(await units(requested.response_url)).toBe('10');
    expect(await units(set.response_url)).toBe('3.14159265');
  });

  it('keeps aspect ratios in small pixel sizes', () => {
    expect(imageSize('1:1')).toEqual({ width: 64, height: 64 });
    expect(imageSize('9:16')).toEqual({ width: 54, height: 96 });
    expect(imageSize('auto')).toEqual({ width: 64, height: 64 });
  });
});

describe('video outputs', () => {
  it('serves a real MP4 for video models', async () => {
    const output = await resultOf('acme/video/v1/edit', {
      prompt: 'p',
      video_url: 'http://127.0.0.1/in.mp4',
    });
    expect(output.video).toMatchObject({ content_type: 'video/mp4' });
    const response = await fetch(output.video.url);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.length).toBe(output.video.file_size);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const head = await fetch(output.video.url, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
  });
});

describe('repository models', () => {
  it('loads the repo definitions by default and shapes their outputs', async () => {
    const emulator = await startEmulator({
      deterministic: true,
      defaultLatency: { queueMs: 0, runMs: 0 },
    });
    try {
      // The definitions are written by another team member; assert only the ones present.
      for (const id of emulator.models) {
        expect(id).toMatch(/^[\w-]+\/[\w./-]+$/);
      }
      if (emulator.models.includes('fal-ai/kling-video/o3/pro/video-to-video/edit')) {
        const job = await submit(emulator, 'fal-ai/kling-video/o3/pro/video-to-video/edit', {
          prompt: 'p',
          video_url: 'http://127.0.0.1/v.mp4',
        });
        await completion(emulator, job.request_id);
        const body = await json(await get(job.response_url));
        expect(body.video.content_type).toBe('video/mp4');
      }
    } finally {
      await emulator.close();
    }
  });
});
