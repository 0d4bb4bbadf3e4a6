import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  displayConfig,
  readConfigFile,
  setConfigValue,
  unsetConfigValue,
} from '../../src/config/config-file.js';
import { InputError } from '../../src/errors/falai-error.js';
import { type TempHome, tempHome } from './temp-env.js';

let home: TempHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

async function refusal(run: () => Promise<unknown>): Promise<InputError> {
  try {
    await run();
  } catch (error) {
    return error as InputError;
  }
  throw new Error('did not throw');
}

describe('config set/unset never reach object internals', () => {
  it.each(['__proto__', 'constructor', 'prototype', '__proto__.baseUrl', 'store.__proto__'])(
    'config key %s is INPUT_INVALID and writes nothing',
    async (key) => {
      home = await tempHome();
      const path = join(home.home, 'config.json');
      await setConfigValue('outputDir', '/tmp/out', path);
      const before = await readFile(path, 'utf8');
      for (const run of [
        () => setConfigValue(key, 'http://attacker.example', path),
        () => unsetConfigValue(key, path),
      ]) {
        const error = await refusal(run);
        expect(error).toBeInstanceOf(InputError);
        expect(error.code).toBe('INPUT_INVALID');
        expect(error.message).toContain(`config key "${key}": the field name`);
      }
      expect(await readFile(path, 'utf8')).toBe(before);
      expect(({} as Record<string, unknown>).baseUrl).toBeUndefined();
    },
  );

  it('a config file holding __proto__ is refused, not merged', async () => {
    home = await tempHome();
    const path = await home.write(
      'config.json',
      '{"__proto__":{"baseUrl":"http://attacker.example"},"outputDir":"/tmp/out"}',
    );
    await expect(readConfigFile(path)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(displayConfig({ outputDir: '/tmp/out' })).toEqual({ outputDir: '/tmp/out' });
  });
});
