import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  displayConfig,
  falaiConfigLocation,
  openclawPaths,
  readConfigFile,
  resolveSettings,
  setConfigValue,
  unsetConfigValue,
  writeConfigFile,
} from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { type TempHome, tempHome } from './temp-env.js';

let t: TempHome;
beforeEach(async () => {
  t = await tempHome();
});
afterEach(async () => {
  await t.cleanup();
});

describe('openclawPaths', () => {
  it('defaults to ~/.openclaw', () => {
    expect(openclawPaths({ HOME: '/h' })).toEqual({
      stateDir: '/h/.openclaw',
      configPath: '/h/.openclaw/openclaw.json',
      workspaceDir: '/h/.openclaw/workspace',
    });
  });
  it('follows OPENCLAW_PROFILE', () => {
    expect(openclawPaths({ HOME: '/h', OPENCLAW_PROFILE: 'work' })).toEqual({
      stateDir: '/h/.openclaw-work',
      configPath: '/h/.openclaw-work/openclaw.json',
      workspaceDir: '/h/.openclaw-work/workspace',
    });
    expect(openclawPaths({ HOME: '/h', OPENCLAW_PROFILE: 'default' }).stateDir).toBe(
      '/h/.openclaw',
    );
  });
  it('lets OPENCLAW_STATE_DIR beat the profile, and the file/workspace vars beat both', () => {
    expect(
      openclawPaths({ HOME: '/h', OPENCLAW_PROFILE: 'x', OPENCLAW_STATE_DIR: '/state' }),
    ).toEqual({
      stateDir: '/state',
      configPath: '/state/openclaw.json',
      workspaceDir: '/state/workspace',
    });
    expect(
      openclawPaths({
        HOME: '/h',
        OPENCLAW_STATE_DIR: '~/st',
        OPENCLAW_CONFIG_PATH: '/etc/oc.json',
        OPENCLAW_WORKSPACE_DIR: '~/ws',
      }),
    ).toEqual({ stateDir: '/h/st', configPath: '/etc/oc.json', workspaceDir: '/h/ws' });
  });
});

describe('falaiConfigLocation', () => {
  it('uses FALAI_CONFIG > FALAI_CONFIG_DIR > XDG_CONFIG_HOME > ~/.config', () => {
    expect(falaiConfigLocation({ HOME: '/h' }).configPath).toBe('/h/.config/falai/config.json');
    expect(falaiConfigLocation({ HOME: '/h', XDG_CONFIG_HOME: '/x' }).configPath).toBe(
      '/x/falai/config.json',
    );
    expect(
      falaiConfigLocation({ HOME: '/h', XDG_CONFIG_HOME: '/x', FALAI_CONFIG_DIR: '/c' }).configPath,
    ).toBe('/c/config.json');
    const file = falaiConfigLocation({
      HOME: '/h',
      FALAI_CONFIG_DIR: '/c',
      FALAI_CONFIG: '/f.json',
    });
    expect(file).toMatchObject({
      configDir: '/c',
      configPath: '/f.json',
      pathSource: 'env FALAI_CONFIG',
    });
  });
});

describe('resolveSettings', () => {
  it('puts outputs in the OpenClaw workspace when running as the skill', async () => {
    const settings = await resolveSettings({
      env: { ...t.env, FALAI_SKILL: 'openclaw', OPENCLAW_WORKSPACE_DIR: '/ws' },
      cwd: '/work',
    });
    expect(settings.outputDir).toBe('/ws/falai-output');
    const explicit = await resolveSettings({
      env: { ...t.env, FALAI_SKILL: 'openclaw', FALAI_OUTPUT_DIR: '/out' },
      cwd: '/work',
    });
    expect(explicit.outputDir).toBe('/out');
  });

  it('uses defaults with an empty environment', async () => {
    const settings = await resolveSettings({ env: t.env, cwd: '/work' });
    expect(settings.baseUrls).toEqual({
      queue: 'https://queue.fal.run',
      run: 'https://fal.run',
      rest: 'https://rest.fal.ai',
    });
    expect(settings.outputDir).toBe('/work/falai-output');
    expect(settings.store).toBeUndefined();
    expect(settings.configPath).toBe(join(t.home, '.config/falai/config.json'));
    expect(settings.sources['baseUrls.queue']).toEqual({ kind: 'default', label: 'default' });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('applies flags > env > config file > defaults, remembering each source', async () => {
    const configPath = await t.write(
      '.config/falai/config.json',
      JSON.stringify({
        baseUrl: 'http://config.test:1',
        store: 'sqlite:/tmp/c.db',
        outputDir: 'from-config',
        modelsDir: '/models-from-config',
      }),
    );
    const fromFile = await resolveSettings({ env: t.env, cwd: '/w' });
    expect(fromFile.baseUrls.queue).toBe('http://config.test:1');
    expect(fromFile.store).toBe('sqlite:/tmp/c.db');
    expect(fromFile.outputDir).toBe('/w/from-config');
    expect(fromFile.modelsDir).toBe('/models-from-config');
    expect(fromFile.sources.store).toEqual({ kind: 'config', label: `config file ${configPath}` });

    const env = {
      ...t.env,
      FALAI_BASE_URL: 'http://env.test:2/',
      FALAI_REST_URL: 'http://rest.test:3',
      FALAI_STORE: 'file:/tmp/p.json',
      FALAI_OUTPUT_DIR: '/out',
      FALAI_MODELS_DIR: '~/models',
    };
    const fromEnv = await resolveSettings({ env, cwd: '/w' });
    expect(fromEnv.baseUrls).toEqual({
      queue: 'http://env.test:2',
      run: 'http://env.test:2',
      rest: 'http://rest.test:3',
    });
    expect(fromEnv.sources['baseUrls.rest']).toEqual({ kind: 'env', label: 'env FALAI_REST_URL' });
    expect(fromEnv.sources['baseUrls.queue']).toEqual({ kind: 'env', label: 'env FALAI_BASE_URL' });
    expect(fromEnv.store).toBe('file:/tmp/p.json');
    expect(fromEnv.outputDir).toBe('/out');
    expect(fromEnv.modelsDir).toBe(join(t.home, 'models'));

    const fromFlags = await resolveSettings({
      env,
      cwd: '/w',
      flags: { baseUrl: 'http://127.0.0.1:9', store: 'redis://localhost:6379/1', outputDir: 'o' },
    });
    expect(fromFlags.baseUrls).toEqual({
      queue: 'http://127.0.0.1:9',
      run: 'http://127.0.0.1:9',
      rest: 'http://127.0.0.1:9',
    });
    expect(fromFlags.store).toBe('redis://localhost:6379/1');
    expect(fromFlags.outputDir).toBe('/w/o');
    expect(fromFlags.sources.store).toEqual({ kind: 'flag', label: 'flag --store' });
  });

  it('reads the config file named by --config', async () => {
    const path = await t.write('elsewhere.json', JSON.stringify({ store: 'file:/x.json' }));
    const settings = await resolveSettings({ env: t.env, flags: { configPath: path } });
    expect(settings.store).toBe('file:/x.json');
    expect(settings.sources.configPath).toEqual({ kind: 'flag', label: 'flag --config' });
  });

  it('rejects a bad base URL naming the setting and its source', async () => {
    const error = await resolveSettings({
      env: { ...t.env, FALAI_QUEUE_URL: 'ftp://nope' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('baseUrls.queue');
    expect((error as ConfigError).message).toContain('env FALAI_QUEUE_URL');
    const notUrl = await resolveSettings({ env: t.env, flags: { baseUrl: 'not a url' } }).catch(
      (e: unknown) => e,
    );
    expect((notUrl as ConfigError).message).toContain('flag --base-url');
  });

  it('rejects an invalid config file with the path in the message', async () => {
    const path = await t.write('.config/falai/config.json', '{ not json');
    await expect(resolveSettings({ env: t.env })).rejects.toThrow(path);
    await t.write('.config/falai/config.json', JSON.stringify({ colour: 'blue' }));
    await expect(resolveSettings({ env: t.env })).rejects.toThrow(/unknown key "colour"/);
  });
});

describe('config file', () => {
  it('sets, reads and unsets values, writing 0600 atomically', async () => {
    const path = join(t.home, 'cfg', 'config.json');
    await setConfigValue('store', 'sqlite:/tmp/a.db', path);
    await setConfigValue('key', 'abc-id:abc-secret', path);
    expect(await readConfigFile(path)).toEqual({
      store: 'sqlite:/tmp/a.db',
      key: 'abc-id:abc-secret',
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await unsetConfigValue('store', path)).toBe(true);
    expect(await unsetConfigValue('store', path)).toBe(false);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ key: 'abc-id:abc-secret' });
    expect(displayConfig(await readConfigFile(path))).toEqual({ key: 'abc-…' });
  });

  it('rejects unknown keys and bad values without echoing the value', async () => {
    const path = join(t.home, 'config.json');
    await expect(setConfigValue('colour', 'blue', path)).rejects.toThrow(
      /Unknown config key "colour"/,
    );
    const bad = await setConfigValue('key', 'nocolonsecretvalue', path).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect(String((bad as Error).message)).not.toContain('nocolonsecretvalue');
    await expect(setConfigValue('baseUrl', 'localhost', path)).rejects.toThrow(/http\(s\) URL/);
    await expect(writeConfigFile({ baseUrl: 'http://127.0.0.1:1' }, path)).resolves.toBeUndefined();
  });

  it('treats a missing or empty file as empty', async () => {
    expect(await readConfigFile(join(t.home, 'missing.json'))).toEqual({});
    const empty = join(t.home, 'empty.json');
    await writeFile(empty, '');
    expect(await readConfigFile(empty)).toEqual({});
  });
});
