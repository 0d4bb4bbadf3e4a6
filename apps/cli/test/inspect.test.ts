import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  ErrorOutputSchema,
  embedProvenance,
  InspectOutputSchema,
  RunOutputSchema,
} from '@falai/core';
import { buildProvenance } from '@falai/core/internal';
import { createFileStore } from '@falai/store-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

const SEED = '17454220438242315174';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env?.close());

/**
 * A real output: `falai run` against the emulator (the request is recorded in the test's file
 * store), then the lifecycle's save step as core offers it: the stored record's provenance
 * embedded into the saved file.
 */
async function madeByFalai(endpoint: string, sets: readonly string[], name: string) {
  const out = join(env.dir, 'out', name);
  const result = await env.run([
    'run',
    endpoint,
    ...sets.flatMap((set) => ['--set', set]),
    '--out',
    out,
    '--json',
  ]);
  expect(result.code, result.stderr).toBe(0);
  const run = result.json(RunOutputSchema);
  const path = run.outputs[0]?.path as string;
  const store = createFileStore({ path: join(env.dir, 'pending.json') });
  try {
    const record = await store.get(run.requestId);
    if (!record) throw new Error(`request ${run.requestId} is not in the store`);
    const embedded = await embedProvenance(
      path,
      buildProvenance({ record, output: { index: 0 }, cost: { amount: 0.04, currency: 'USD' } }),
    );
    expect(embedded.embedded).toBe(true);
  } finally {
    await store.close();
  }
  return { path, requestId: run.requestId };
}

/** Copies a file to a folder of its own: another machine, as far as falai can tell. */
async function elsewhere(path: string): Promise<{ copy: string; store: string; home: string }> {
  const other = join(env.dir, 'other-machine', basename(path));
  await mkdir(other, { recursive: true });
  const copy = join(other, basename(path));
  await copyFile(path, copy);
  return {
    copy,
    store: `file:${join(other, 'empty-store.json')}`,
    home: join(other, 'home'),
  };
}

const CASES = [
  {
    format: 'png',
    endpoint: 'fal-ai/flux/dev',
    sets: ['prompt=a lighthouse at dusk, png', `seed=${SEED}`, 'output_format=png'],
  },
  {
    format: 'jpeg',
    endpoint: 'fal-ai/flux/dev',
    sets: ['prompt=a lighthouse at dusk, jpeg', `seed=${SEED}`, 'output_format=jpeg'],
  },
  {
    format: 'webp',
    endpoint: 'fal-ai/nano-banana-pro',
    sets: ['prompt=a lighthouse at dusk, webp', 'output_format=webp'],
  },
] as const;

describe('falai inspect', () => {
  for (const item of CASES) {
    it(`reads a ${item.format} from another folder with an empty store: prompt, model and seed`, async () => {
      const { path, requestId } = await madeByFalai(item.endpoint, item.sets, item.format);
      const { copy, store, home } = await elsewhere(path);
      const envOverrides = { FALAI_STORE: store, HOME: home, FAL_KEY: undefined };
      const json = await env.run(['inspect', copy, '--json'], { env: envOverrides });
      expect(json.code, json.stderr).toBe(0);
      const shown = json.json(InspectOutputSchema);
      expect(shown.format).toBe(item.format);
      expect(shown.file).toBe(copy);
      expect(shown.provenance.requestId).toBe(requestId);
      expect(shown.provenance.endpointId).toBe(item.endpoint);
      expect(shown.provenance.input?.prompt).toBe(`a lighthouse at dusk, ${item.format}`);
      expect(shown.provenance.cost).toEqual({ amount: 0.04, currency: 'USD' });
      // The exact 64-bit seed, as digits in the JSON text (JSON.parse would round it).
      if (item.format !== 'webp') {
        expect(shown.provenance.seed).toBe(SEED);
        expect(json.stdout).toContain(`"seed": ${SEED}`);
      }

      const human = await env.run(['inspect', copy], { env: envOverrides });
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(new RegExp(`^model +${item.endpoint}$`, 'm'));
      expect(human.stdout).toMatch(/^prompt +a lighthouse at dusk/m);
      if (item.format !== 'webp') expect(human.stdout).toMatch(new RegExp(`^seed +${SEED}$`, 'm'));
      expect(human.stdout).toContain(requestId);
    });
  }

  it('reads an mp4 video', async () => {
    const { path, requestId } = await madeByFalai(
      'fal-ai/kling-video/o3/pro/video-to-video/edit',
      ['prompt=the lighthouse, now at night', `video_url=${env.emulator?.url}/files/sample.mp4`],
      'mp4',
    );
    const { copy, store, home } = await elsewhere(path);
    const result = await env.run(['inspect', copy, '--json'], {
      env: { FALAI_STORE: store, HOME: home },
    });
    expect(result.code, result.stderr).toBe(0);
    const shown = result.json(InspectOutputSchema);
    expect(shown.format).toBe('mp4');
    expect(shown.provenance.requestId).toBe(requestId);
    expect(shown.provenance.input?.prompt).toBe('the lighthouse, now at night');
  });

  it('a file without provenance: a clear message and exit 4', async () => {
    const plain = join(env.dir, 'plain.txt');
    await writeFile(plain, 'not an image');
    const human = await env.run(['inspect', plain]);
    expect(human.code).toBe(4);
    expect(human.stderr).toMatch(/plain\.txt carries no falai provenance/);
    expect(human.stdout).toBe('');
    const json = await env.run(['inspect', plain, '--json']);
    expect(json.code).toBe(4);
    const error = json.json(ErrorOutputSchema).error;
    expect(error.code).toBe('MEDIA_INVALID');
    expect(error.details).toMatchObject({ reason: 'no-provenance' });
  });

  it('a missing file: exit 4 naming it', async () => {
    const result = await env.run(['inspect', join(env.dir, 'gone.png')]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('gone.png');
  });
});
