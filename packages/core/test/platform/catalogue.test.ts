import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, InputError } from '../../src/errors/index.js';
import { createModelRegistry } from '../../src/models/index.js';
import { convertOpenApi } from '../../src/models/openapi.js';
import type { PlatformClient } from '../../src/platform/index.js';
import { platformCalls, platformFor, startPlatformEmulator } from './harness.js';

let emulator: Emulator;
let platform: PlatformClient;
beforeAll(async () => {
  emulator = await startPlatformEmulator();
  platform = platformFor(emulator);
});
afterAll(async () => {
  await emulator.close();
});

describe('catalogue search', () => {
  it('finds models by text across pages through the iterator', async () => {
    emulator.clearLog();
    const found = [];
    for await (const model of platform.iterateModels({ query: 'flux', limit: 2 }))
      found.push(model);
    const ids = found.map((model) => model.endpointId);
    expect(ids.length).toBeGreaterThan(4);
    expect(ids).toContain('fal-ai/flux/dev');
    expect(new Set(ids).size).toBe(ids.length);
    for (const model of found) {
      const text = `${model.endpointId} ${model.metadata?.displayName} ${model.metadata?.description} ${model.metadata?.tags.join(' ')}`;
      expect(text.toLowerCase()).toContain('flux');
    }
    // One call per page of two, and the cursors fal handed out were followed.
    const calls = platformCalls(emulator, '/models');
    expect(calls).toHaveLength(Math.ceil(ids.length / 2));
    expect(calls[0]?.query.cursor).toBeUndefined();
    expect(calls[1]?.query.cursor).toBe('Mg==');
  });

  it('filters by category and status, with typed metadata', async () => {
    const videos = [];
    for await (const model of platform.iterateModels({ category: 'image-to-video', limit: 3 }))
      videos.push(model);
    expect(videos.length).toBeGreaterThan(1);
    for (const model of videos) {
      expect(model.metadata?.category).toBe('image-to-video');
      expect(model.metadata?.durationEstimate).toBeGreaterThan(0);
      expect(model.openapi).toBeUndefined();
    }
    const deprecated = await platform.listModels({ status: 'deprecated' });
    expect(deprecated.items.length).toBeGreaterThan(0);
    expect(deprecated.items.every((model) => model.metadata?.status === 'deprecated')).toBe(true);
    const page = await platform.listModels({ category: 'text-to-speech', limit: 1 });
    expect(page).toMatchObject({ hasMore: true, nextCursor: 'Mg==' });
    expect(page.items[0]?.metadata).toMatchObject({
      displayName: expect.any(String),
      modelUrl: `https://fal.run/${page.items[0]?.endpointId}`,
      isFavorited: null,
      highlighted: expect.any(Boolean),
    });
  });

  it('stops paging when the caller breaks out of the iterator', async () => {
    emulator.clearLog();
    for await (const model of platform.iterateModels({ limit: 1 })) {
      expect(model.endpointId).toBeTruthy();
      break;
    }
    expect(platformCalls(emulator, '/models')).toHaveLength(1);
  });

  it('works without any key (the catalogue does not need one)', async () => {
    const anonymous = platformFor(emulator, {
      credentials: () => {
        throw new AuthError('AUTH_MISSING', 'no key');
      },
    });
    emulator.clearLog();
    const page = await anonymous.listModels({ limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(platformCalls(emulator)[0]?.headers.authorization).toBeUndefined();
  });

  it('refuses more than 50 endpoint ids before sending anything', async () => {
    emulator.clearLog();
    const ids = Array.from({ length: 51 }, (_, index) => `fal-ai/model-${index}`);
    await expect(platform.listModels({ endpointIds: ids })).rejects.toBeInstanceOf(InputError);
    expect(platformCalls(emulator)).toHaveLength(0);
  });
});

describe('schemas (expand=openapi-3.0)', () => {
  it('returns an OpenAPI document the existing converter turns into a model definition', async () => {
    const model = await platform.getModel('fal-ai/ideogram/v3', { openapi: true });
    expect(model?.openapi).toBeDefined();
    expect(platformCalls(emulator, '/models').at(-1)?.query.expand).toBe('openapi-3.0');
    const definition = convertOpenApi(model?.openapi as object, {
      endpointId: 'fal-ai/ideogram/v3',
    });
    expect(definition.endpointId).toBe('fal-ai/ideogram/v3');
    expect(definition.category).toBe('text-to-image');
    expect(definition.input.prompt).toMatchObject({ type: 'string', required: true });
    expect(definition.output.kind).toBe('images');
    // Written as a model file, it validates input like any built-in model.
    const dir = await mkdtemp(join(tmpdir(), 'falai-platform-models-'));
    try {
      const file = join(dir, 'fal-ai/ideogram/v3.json');
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(definition));
      const registry = createModelRegistry({ userDirs: [dir], strictFiles: true });
      expect((await registry.validate('fal-ai/ideogram/v3', { prompt: 'a poster' })).ok).toBe(true);
      const missing = await registry.validate('fal-ai/ideogram/v3', { style: 'AUTO' });
      expect(missing.ok).toBe(false);
      expect(missing.issues.map((issue) => issue.path.join('.'))).toContain('prompt');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('converts a built-in model’s document to the same required fields as its file in models/', async () => {
    const model = await platform.getModel('fal-ai/nano-banana-pro/edit', { openapi: true });
    const definition = convertOpenApi(model?.openapi as object);
    const builtIn = createModelRegistry().get('fal-ai/nano-banana-pro/edit');
    expect(builtIn).toBeDefined();
    const required = (input: Record<string, { required?: boolean | undefined }>) =>
      Object.entries(input)
        .filter(([, field]) => field.required)
        .map(([name]) => name)
        .sort();
    expect(required(definition.input)).toEqual(required(builtIn?.input ?? {}));
    expect(definition.input.image_urls?.type).toBe('array');
    expect(definition.input.num_images).toMatchObject({ minimum: 1, maximum: 4 });
  });

  it('reports fal’s own error when it cannot produce a document, and undefined for unknown ids', async () => {
    const page = await platform.listModels({ status: 'deprecated', openapi: true });
    const broken = page.items.find((model) => model.openapiError);
    expect(broken?.openapi).toBeUndefined();
    expect(broken?.openapiError).toMatchObject({
      code: expect.any(String),
      message: expect.any(String),
    });
    expect(await platform.getModel('fal-ai/no-such-model')).toBeUndefined();
  });
});
