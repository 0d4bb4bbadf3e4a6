import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installSkill, skillInstallDir } from '../src/index.js';
import { tempDir, writeFakeBundle } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let bundle: string;
let env: Record<string, string | undefined>;
beforeEach(() => {
  tmp = tempDir();
  bundle = writeFakeBundle(join(tmp.path, 'bundle.mjs'));
  env = { HOME: join(tmp.path, 'home') };
});
afterEach(() => tmp.cleanup());

describe('skillInstallDir', () => {
  it('follows OpenClaw workspace, state and profile rules', () => {
    const home = join(tmp.path, 'home');
    expect(skillInstallDir({ env })).toBe(join(home, '.openclaw/workspace/skills/falai'));
    expect(skillInstallDir({ env: { ...env, OPENCLAW_PROFILE: 'work' } })).toBe(
      join(home, '.openclaw-work/workspace/skills/falai'),
    );
    expect(skillInstallDir({ env: { ...env, OPENCLAW_WORKSPACE_DIR: '/w' } })).toBe(
      '/w/skills/falai',
    );
    expect(skillInstallDir({ env: { ...env, OPENCLAW_STATE_DIR: '/s' }, global: true })).toBe(
      '/s/skills/falai',
    );
    expect(skillInstallDir({ env, workspace: '/elsewhere' })).toBe('/elsewhere/skills/falai');
    expect(() => skillInstallDir({ env, workspace: '/a', global: true })).toThrow(/either/);
  });
});

describe('installSkill', () => {
  it('installs into a workspace, then upgrades in place keeping origin records', async () => {
    const workspace = join(tmp.path, 'ws');
    const first = await installSkill({ workspace, env, cliBundlePath: bundle, version: '1.0.0' });
    const dir = join(workspace, 'skills/falai');
    expect(first).toMatchObject({ dir, action: 'installed', source: 'openclaw-workspace' });
    expect(existsSync(join(dir, 'SKILL.md'))).toBe(true);
    mkdirSync(join(dir, '.openclaw'));
    writeFileSync(join(dir, '.openclaw/source-origin.json'), '{"kind":"path"}');

    const second = await installSkill({ workspace, env, cliBundlePath: bundle, version: '1.1.0' });
    expect(second).toMatchObject({ dir, action: 'upgraded', previousVersion: '1.0.0' });
    expect(readFileSync(join(dir, 'SKILL.md'), 'utf8')).toContain('version: 1.1.0');
    expect(readFileSync(join(dir, '.openclaw/source-origin.json'), 'utf8')).toBe('{"kind":"path"}');
    expect(second.files).toContain('scripts/falai.mjs');
    // No staging or backup folders are left next to the skill.
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(join(workspace, 'skills'))).toEqual(['falai']);
  });

  it('installs globally into the state dir', async () => {
    const state = join(tmp.path, 'state');
    const result = await installSkill({
      global: true,
      env: { ...env, OPENCLAW_STATE_DIR: state },
      cliBundlePath: bundle,
    });
    expect(result).toMatchObject({
      dir: join(state, 'skills/falai'),
      source: 'openclaw-managed',
      action: 'installed',
    });
  });

  it('will not replace a different skill that happens to be called falai', async () => {
    const dir = join(tmp.path, 'ws/skills/falai');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'SKILL.md'), '---\nname: fal-ai\ndescription: seed\n---\n');
    const error = await installSkill({
      workspace: join(tmp.path, 'ws'),
      env,
      cliBundlePath: bundle,
    }).catch((e) => e);
    expect(error.code).toBe('OUTPUT_EXISTS');
    expect(error.message).toContain('--force');
    expect(readFileSync(join(dir, 'SKILL.md'), 'utf8')).toContain('name: fal-ai');
    const forced = await installSkill({
      workspace: join(tmp.path, 'ws'),
      env,
      cliBundlePath: bundle,
      force: true,
    });
    expect(forced.action).toBe('upgraded');
    expect(readFileSync(join(dir, 'SKILL.md'), 'utf8')).toContain('name: falai');
  });
});
