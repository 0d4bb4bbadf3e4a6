import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ModelInfoOutputSchema, ModelsImportOutputSchema, ModelsOutputSchema } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIR, createTestEnv, type TestEnv } from './helpers.js';

const fixtures = resolve(CLI_DIR, '..', '..', 'packages', 'core', 'test', 'fixtures', 'openapi');

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: false });
});
afterAll(async () => {
  await env.close();
});

describe('falai models import', () => {
  it('converts a per-model OpenAPI document into a user model the registry loads', async () => {
    const result = await env.run([
      'models',
      'import',
      join(fixtures, 'per-model-kling-v2-i2v.json'),
      '--json',
    ]);
    expect(result.code).toBe(0);
    const out = result.json(ModelsImportOutputSchema);
    expect(out.count).toBe(1);
    const [entry] = out.imported;
    expect(entry?.endpointId).toBe('fal-ai/kling-video/v2/master/image-to-video');
    // Written to <config dir>/models, where the registry looks for user models.
    expect(entry?.path).toBe(
      join(
        env.dir,
        'config',
        'falai',
        'models',
        'fal-ai/kling-video/v2/master/image-to-video.json',
      ),
    );
    const written = JSON.parse(await readFile(entry?.path ?? '', 'utf8'));
    expect(written.endpointId).toBe(entry?.endpointId);

    const models = (await env.run(['models', '--json'])).json(ModelsOutputSchema);
    expect(models.models.map((m) => m.endpointId)).toContain(entry?.endpointId);
    const info = await env.run(['model-info', entry?.endpointId ?? '', '--json']);
    expect(info.code).toBe(0);
    expect(info.json(ModelInfoOutputSchema).required.length).toBeGreaterThan(0);
  });

  it('refuses to overwrite without --force, and writes every model of a Platform API answer', async () => {
    const again = await env.run([
      'models',
      'import',
      join(fixtures, 'per-model-kling-v2-i2v.json'),
    ]);
    expect(again.code).toBe(8);
    expect(again.stderr).toMatch(/already exists.*--force/);

    const out = join(env.dir, 'imported');
    const result = await env.run([
      'models',
      'import',
      join(fixtures, 'platform-models-expand-openapi.json'),
      '--out',
      out,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const parsed = result.json(ModelsImportOutputSchema);
    expect(parsed.imported.map((m) => m.endpointId).sort()).toEqual([
      'fal-ai/recraft/v3/text-to-image',
      'fal-ai/video-upscaler',
    ]);
    expect(parsed.dir).toBe(out);
  });

  it('explains a document that is not OpenAPI', async () => {
    const result = await env.run(['models', 'import', join(env.dir, 'missing.json')]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/Cannot read OpenAPI file/);
  });
});
