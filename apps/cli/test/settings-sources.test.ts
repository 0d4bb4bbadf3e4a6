import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  CheckKeyOutputSchema,
  ErrorOutputSchema,
  ModelsOutputSchema,
  SubmitOutputSchema,
} from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIR, createTestEnv, SECRET, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env.close();
});

describe('--key', () => {
  it('is the first credential source, ahead of FAL_KEY', async () => {
    const result = await env.run(['check-key', '--key', `flag-id:${SECRET}`, '--json'], {
      env: { FAL_KEY: undefined },
    });
    expect(result.code).toBe(0);
    const out = result.json(CheckKeyOutputSchema);
    expect(JSON.stringify(out)).toContain('--key');
    expect(JSON.stringify(out)).toContain('flag-id');
  });

  it('authenticates requests when no other source has a key', async () => {
    const result = await env.run(
      [
        'submit',
        'fal-ai/nano-banana-pro',
        '{"prompt":"a fox"}',
        '--key',
        `flag-id:${SECRET}`,
        '--json',
      ],
      { env: { FAL_KEY: undefined } },
    );
    expect(result.code).toBe(0);
    const { requestId } = result.json(SubmitOutputSchema);
    const submitted = env.emulator?.log.find(
      (entry) =>
        entry.kind === 'submit' &&
        entry.status === 200 &&
        JSON.stringify(entry.body).includes('a fox'),
    );
    expect(submitted).toBeDefined();
    expect(env.emulator?.job(requestId)).toBeDefined();
  });
});

describe('a broken store', () => {
  it('stops the submit before anything is paid for', async () => {
    const file = join(env.dir, 'broken-pending.json');
    await writeFile(file, '{"version": 2, "requests": [', { mode: 0o600 });
    const before = env.emulator?.stats.submits ?? 0;
    const result = await env.run(
      ['submit', 'fal-ai/nano-banana-pro', '{"prompt":"not paid"}', '--json'],
      { env: { FALAI_STORE: `file:${file}` } },
    );
    expect(result.code).toBe(7);
    expect(result.json(ErrorOutputSchema).error.code).toBe('STORE_CORRUPT');
    expect(env.emulator?.stats.submits ?? 0).toBe(before);
    // The damaged file is left for the user, untouched.
    expect(await readFile(file, 'utf8')).toBe('{"version": 2, "requests": [');
  });
});

describe('user model folders', () => {
  it('FALAI_MODELS_DIR wins over <config dir>/models', async () => {
    const builtin = JSON.parse(
      await readFile(
        resolve(CLI_DIR, '..', '..', 'models', 'fal-ai', 'nano-banana-pro.json'),
        'utf8',
      ),
    );
    const write = async (dir: string, name: string) => {
      const path = join(dir, 'acme', 'painter.json');
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, JSON.stringify({ ...builtin, endpointId: 'acme/painter', name }));
    };
    const envDir = join(env.dir, 'env-models');
    await write(join(env.dir, 'config', 'falai', 'models'), 'from the config dir');
    await write(envDir, 'from FALAI_MODELS_DIR');
    const result = await env.run(['models', '--json'], { env: { FALAI_MODELS_DIR: envDir } });
    expect(result.code).toBe(0);
    const model = result
      .json(ModelsOutputSchema)
      .models.find((m) => m.endpointId === 'acme/painter');
    expect(model?.name).toBe('from FALAI_MODELS_DIR');
  });
});
