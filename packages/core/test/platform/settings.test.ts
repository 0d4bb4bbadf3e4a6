import type { Emulator } from '@falai/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_API_URL, resolveSettings } from '../../src/config/settings.js';
import { ConfigError } from '../../src/errors/index.js';
import { createPlatformClient } from '../../src/platform/index.js';
import { type TempHome, tempHome } from '../config/temp-env.js';
import { API_KEY, startPlatformEmulator } from './harness.js';

let t: TempHome;
let emulator: Emulator;
beforeAll(async () => {
  t = await tempHome();
  emulator = await startPlatformEmulator();
});
afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(async () => {
  await emulator.close();
  await t.cleanup();
});

describe('the Platform API base URL (settings.apiUrl)', () => {
  it('defaults to https://api.fal.ai/v1', async () => {
    const settings = await resolveSettings({ env: t.env, cwd: '/w' });
    expect(settings.apiUrl).toBe(DEFAULT_API_URL);
    expect(DEFAULT_API_URL).toBe('https://api.fal.ai/v1');
    expect(settings.sources.apiUrl).toEqual({ kind: 'default', label: 'default' });
  });

  it('follows FALAI_BASE_URL like every fal host, at <base>/v1', async () => {
    const settings = await resolveSettings({
      env: { ...t.env, FALAI_BASE_URL: 'http://127.0.0.1:8787/' },
    });
    expect(settings.apiUrl).toBe('http://127.0.0.1:8787/v1');
    expect(settings.baseUrls.queue).toBe('http://127.0.0.1:8787');
    expect(settings.sources.apiUrl).toEqual({ kind: 'env', label: 'env FALAI_BASE_URL' });
  });

  it('FALAI_API_URL overrides it alone, taken as given', async () => {
    const settings = await resolveSettings({
      env: {
        ...t.env,
        FALAI_BASE_URL: 'http://base.test:1',
        FALAI_API_URL: 'http://api.test:2/v1/',
      },
    });
    expect(settings.apiUrl).toBe('http://api.test:2/v1');
    expect(settings.baseUrls).toEqual({
      queue: 'http://base.test:1',
      run: 'http://base.test:1',
      rest: 'http://base.test:1',
    });
    expect(settings.sources.apiUrl).toEqual({ kind: 'env', label: 'env FALAI_API_URL' });
  });

  it('--base-url wins, then the config file’s baseUrl', async () => {
    const flagged = await resolveSettings({
      env: { ...t.env, FALAI_API_URL: 'http://api.test:2/v1' },
      flags: { baseUrl: 'http://flag.test:3' },
    });
    expect(flagged.apiUrl).toBe('http://flag.test:3/v1');
    const path = await t.write(
      '.config/falai/config.json',
      JSON.stringify({ baseUrl: 'http://file.test:4' }),
    );
    const fromFile = await resolveSettings({ env: t.env });
    expect(fromFile.apiUrl).toBe('http://file.test:4/v1');
    expect(fromFile.sources.apiUrl).toEqual({ kind: 'config', label: `config file ${path}` });
  });

  it('rejects a bad FALAI_API_URL naming the setting and its source', async () => {
    const error = await resolveSettings({ env: { ...t.env, FALAI_API_URL: 'ftp://nope' } }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('apiUrl');
    expect((error as ConfigError).message).toContain('env FALAI_API_URL');
  });
});

describe('the client’s base URL', () => {
  it('follows FALAI_BASE_URL, or FALAI_API_URL alone, when no settings are given', async () => {
    vi.stubEnv('FALAI_API_URL', '');
    vi.stubEnv('FALAI_BASE_URL', emulator.url);
    const fromBase = createPlatformClient({ credentials: API_KEY });
    expect(fromBase.apiUrl).toBe(`${emulator.url}/v1`);
    expect((await fromBase.listModels({ limit: 1 })).items).toHaveLength(1);
    vi.stubEnv('FALAI_BASE_URL', 'http://127.0.0.1:1');
    vi.stubEnv('FALAI_API_URL', `${emulator.url}/v1`);
    const fromApi = createPlatformClient({ credentials: API_KEY });
    expect(fromApi.apiUrl).toBe(`${emulator.url}/v1`);
    expect((await fromApi.getPrices(['fal-ai/flux/dev']))[0]?.unit).toBe('megapixels');
  });

  it('uses settings.apiUrl, and apiUrl/baseUrl options over it', async () => {
    const settings = await resolveSettings({ env: { ...t.env, FALAI_BASE_URL: emulator.url } });
    expect(createPlatformClient({ settings }).apiUrl).toBe(`${emulator.url}/v1`);
    expect(createPlatformClient({ settings, apiUrl: 'http://x.test/v2' }).apiUrl).toBe(
      'http://x.test/v2',
    );
    expect(createPlatformClient({ settings, baseUrl: 'http://y.test' }).apiUrl).toBe(
      'http://y.test/v1',
    );
  });
});
