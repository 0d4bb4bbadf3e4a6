import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseStoreSpec, redactStoreLocation, resolvePaths } from '../../src/index.js';

/** The default file store of an environment, as settings resolve it. */
const defaultPendingFile = (env: Record<string, string>) => resolvePaths(env).pendingFile;

const home = '/home/me';

describe('parseStoreSpec', () => {
  it('parses each kind', () => {
    const env = resolvePaths({ HOME: home });
    expect(parseStoreSpec('file:/tmp/p.json', env)).toEqual({ kind: 'file', path: '/tmp/p.json' });
    expect(parseStoreSpec('file:~/p.json', env)).toEqual({ kind: 'file', path: `${home}/p.json` });
    expect(parseStoreSpec('file:///var/x%20y.json', env)).toEqual({
      kind: 'file',
      path: '/var/x y.json',
    });
    expect(parseStoreSpec('file:rel/p.json', env)).toEqual({
      kind: 'file',
      path: resolve('rel/p.json'),
    });
    expect(parseStoreSpec('sqlite:/tmp/p.db', env)).toEqual({ kind: 'sqlite', path: '/tmp/p.db' });
    expect(parseStoreSpec('sqlite::memory:', env)).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseStoreSpec('memory', env)).toEqual({ kind: 'memory' });
    expect(parseStoreSpec('redis://127.0.0.1:6379/2', env)).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379/2',
    });
    expect(parseStoreSpec('rediss://u:pw@cache.example.com:6380/0?prefix=team-a', env)).toEqual({
      kind: 'redis',
      url: 'rediss://u:pw@cache.example.com:6380/0',
      prefix: 'team-a',
    });
  });

  it('a bare kind means that store at its default place', () => {
    const env = resolvePaths({ HOME: home });
    expect(parseStoreSpec('file', env)).toEqual({
      kind: 'file',
      path: `${home}/.local/state/falai/pending.json`,
    });
    expect(parseStoreSpec('sqlite', env)).toEqual({
      kind: 'sqlite',
      path: `${home}/.local/state/falai/pending.db`,
    });
    expect(parseStoreSpec('redis', env)).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6379' });
  });

  it('rejects nonsense with a ConfigError that shows the accepted forms', () => {
    for (const bad of ['', 'mysql://db/x', '/just/a/path', 'file:', 'redis://h:1/abc']) {
      const run = () => parseStoreSpec(bad, resolvePaths({ HOME: home }));
      expect(run).toThrow(ConfigError);
      expect(run).toThrow(/file:<path>|database after the port/);
    }
    expect(() => parseStoreSpec('redis://h:1/0?prefix=a{b}')).toThrow(/hash tag/);
  });

  it('never echoes a password in its errors', () => {
    try {
      parseStoreSpec('redis://user:hunter2@h:1/zz');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
      expect((error as Error).message).toContain('user:***@');
    }
  });
});

describe('redactStoreLocation', () => {
  it('hides passwords', () => {
    expect(redactStoreLocation('redis://u:p4ss@h:6379/0')).toBe('redis://u:***@h:6379/0');
    expect(redactStoreLocation('rediss://:p4ss@h:6379')).toBe('rediss://:***@h:6379');
    expect(redactStoreLocation('redis://tokenonly@h')).toBe('redis://***@h');
    expect(redactStoreLocation('redis://h:6379')).toBe('redis://h:6379');
    expect(redactStoreLocation({ kind: 'redis', url: 'redis://u:p@h', prefix: 'x' })).toBe(
      'redis://u:***@h (prefix x)',
    );
    expect(redactStoreLocation({ kind: 'file', path: '/a' })).toBe('file:/a');
  });
});

describe('defaultPendingFile', () => {
  it('honours FAL_PENDING_FILE first, like the seed', () => {
    expect(
      defaultPendingFile({ HOME: home, FAL_PENDING_FILE: '~/x.json', FALAI_SKILL: 'openclaw' }),
    ).toBe(`${home}/x.json`);
  });

  it('uses the OpenClaw workspace when running as the skill', () => {
    const skill = { HOME: home, FALAI_SKILL: 'openclaw' };
    expect(defaultPendingFile(skill)).toBe(`${home}/.openclaw/workspace/fal-pending.json`);
    expect(defaultPendingFile({ ...skill, OPENCLAW_PROFILE: 'work' })).toBe(
      `${home}/.openclaw-work/workspace/fal-pending.json`,
    );
    expect(defaultPendingFile({ ...skill, OPENCLAW_STATE_DIR: '/srv/oc' })).toBe(
      '/srv/oc/workspace/fal-pending.json',
    );
    expect(
      defaultPendingFile({
        ...skill,
        OPENCLAW_STATE_DIR: '/srv/oc',
        OPENCLAW_WORKSPACE_DIR: '/ws',
      }),
    ).toBe('/ws/fal-pending.json');
  });

  it('uses the XDG state directory otherwise', () => {
    expect(defaultPendingFile({ HOME: home })).toBe(join(home, '.local/state/falai/pending.json'));
    expect(defaultPendingFile({ HOME: home, XDG_STATE_HOME: '/xdg' })).toBe(
      '/xdg/falai/pending.json',
    );
    expect(defaultPendingFile({ HOME: home, OPENCLAW_STATE_DIR: '/srv/oc' })).toBe(
      join(home, '.local/state/falai/pending.json'),
    );
    expect(resolvePaths({ HOME: home, XDG_STATE_HOME: '/xdg' }).sqliteFile).toBe(
      '/xdg/falai/pending.db',
    );
  });
});
