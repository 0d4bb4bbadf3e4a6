import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '@falai/emulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CatalogueCache } from '../../src/catalogue/cache.js';
import {
  createModelCatalogue,
  DEFAULT_CATALOGUE_TTL_MS,
  type ModelCatalogue,
  type ModelCatalogueOptions,
} from '../../src/catalogue/index.js';
import { AuthError, InputError } from '../../src/errors/index.js';
import { assertResolved } from '../../src/models/provider.js';
import { createModelRegistry } from '../../src/models/registry.js';
import { API_KEY, platformCalls, startPlatformEmulator } from '../platform/harness.js';

let emulator: Emulator;
let dir: string;
let clock: number;

beforeAll(async () => {
  emulator = await startPlatformEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-catalogue-'));
  clock = Date.parse('2026-11-29T12:00:00Z');
  emulator.clearLog();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const catalogueOn = (
  server: Emulator,
  options: Partial<ModelCatalogueOptions> = {},
): ModelCatalogue =>
  createModelCatalogue({
    cacheDir: dir,
    apiUrl: `${server.url}/v1`,
    credentials: API_KEY,
    now: () => clock,
    ...options,
  });

const modelCalls = () => platformCalls(emulator, '/models');

describe('definitions of any endpoint', () => {
  it('fetches a non-built-in model with its OpenAPI document, converts it and caches it', async () => {
    const catalogue = catalogueOn(emulator);
    const answer = await catalogue.lookup('fal-ai/flux/dev');
    expect(answer.kind).toBe('found');
    if (answer.kind !== 'found') return;
    expect(answer.origin).toBe('catalogue');
    expect(answer.deprecated).toBe(false);
    expect(answer.definition?.endpointId).toBe('fal-ai/flux/dev');
    expect(answer.definition?.name).toBe('FLUX.1 [dev]');
    expect(answer.definition?.category).toBe('text-to-image');
    expect(answer.definition?.input.prompt?.required).toBe(true);
    expect(answer.definition?.input.num_images).toMatchObject({ minimum: 1, maximum: 4 });
    const calls = modelCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.query).toMatchObject({
      endpoint_id: 'fal-ai/flux/dev',
      expand: 'openapi-3.0',
    });
    // On disk, one file per id, under a folder of this API base.
    const files = await readdir(join(catalogue.cacheFolder, 'models'));
    expect(files).toEqual([`${encodeURIComponent('fal-ai/flux/dev')}.json`]);

    // A second catalogue (another process) answers from the cache without calling fal.
    const again = await catalogueOn(emulator).lookup('fal-ai/flux/dev');
    expect(again).toMatchObject({ kind: 'found', origin: 'cache' });
    expect(modelCalls()).toHaveLength(1);
    expect(catalogueOn(emulator).peek?.('fal-ai/flux/dev')?.definition?.endpointId).toBe(
      'fal-ai/flux/dev',
    );
  });

  it('fetches again after the time to live, or with refresh', async () => {
    const catalogue = catalogueOn(emulator);
    await catalogue.lookup('fal-ai/ideogram/v3');
    clock += DEFAULT_CATALOGUE_TTL_MS - 1000;
    await catalogue.lookup('fal-ai/ideogram/v3');
    expect(modelCalls()).toHaveLength(1);
    expect(await catalogue.lookup('fal-ai/ideogram/v3', { refresh: true })).toMatchObject({
      origin: 'catalogue',
    });
    expect(modelCalls()).toHaveLength(2);
    clock += DEFAULT_CATALOGUE_TTL_MS + 1000;
    expect(await catalogue.lookup('fal-ai/ideogram/v3')).toMatchObject({ origin: 'catalogue' });
    expect(modelCalls()).toHaveLength(3);
  });

  it('serves the cache, even stale, with a warning when fal cannot be reached', async () => {
    const gone = await startPlatformEmulator();
    const online = catalogueOn(gone);
    expect((await online.lookup('fal-ai/qwen-image')).kind).toBe('found');
    await gone.close();
    clock += 3 * DEFAULT_CATALOGUE_TTL_MS;
    const offline = catalogueOn(gone, { timeoutMs: 2000 });
    const answer = await offline.lookup('fal-ai/qwen-image');
    expect(answer).toMatchObject({ kind: 'found', origin: 'cache', stale: true });
    if (answer.kind !== 'found') return;
    expect(answer.definition?.input.prompt).toBeDefined();
    expect(answer.warnings.join('\n')).toMatch(
      /fal's catalogue could not be reached .*cached 3 d ago/,
    );
    // Nothing cached: said so, and the id is left unchecked.
    const nothing = await offline.lookup('fal-ai/ltx-video');
    expect(nothing.kind).toBe('unavailable');
    if (nothing.kind === 'unavailable')
      expect(nothing.message).toMatch(/could not be reached .*nothing is cached/);
  });

  it('a damaged cache file only costs a fetch', async () => {
    const catalogue = catalogueOn(emulator);
    await catalogue.lookup('fal-ai/flux/schnell');
    const file = join(
      catalogue.cacheFolder,
      'models',
      `${encodeURIComponent('fal-ai/flux/schnell')}.json`,
    );
    await writeFile(file, '{"version":1,"endpointId":"fal-ai/flux/schnell","defin');
    expect(catalogue.peek?.('fal-ai/flux/schnell')).toBeUndefined();
    expect(await catalogue.lookup('fal-ai/flux/schnell')).toMatchObject({ origin: 'catalogue' });
    // A definition that breaks the model meta-schema is not trusted either.
    const entry = JSON.parse(await readFile(file, 'utf8'));
    entry.definition.input.prompt.type = 'nonsense';
    await writeFile(file, JSON.stringify(entry));
    expect(catalogue.peek?.('fal-ai/flux/schnell')).toBeUndefined();
    expect(modelCalls()).toHaveLength(2);
  });

  it('deprecated models warn; a model without a usable schema is listed but not validated', async () => {
    const catalogue = catalogueOn(emulator);
    const old = await catalogue.lookup('fal-ai/fast-sdxl');
    expect(old).toMatchObject({ kind: 'found', deprecated: true });
    if (old.kind === 'found') expect(old.warnings.join('\n')).toMatch(/deprecated/);
    const broken = await catalogue.lookup('fal-ai/fast-svd-lcm');
    expect(broken.kind).toBe('found');
    if (broken.kind !== 'found') return;
    expect(broken.definition).toBeUndefined();
    expect(broken.warnings.join('\n')).toMatch(/no usable schema.*not validated/);
  });
});

describe('ids fal does not know', () => {
  it('a typo is refused with the closest ids; the catalogue is listed once and cached', async () => {
    const catalogue = catalogueOn(emulator);
    const answer = await catalogue.lookup('fal-ai/nano-banana-pr');
    expect(answer).toMatchObject({ kind: 'unknown', refuse: true });
    if (answer.kind !== 'unknown') return;
    expect(answer.suggestions[0]).toBe('fal-ai/nano-banana-pro');
    // One lookup, then the whole catalogue page by page.
    const listing = modelCalls().filter((call) => call.query.endpoint_id === undefined);
    expect(listing.length).toBeGreaterThan(0);
    await catalogue.lookup('fal-ai/flux/devv');
    expect(modelCalls().filter((call) => call.query.endpoint_id === undefined)).toHaveLength(
      listing.length,
    );
    expect(await catalogue.suggest('fal-ai/flux')).toContain('fal-ai/flux/dev');
    expect(await catalogue.suggest('fal-a/nano-banana-pro')).toEqual(
      expect.arrayContaining(['fal-ai/nano-banana-pro']),
    );
  });

  it('an owner the catalogue does not know is a private app: warned, not refused', async () => {
    const answer = await catalogueOn(emulator).lookup('acme/my-private-app');
    expect(answer).toMatchObject({ kind: 'unknown', refuse: false });
    if (answer.kind === 'unknown') expect(answer.warnings[0]).toMatch(/private app/);
  });
});

describe('the registry with the catalogue as provider', () => {
  it('validates a non-built-in endpoint; model files still win', async () => {
    const registry = createModelRegistry({ provider: catalogueOn(emulator) });
    const bad = await registry.validate('fal-ai/flux/dev', { num_images: 9 });
    expect(bad.known).toBe(true);
    expect(bad.ok).toBe(false);
    expect(bad.issues.map((issue) => issue.path.join('.'))).toEqual(
      expect.arrayContaining(['prompt', 'num_images']),
    );
    expect(bad.notes.join('\n')).toMatch(/from fal's catalogue/);
    const good = await registry.validate('fal-ai/flux/dev', { prompt: 'a fox' });
    expect(good.ok).toBe(true);
    expect(registry.get('fal-ai/flux/dev')?.name).toBe('FLUX.1 [dev]');
    expect(registry.jsonSchema('fal-ai/flux/dev')).toHaveProperty('properties.prompt');
    expect(modelCalls()).toHaveLength(1);

    const builtin = await registry.resolve('fal-ai/nano-banana-pro');
    expect(builtin).toMatchObject({ status: 'file', source: 'builtin', refused: false });
    expect(modelCalls()).toHaveLength(1);
  });

  it('a new registry sees cached definitions synchronously (get before resolve)', async () => {
    await catalogueOn(emulator).lookup('fal-ai/recraft/v3/text-to-image');
    const registry = createModelRegistry({ provider: catalogueOn(emulator) });
    expect(registry.has('fal-ai/recraft/v3/text-to-image')).toBe(true);
    expect(registry.get('fal-ai/recraft/v3/text-to-image')?.input.style?.enum).toContain('any');
    expect(registry.has('fal-ai/hunyuan-video')).toBe(false);
  });

  it('refuses an unknown id before submit (MODEL_UNKNOWN naming the closest id)', async () => {
    const registry = createModelRegistry({ provider: catalogueOn(emulator) });
    const resolution = await registry.resolve('fal-ai/nano-banana-pr');
    expect(resolution).toMatchObject({ status: 'unknown', refused: true });
    let caught: unknown;
    try {
      assertResolved(resolution);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).code).toBe('MODEL_UNKNOWN');
    expect((caught as InputError).message).toContain('did you mean fal-ai/nano-banana-pro?');
    // Validation says the same, so a caller that only validates refuses too.
    const report = await registry.validate('fal-ai/nano-banana-pr', { prompt: 'x' });
    expect(report.ok).toBe(false);
    expect(report.issues[0]).toMatchObject({ kind: 'unknown-model' });
    expect(report.issues[0]?.hint).toContain('fal-ai/nano-banana-pro');
    // A private app keeps today's behaviour: unvalidated, with a warning.
    const privateApp = await registry.validate('acme/my-private-app', { prompt: 'x' });
    expect(privateApp.ok).toBe(true);
    expect(privateApp.warnings.map((warning) => warning.message).join('\n')).toMatch(
      /private app[\s\S]*not validated/,
    );
  });

  it('without a provider nothing changes: unknown ids are unchecked', async () => {
    const registry = createModelRegistry();
    expect(await registry.resolve('fal-ai/flux/dev')).toMatchObject({
      status: 'unchecked',
      refused: false,
      warnings: [],
    });
    expect((await registry.validate('fal-ai/flux/dev', {})).ok).toBe(true);
  });
});

describe('search', () => {
  it('finds models by text and category, page by page, with prices', async () => {
    const catalogue = catalogueOn(emulator);
    const found = await catalogue.search({ text: 'flux', limit: 3, pageSize: 2 });
    expect(found.source).toBe('catalogue');
    expect(found.models).toHaveLength(3);
    expect(found.hasMore).toBe(true);
    for (const model of found.models)
      expect(`${model.endpointId} ${model.name} ${model.description}`.toLowerCase()).toContain(
        'flux',
      );
    const pages = modelCalls();
    expect(pages).toHaveLength(2);
    expect(pages[0]?.query).toMatchObject({ q: 'flux', limit: '2' });
    expect(pages[1]?.query.cursor).toBeDefined();
    const dev = found.models.find((model) => model.endpointId === 'fal-ai/flux/dev');
    expect(dev?.price).toMatchObject({ unit: 'megapixels', currency: 'USD' });

    const video = await catalogue.search({ category: 'image-to-video', limit: 50 });
    expect(video.hasMore).toBe(false);
    expect(video.models.length).toBeGreaterThan(2);
    expect(video.models.every((model) => model.category === 'image-to-video')).toBe(true);
    expect(video.models.some((model) => model.status === 'deprecated')).toBe(true);
  });

  it('answers offline from the cache, and cache-first once the whole catalogue is listed', async () => {
    const catalogue = catalogueOn(emulator);
    await expect(catalogue.search({ text: 'kling', offline: true })).rejects.toThrow(
      /No copy of fal's catalogue is cached/,
    );
    await catalogue.search({ text: 'kling' });
    const calls = modelCalls().length;
    const offline = await catalogue.search({ text: 'kling', offline: true });
    expect(offline.source).toBe('cache');
    expect(offline.models.length).toBeGreaterThan(0);
    expect(offline.models.every((model) => model.endpointId.includes('kling'))).toBe(true);
    expect(offline.notes.join('\n')).toMatch(/not the whole catalogue/);
    expect(offline.models[0]?.price).toBeDefined();
    expect(modelCalls()).toHaveLength(calls);

    await catalogue.suggest('fal-ai/klingg'); // lists the whole catalogue
    const listed = modelCalls().length;
    const tts = await catalogue.search({ category: 'text-to-speech' });
    expect(tts.source).toBe('cache');
    expect(tts.models.map((model) => model.endpointId)).toContain('fal-ai/kokoro/american-english');
    expect(modelCalls()).toHaveLength(listed);
    expect((await catalogue.search({ category: 'text-to-speech', refresh: true })).source).toBe(
      'catalogue',
    );
  });
});

describe('prices', () => {
  it('unit prices, unknown ids with suggestions, and the cache when no key is usable', async () => {
    const catalogue = catalogueOn(emulator);
    await catalogue.suggest('x/y'); // a cached catalogue for the suggestions
    const found = await catalogue.prices([
      'fal-ai/nano-banana-pro',
      'fal-ai/kling-video/v2.1/master/text-to-video',
      'fal-ai/nano-banana-pr',
    ]);
    expect(found.source).toBe('catalogue');
    expect(found.prices).toEqual([
      { endpointId: 'fal-ai/nano-banana-pro', unitPrice: 0.15, unit: 'images', currency: 'USD' },
      expect.objectContaining({
        endpointId: 'fal-ai/kling-video/v2.1/master/text-to-video',
        unit: 'seconds',
      }),
    ]);
    expect(found.missing).toEqual([
      {
        endpointId: 'fal-ai/nano-banana-pr',
        reason: 'unknown',
        suggestions: expect.arrayContaining(['fal-ai/nano-banana-pro']),
      },
    ]);

    const keyless = catalogueOn(emulator, {
      credentials: () => {
        throw new AuthError('AUTH_MISSING', 'no key');
      },
    });
    const cached = await keyless.prices(['fal-ai/nano-banana-pro', 'fal-ai/ltx-video']);
    expect(cached.source).toBe('cache');
    expect(cached.notes[0]).toMatch(/prices need a fal key/);
    expect(cached.prices.map((price) => price.endpointId)).toEqual(['fal-ai/nano-banana-pro']);
    expect(cached.missing).toEqual([{ endpointId: 'fal-ai/ltx-video', reason: 'uncached' }]);
    // The catalogue itself needs no key.
    expect((await keyless.lookup('fal-ai/ltx-video')).kind).toBe('found');
  });

  it('a pricing answer with one hostile entry is refused whole and the cached prices stay', async () => {
    const catalogue = catalogueOn(emulator);
    await catalogue.prices(['fal-ai/nano-banana-pro']);
    emulator.inject({
      match: { kind: 'platform', path: '/v1/models/pricing' },
      action: {
        type: 'status',
        status: 200,
        body: {
          prices: [
            { endpoint_id: 'fal-ai/nano-banana-pro', unit_price: 0.15, unit: 'images' },
            { endpoint_id: 'fal-ai/flux/dev', unit_price: 0.025, unit: 'u'.repeat(500) },
          ],
          has_more: false,
        },
      },
      times: 1,
    });
    const refused = await catalogue.prices(['fal-ai/nano-banana-pro', 'fal-ai/flux/dev']);
    expect(refused.source).toBe('cache');
    expect(refused.notes[0]).toMatch(/in a shape falai does not understand/);
    // prices.json still reads: the earlier price is served offline.
    const offline = await catalogue.prices(['fal-ai/nano-banana-pro'], { offline: true });
    expect(offline.prices).toEqual([
      { endpointId: 'fal-ai/nano-banana-pro', unitPrice: 0.15, unit: 'images', currency: 'USD' },
    ]);
  });

  it('the cache drops an entry its own schema would refuse instead of losing the file', async () => {
    const cache = new CatalogueCache(join(dir, 'direct'));
    const at = '2026-11-29T12:00:00.000Z';
    await cache.mergePrices({
      'a/kept': { unitPrice: 1, unit: 'images', currency: 'USD', fetchedAt: at },
    });
    await cache.mergePrices({
      'a/infinite': {
        unitPrice: Number.POSITIVE_INFINITY,
        unit: 'images',
        currency: 'USD',
        fetchedAt: at,
      },
      'a/negative': { unitPrice: -1, unit: 'images', currency: 'USD', fetchedAt: at },
      'a/long-unit': { unitPrice: 1, unit: 'u'.repeat(101), currency: 'USD', fetchedAt: at },
      'a/new': { unitPrice: 2, unit: 'seconds', currency: 'USD', fetchedAt: at },
    });
    expect(Object.keys(await cache.readPrices()).sort()).toEqual(['a/kept', 'a/new']);

    const model = {
      name: 'M',
      category: 'text-to-image',
      status: 'active',
      description: '',
      tags: [],
    };
    await cache.mergeIndex([{ endpointId: 'a/kept', ...model }]);
    await cache.mergeIndex([
      { endpointId: `a/${'b'.repeat(300)}`, ...model },
      { endpointId: 'a/new', ...model, durationEstimate: Number.POSITIVE_INFINITY },
      { endpointId: 'a/also', ...model },
    ]);
    expect((await cache.readIndex())?.models.map((m) => m.endpointId)).toEqual([
      'a/kept',
      'a/also',
    ]);

    await cache.mergeHistoryCosts({ 'a/kept': { costPerCall: 0.5, fetchedAt: at } });
    await cache.mergeHistoryCosts({
      'a/negative': { costPerCall: -0.5, fetchedAt: at },
      'a/infinite': { costPerCall: Number.POSITIVE_INFINITY, fetchedAt: at },
    });
    expect(await cache.readHistoryCosts()).toEqual({
      'a/kept': { costPerCall: 0.5, fetchedAt: at },
    });
  });
});
