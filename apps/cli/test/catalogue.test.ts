import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorOutputSchema,
  ModelInfoSourceOutputSchema,
  ModelSearchOutputSchema,
  ModelsImportOutputSchema,
  PricingOutputSchema,
  SubmitOutputSchema,
} from '@falai/core';
import { type Emulator, startEmulator } from '@falai/emulator';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

/**
 * fal's catalogue in the CLI, against the emulator's Platform API (`<base>/v1`): search,
 * model-info and validation of endpoints without a model file (then offline, from the cache),
 * unknown ids refused before submit, prices, import by id, and skill build --model.
 */
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env.close();
});

const emulator = () => env.emulator as Emulator;
const catalogueCalls = (server: Emulator = emulator()) =>
  server.log.filter((entry) => entry.kind === 'platform' && entry.path === '/v1/models');
const submits = (server: Emulator = emulator()) =>
  server.log.filter((entry) => entry.kind === 'submit');

describe('falai models search', () => {
  it('finds models by text, page by page up to --limit, with prices', async () => {
    emulator().clearLog();
    const result = await env.run([
      'models',
      'search',
      'flux',
      '--limit',
      '3',
      '--page-size',
      '2',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const out = result.json(ModelSearchOutputSchema);
    expect(out.source).toBe('catalogue');
    expect(out.count).toBe(3);
    expect(out.hasMore).toBe(true);
    for (const model of out.models) expect(JSON.stringify(model).toLowerCase()).toContain('flux');
    const pages = catalogueCalls();
    expect(pages).toHaveLength(2);
    expect(pages[0]?.query).toMatchObject({ q: 'flux', limit: '2' });
    expect(pages[1]?.query.cursor).toBeDefined();
    expect(out.models.find((model) => model.endpointId === 'fal-ai/flux/dev')?.price).toEqual({
      endpointId: 'fal-ai/flux/dev',
      unitPrice: 0.025,
      unit: 'megapixels',
      currency: 'USD',
    });

    const human = await env.run(['models', 'search', 'flux', '--limit', '3']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /fal-ai\/flux\/dev +text-to-image +active +0\.025 USD\/megapixels/,
    );
    expect(human.stderr).toContain('raise --limit');
  });

  it('filters by category and shows each status', async () => {
    const result = await env.run([
      'models',
      'search',
      '--category',
      'image-to-video',
      '--limit',
      '50',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const out = result.json(ModelSearchOutputSchema);
    expect(out.hasMore).toBe(false);
    expect(out.count).toBeGreaterThan(2);
    expect(out.models.every((model) => model.category === 'image-to-video')).toBe(true);
    expect(out.models.find((model) => model.endpointId === 'fal-ai/fast-svd-lcm')?.status).toBe(
      'deprecated',
    );
  });
});

describe('any endpoint, validated', () => {
  it('model-info fetches a non-built-in endpoint once, then answers from the cache', async () => {
    emulator().clearLog();
    const first = await env.run(['model-info', 'fal-ai/ideogram/v3', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const info = first.json(ModelInfoSourceOutputSchema);
    expect(info).toMatchObject({ endpointId: 'fal-ai/ideogram/v3', source: 'catalogue' });
    expect(info.required).toContain('prompt');
    expect(info.schema).toHaveProperty('properties.prompt');
    expect(catalogueCalls()).toHaveLength(1);
    expect(catalogueCalls()[0]?.query).toMatchObject({
      endpoint_id: 'fal-ai/ideogram/v3',
      expand: 'openapi-3.0',
    });

    const again = await env.run(['model-info', 'fal-ai/ideogram/v3']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Source: fal's catalogue (cached");
    expect(catalogueCalls()).toHaveLength(1);

    // --refresh asks fal again.
    const refreshed = await env.run(['model-info', 'fal-ai/ideogram/v3', '--refresh', '--json']);
    expect(refreshed.json(ModelInfoSourceOutputSchema).source).toBe('catalogue');
    expect(catalogueCalls()).toHaveLength(2);
  });

  it('validation before submit works for it: a bad input is refused, a good one sent', async () => {
    const before = submits().length;
    const bad = await env.run(['submit', 'fal-ai/ideogram/v3', '{"num_images": 9}', '--json']);
    expect(bad.code).toBe(4);
    const error = bad.json(ErrorOutputSchema).error;
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.message).toMatch(/prompt/);
    expect(submits()).toHaveLength(before);
    const good = await env.run(['submit', 'fal-ai/ideogram/v3', '{"prompt":"a fox"}', '--json']);
    expect(good.code, good.stderr).toBe(0);
    const { requestId } = good.json(SubmitOutputSchema);
    expect(emulator().job(requestId)?.endpointId).toBe('fal-ai/ideogram/v3');
  });

  it('offline (fal unreachable), model-info and validation answer from the cache', async () => {
    const own = await startEmulator({ port: 0, deterministic: true, strict: true });
    const at = { FALAI_BASE_URL: own.url };
    const online = await env.run(['model-info', 'fal-ai/hidream-i1-full', '--json'], { env: at });
    expect(online.json(ModelInfoSourceOutputSchema).source).toBe('catalogue');
    await own.close();

    const offline = await env.run(['model-info', 'fal-ai/hidream-i1-full', '--json'], { env: at });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.json(ModelInfoSourceOutputSchema)).toMatchObject({
      source: 'cache',
      required: ['prompt'],
    });
    // --refresh cannot reach fal: the cached copy is served, and the user is told.
    const refresh = await env.run(['model-info', 'fal-ai/hidream-i1-full', '--refresh'], {
      env: at,
    });
    expect(refresh.code).toBe(0);
    expect(refresh.stderr).toMatch(/fal's catalogue could not be reached .*using the definition/);
    // Validation still runs before the (failing) submit.
    const invalid = await env.run(['submit', 'fal-ai/hidream-i1-full', '{}', '--json'], {
      env: at,
    });
    expect(invalid.code).toBe(4);
    expect(invalid.json(ErrorOutputSchema).error.code).toBe('INPUT_INVALID');
    // Nothing cached and fal unreachable: said so, and today's behaviour (unvalidated).
    const unchecked = await env.run(['submit', 'fal-ai/ltx-video', '{"prompt":"x"}'], {
      env: at,
    });
    expect(unchecked.stderr).toMatch(/could not be reached .*not checked/);
    expect(unchecked.stderr).toMatch(/not validated/);
    expect(unchecked.code).toBe(5); // the submit itself then fails: nothing is listening
  });
});

describe('ids fal does not know', () => {
  it('are refused before submit with the closest id, nothing sent', async () => {
    const before = submits().length;
    for (const extra of [[], ['--no-validate']]) {
      const result = await env.run([
        'submit',
        'fal-ai/nano-banana-pr',
        '{"prompt":"a fox"}',
        ...extra,
        '--json',
      ]);
      expect(result.code).toBe(4);
      const error = result.json(ErrorOutputSchema).error;
      expect(error.code).toBe('MODEL_UNKNOWN');
      expect(error.message).toContain('did you mean fal-ai/nano-banana-pro?');
    }
    const human = await env.run(['run', 'fal-ai/nano-banana-pr', '--set', 'prompt=x']);
    expect(human.code).toBe(4);
    expect(human.stderr).toContain('did you mean fal-ai/nano-banana-pro?');
    expect(submits()).toHaveLength(before);
    expect(emulator().log.some((entry) => entry.path.includes('nano-banana-pr/'))).toBe(false);
  });

  it('a deprecated one is sent with a warning; a private app keeps working unvalidated', async () => {
    const old = await env.run(['submit', 'fal-ai/fast-sdxl', '{"prompt":"a fox"}']);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stderr).toMatch(/fal-ai\/fast-sdxl is deprecated in fal's catalogue/);
    emulator().setModel('acme/house-app', { queueMs: 0, runMs: 10 });
    const own = await env.run(['submit', 'acme/house-app', '{"prompt":"x"}']);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toMatch(/does not list acme\/house-app \(a private app/);
  });

  it('model-info names the closest ids', async () => {
    const result = await env.run(['model-info', 'fal-ai/flux/devv', '--json']);
    expect(result.code).toBe(4);
    const error = result.json(ErrorOutputSchema).error;
    expect(error.code).toBe('MODEL_UNKNOWN');
    expect(error.message).toContain('fal-ai/flux/dev');
  });
});

describe('falai pricing', () => {
  it('prints unit price, unit and currency', async () => {
    const result = await env.run([
      'pricing',
      'fal-ai/nano-banana-pro',
      'fal-ai/kling-video/v2.1/master/text-to-video',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const out = result.json(PricingOutputSchema);
    expect(out.source).toBe('catalogue');
    expect(out.prices).toEqual([
      { endpointId: 'fal-ai/nano-banana-pro', unitPrice: 0.15, unit: 'images', currency: 'USD' },
      {
        endpointId: 'fal-ai/kling-video/v2.1/master/text-to-video',
        unitPrice: expect.any(Number),
        unit: 'seconds',
        currency: 'USD',
      },
    ]);
    expect(out.missing).toEqual([]);
    const human = await env.run(['pricing', 'fal-ai/nano-banana-pro']);
    expect(human.stdout).toMatch(/fal-ai\/nano-banana-pro +0\.15 +images +USD/);
  });

  it('an unknown id exits 4 with the closest one', async () => {
    const result = await env.run(['pricing', 'fal-ai/nano-banana-pr', '--json']);
    expect(result.code).toBe(4);
    const error = result.json(ErrorOutputSchema).error;
    expect(error.code).toBe('MODEL_UNKNOWN');
    expect(error.message).toContain('did you mean fal-ai/nano-banana-pro?');
  });
});

describe('falai models import <endpoint id>', () => {
  it("writes fal's definition as a user model file, which then wins", async () => {
    const dir = join(env.dir, 'imported-models');
    const result = await env.run(['models', 'import', 'fal-ai/qwen-image', '--out', dir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const out = result.json(ModelsImportOutputSchema);
    expect(out.imported).toEqual([
      expect.objectContaining({
        endpointId: 'fal-ai/qwen-image',
        path: join(dir, 'fal-ai/qwen-image.json'),
      }),
    ]);
    const written = JSON.parse(await readFile(join(dir, 'fal-ai/qwen-image.json'), 'utf8'));
    expect(written.input.prompt.required).toBe(true);
    written.description = 'edited by the user';
    await writeFile(join(dir, 'fal-ai/qwen-image.json'), JSON.stringify(written));
    const info = await env.run(['model-info', 'fal-ai/qwen-image', '--json'], {
      env: { FALAI_MODELS_DIR: dir },
    });
    expect(info.json(ModelInfoSourceOutputSchema)).toMatchObject({
      source: 'user',
      description: 'edited by the user',
    });
    const unknown = await env.run(['models', 'import', 'fal-ai/qwen-imag', '--out', dir]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('did you mean fal-ai/qwen-image?');
  });
});

describe('falai skill build --model', () => {
  it('documents the chosen catalogue models beside the built-in ones', async () => {
    const bundle = join(env.dir, 'fake-bundle.mjs');
    await writeFile(bundle, 'process.exit(0);\n');
    const out = join(env.dir, 'skill', 'falai');
    const result = await env.run([
      'skill',
      'build',
      '--out',
      out,
      '--cli-bundle',
      bundle,
      '--model',
      'fal-ai/ideogram/v3',
      '--model',
      'fal-ai/kling-video/v2.1/standard/image-to-video',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const built = v.parse(v.object({ models: v.array(v.string()) }), JSON.parse(result.stdout));
    expect(built.models).toEqual(
      expect.arrayContaining([
        'fal-ai/nano-banana-pro',
        'fal-ai/ideogram/v3',
        'fal-ai/kling-video/v2.1/standard/image-to-video',
      ]),
    );
    const skill = await readFile(join(out, 'SKILL.md'), 'utf8');
    expect(skill).toContain('`fal-ai/ideogram/v3`');
    expect(skill).toContain('`fal-ai/kling-video/v2.1/standard/image-to-video`');
    const references = JSON.parse(await readFile(join(out, 'references/models.json'), 'utf8'));
    expect(references.models['fal-ai/ideogram/v3'].input.prompt).toBeDefined();

    const typo = await env.run(['skill', 'build', '--out', out, '--model', 'fal-ai/ideogramm/v3']);
    expect(typo.code).toBe(4);
    expect(typo.stderr).toContain('fal-ai/ideogram/v3');
  });
});
