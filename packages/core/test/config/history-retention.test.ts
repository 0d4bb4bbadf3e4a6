import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfigFile, setConfigValue } from '../../src/config/config-file.js';
import { DEFAULT_HISTORY_RETENTION_DAYS, resolveSettings } from '../../src/config/settings.js';
import { retentionCutoff } from '../../src/provenance/history.js';
import { type TempHome, tempHome } from './temp-env.js';

let home: TempHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

describe('historyRetentionDays', () => {
  it('defaults to 30 days', async () => {
    home = await tempHome();
    const settings = await resolveSettings({ env: home.env, cwd: home.home });
    expect(DEFAULT_HISTORY_RETENTION_DAYS).toBe(30);
    expect(settings.historyRetentionDays).toBe(30);
    expect(settings.sources.historyRetentionDays).toEqual({ kind: 'default', label: 'default' });
  });

  it('comes from the config file (config set writes digits; a number works too), env wins', async () => {
    home = await tempHome();
    const configPath = join(home.home, 'config.json');
    await setConfigValue('historyRetentionDays', '90', configPath);
    expect((await readConfigFile(configPath)).historyRetentionDays).toBe('90');
    const fromFile = await resolveSettings({
      env: home.env,
      cwd: home.home,
      flags: { configPath },
    });
    expect(fromFile.historyRetentionDays).toBe(90);
    expect(fromFile.sources.historyRetentionDays?.kind).toBe('config');

    const numeric = await home.write('numeric.json', '{"historyRetentionDays": 7}');
    const fromNumber = await resolveSettings({
      env: home.env,
      cwd: home.home,
      flags: { configPath: numeric },
    });
    expect(fromNumber.historyRetentionDays).toBe(7);

    const fromEnv = await resolveSettings({
      env: { ...home.env, FALAI_HISTORY_RETENTION_DAYS: '0' },
      cwd: home.home,
      flags: { configPath },
    });
    expect(fromEnv.historyRetentionDays).toBe(0);
    expect(fromEnv.sources.historyRetentionDays).toEqual({
      kind: 'env',
      label: 'env FALAI_HISTORY_RETENTION_DAYS',
    });
  });

  it('refuses anything but whole days, naming the setting and where it came from', async () => {
    home = await tempHome();
    await expect(
      resolveSettings({ env: { ...home.env, FALAI_HISTORY_RETENTION_DAYS: '2w' }, cwd: home.home }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('env FALAI_HISTORY_RETENTION_DAYS'),
    });
    const configPath = join(home.home, 'config.json');
    await expect(setConfigValue('historyRetentionDays', 'soon', configPath)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('whole number of days'),
    });
  });

  it('retentionCutoff: the instant before which finished requests go; none for 0', () => {
    const now = Date.parse('2026-03-31T00:00:00.000Z');
    expect(retentionCutoff(30, now)).toBe('2026-03-01T00:00:00.000Z');
    expect(retentionCutoff(0, now)).toBeUndefined();
  });
});
