import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkDefinition,
  convertOpenApi,
  convertPlatformModels,
  createModelRegistry,
  loadOpenApi,
} from '../../src/models/index.js';

const dir = fileURLToPath(new URL('../fixtures/openapi/', import.meta.url));
const PER_MODEL = `${dir}per-model-kling-v2-i2v.json`;
const PLATFORM = `${dir}platform-models-expand-openapi.json`;
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as object;

describe('convertOpenApi: per-model queue OpenAPI', () => {
  const def = convertOpenApi(read(PER_MODEL));

  it('takes id, category and fields in x-fal-order-properties order', () => {
    expect(def.endpointId).toBe('fal-ai/kling-video/v2/master/image-to-video');
    expect(def.category).toBe('image-to-video');
    expect(Object.keys(def.input)).toEqual([
      'prompt',
      'image_url',
      'duration',
      'aspect_ratio',
      'negative_prompt',
      'cfg_scale',
      'seed',
    ]);
    expect(checkDefinition(def)).toEqual([]);
  });

  it('maps types, enums, ranges, $ref/allOf/anyOf and file fields', () => {
    expect(def.input.prompt).toMatchObject({ type: 'string', required: true, maxLength: 2500 });
    expect(def.input.image_url).toMatchObject({ type: 'file', media: 'image', required: true });
    expect(def.input.duration).toMatchObject({ type: 'string', enum: ['5', '10'], default: '5' });
    expect(def.input.aspect_ratio).toMatchObject({
      type: 'string',
      enum: ['16:9', '9:16', '1:1'],
      default: '16:9',
    });
    expect(def.input.cfg_scale).toMatchObject({
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.5,
    });
    expect(def.input.seed).toEqual({ type: 'integer' });
    expect(def.output).toMatchObject({
      kind: 'video',
      schema: { video: { type: 'object', required: true } },
    });
    expect(def.example).toEqual({
      prompt: 'A tiger walks through snow',
      image_url: 'https://v3.fal.media/files/tiger.png',
      duration: '5',
    });
    expect(def.unconfirmed?.length).toBeGreaterThan(0);
  });

  it('the converted model validates inputs in a registry', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { join, dirname } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const user = mkdtempSync(join(tmpdir(), 'falai-openapi-'));
    try {
      const file = join(user, `${def.endpointId}.json`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(def));
      const registry = createModelRegistry({ userDirs: [user] });
      expect((await registry.validate(def.endpointId, def.example)).ok).toBe(true);
      const bad = await registry.validate(def.endpointId, {
        prompt: 'x',
        duration: '7',
        cfg_scale: 2,
      });
      expect(bad.issues.map((i) => i.path[0])).toEqual(['image_url', 'duration', 'cfg_scale']);
    } finally {
      rmSync(user, { recursive: true, force: true });
    }
  });
});

describe('convertPlatformModels: GET /v1/models?expand=openapi-3.0', () => {
  it('returns one definition per model, using metadata', () => {
    const defs = convertPlatformModels(read(PLATFORM));
    expect(defs.map((d) => [d.endpointId, d.name, d.category, d.output.kind])).toEqual([
      ['fal-ai/recraft/v3/text-to-image', 'Recraft V3', 'text-to-image', 'images'],
      ['fal-ai/video-upscaler', 'Video Upscaler', 'video-to-video', 'video'],
    ]);
    const [recraft, upscaler] = defs;
    expect(recraft?.description).toBe(
      'Recraft V3 generates images with long texts and vector art.',
    );
    expect(recraft?.input.image_size).toMatchObject({
      type: 'string',
      enum: ['square_hd', 'square', 'portrait_4_3', 'landscape_16_9'],
    });
    expect(recraft?.input.colors?.items).toMatchObject({
      type: 'object',
      properties: { r: { type: 'integer', minimum: 0, maximum: 255 } },
    });
    expect(recraft?.example).toEqual({ prompt: 'example' });
    expect(upscaler?.input.video_url).toMatchObject({
      type: 'file',
      media: 'video',
      required: true,
    });
    expect(upscaler?.example).toEqual({ video_url: 'https://example.com/video.mp4' });
    for (const d of defs) expect(checkDefinition(d)).toEqual([]);
  });

  it('convertOpenApi picks one model by endpointId, and refuses ambiguity', () => {
    expect(convertOpenApi(read(PLATFORM), { endpointId: 'fal-ai/video-upscaler' }).endpointId).toBe(
      'fal-ai/video-upscaler',
    );
    expect(() => convertOpenApi(read(PLATFORM))).toThrow(/lists 2 models; pass endpointId/);
  });

  it('explains entries without an OpenAPI document', () => {
    expect(() => convertPlatformModels({ models: [{ endpoint_id: 'a/b', metadata: {} }] })).toThrow(
      /expand=openapi-3.0/,
    );
    expect(() =>
      convertPlatformModels({
        models: [
          { endpoint_id: 'a/b', openapi: { error: { code: 'x', message: 'schema unavailable' } } },
        ],
      }),
    ).toThrow(/no OpenAPI for a\/b: schema unavailable/);
    expect(() => convertOpenApi({ openapi: '3.0.4', info: { title: 'x' }, paths: {} })).toThrow(
      /Cannot tell which endpoint/,
    );
  });
});

describe('loadOpenApi', () => {
  it('reads a file', async () => {
    expect(await loadOpenApi(PER_MODEL)).toEqual(read(PER_MODEL));
    await expect(loadOpenApi(`${dir}missing.json`)).rejects.toThrow(/Cannot read OpenAPI file/);
  });

  it('fetches a URL from a local server and reports HTTP errors', async () => {
    const body = readFileSync(PER_MODEL);
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/openapi.json')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      } else if (req.url === '/html') {
        res.writeHead(200).end('<html>');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const doc = await loadOpenApi(
        `${base}/openapi.json?endpoint_id=fal-ai/kling-video/v2/master/image-to-video`,
      );
      expect(convertOpenApi(doc).endpointId).toBe('fal-ai/kling-video/v2/master/image-to-video');
      await expect(loadOpenApi(`${base}/nope`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(loadOpenApi(`${base}/html`)).rejects.toThrow(/is not a JSON OpenAPI document/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
