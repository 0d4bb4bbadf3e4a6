import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBuiltInModels } from '@falai/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { completion, get, json, submit } from './helpers.js';

/** The model definitions the emulator plays: @falai/models' built-ins, then its folders. */
const BUILT_IN = loadBuiltInModels().map((file) => file.endpointId);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-emulator-models-'));
  await mkdir(join(dir, 'fal-ai'), { recursive: true });
  // A folder's definition overrides the built-in one of the same id.
  await writeFile(
    join(dir, 'fal-ai', 'nano-banana-pro.json'),
    JSON.stringify({
      endpointId: 'fal-ai/nano-banana-pro',
      category: 'text-to-image',
      input: {
        prompt: { type: 'string', required: true },
        studio: { type: 'string', required: true },
      },
      output: { kind: 'images', schema: { images: { type: 'array' } } },
    }),
  );
  await writeFile(join(dir, 'package.json'), '{"name":"my-models"}');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fast = { deterministic: true, defaultLatency: { queueMs: 0, runMs: 0 } } as const;

async function resultOf(emulator: Emulator, endpointId: string, input: unknown) {
  const job = await submit(emulator, endpointId, input);
  await completion(emulator, job.request_id);
  return get(job.response_url);
}

describe('model definitions', () => {
  it('plays the built-in models of @falai/models by default', async () => {
    expect(BUILT_IN).toContain('fal-ai/nano-banana-pro');
    const emulator = await startEmulator({ port: 0, ...fast });
    try {
      expect(emulator.models).toEqual([...BUILT_IN].sort());
      const missing = await resultOf(emulator, 'fal-ai/nano-banana-pro', {});
      expect(missing.status).toBe(422);
      expect((await json(missing)).detail[0]).toMatchObject({
        type: 'missing',
        loc: ['body', 'prompt'],
      });
    } finally {
      await emulator.close();
    }
  });

  it('reads modelsDirs after the built-ins (later definitions win); a package.json is no model', async () => {
    const emulator = await startEmulator({ port: 0, ...fast, modelsDirs: [dir] });
    try {
      expect(emulator.models).toEqual([...BUILT_IN].sort());
      const missing = await resultOf(emulator, 'fal-ai/nano-banana-pro', {
        prompt: 'a lighthouse',
      });
      expect(missing.status).toBe(422);
      expect((await json(missing)).detail).toMatchObject([
        { type: 'missing', loc: ['body', 'studio'] },
      ]);
    } finally {
      await emulator.close();
    }
  });

  it('builtInModels: false plays only the folders', async () => {
    const emulator = await startEmulator({
      port: 0,
      ...fast,
      modelsDirs: [dir],
      builtInModels: false,
    });
    try {
      expect(emulator.models).toEqual(['fal-ai/nano-banana-pro']);
    } finally {
      await emulator.close();
    }
  });
});
