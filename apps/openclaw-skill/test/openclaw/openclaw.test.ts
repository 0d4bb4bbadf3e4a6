import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSkill } from '../../src/index.js';
import { ensureCliBundle } from '../cli-bundle.js';
import { runAsync, tempDir } from '../helpers.js';
import { prepareOpenClaw } from './prepare-openclaw.mjs';

/**
 * The built skill in the real OpenClaw (2026.9.x on Node 24, installed into a cache folder),
 * in an isolated HOME / state / workspace (openclaw.md §6 hermetic recipe). Run by
 * `pnpm test:openclaw`, never by `pnpm test`.
 */
const SECRET = `oc-secret-${Math.random().toString(36).slice(2)}`;
const KEY = `oc-key:${SECRET}`;
let toolchain: ReturnType<typeof prepareOpenClaw>;
let tmp: ReturnType<typeof tempDir>;
let emulator: Emulator;
let built: string;
let env: NodeJS.ProcessEnv;
let workspace: string;
let stateDir: string;

function openclaw(args: readonly string[]) {
  const run = spawnSync(toolchain.openclawBin, args, {
    env,
    encoding: 'utf8',
    cwd: workspace,
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function info() {
  const run = openclaw(['skills', 'info', 'falai', '--json']);
  expect(run.stderr).not.toContain('Skipping invalid skill');
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

/** Runs the installed skill's script under Node 24, as the model's exec tool would. */
async function falai(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const script = join(workspace, 'skills/falai/scripts/falai.mjs');
  const run = await runAsync(toolchain.node, [script, ...args], {
    env: { ...env, FALAI_BASE_URL: emulator.url, ...extraEnv },
    cwd: workspace,
  });
  expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
  expect(run.status, `${args.join(' ')}: ${run.stdout}${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout);
}

beforeAll(async () => {
  toolchain = prepareOpenClaw();
  tmp = tempDir('falai-openclaw-');
  const root = realpathSync(tmp.path);
  workspace = join(root, 'workspace');
  stateDir = join(root, 'state');
  const home = join(root, 'home');
  for (const dir of [workspace, stateDir, home]) mkdirSync(dir, { recursive: true });
  built = join(root, 'dist', 'falai');
  await buildSkill({ outDir: built, cliBundlePath: ensureCliBundle(join(root, 'cli-bundle')) });
  const { startEmulator } = await import('@falai/emulator');
  emulator = await startEmulator({
    port: 0,
    deterministic: true,
    strict: true,
    defaultLatency: { queueMs: 10, runMs: 40 },
  });
  env = {
    PATH: toolchain.path,
    HOME: home,
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_WORKSPACE_DIR: workspace,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local/state'),
    NO_COLOR: '1',
  };
});

afterAll(async () => {
  await emulator?.close();
  tmp?.cleanup();
});

describe('the falai skill in real OpenClaw', () => {
  it('runs on Node 24', () => {
    const run = spawnSync(toolchain.node, ['--version'], { encoding: 'utf8' });
    expect(run.stdout.trim()).toMatch(/^v24\./);
  });

  it('installs with openclaw skills install --as falai', () => {
    const run = openclaw(['skills', 'install', built, '--as', 'falai']);
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stderr).not.toContain('Skipping invalid skill');
    expect(`${run.stdout}${run.stderr}`).toContain('falai');
  });

  it('is loaded but reports FAL_KEY missing without a key', () => {
    const skill = info();
    expect(skill.name).toBe('falai');
    expect(skill.source).toBe('openclaw-workspace');
    expect(skill.baseDir).toBe(join(workspace, 'skills/falai'));
    expect(skill.primaryEnv).toBe('FAL_KEY');
    expect(skill.eligible).toBe(false);
    expect(skill.missing.env).toContain('FAL_KEY');
    expect(skill.missing.bins).toEqual([]);
    expect(skill.requirements).toMatchObject({ bins: ['node'], env: ['FAL_KEY'] });
  });

  it('is eligible once the key is set through skills.entries.falai.apiKey', () => {
    const set = openclaw(['config', 'set', 'skills.entries.falai.apiKey', KEY]);
    expect(set.status, `${set.stdout}${set.stderr}`).toBe(0);
    expect(`${set.stdout}${set.stderr}`).not.toContain(SECRET);
    const skill = info();
    expect(skill.eligible).toBe(true);
    expect(skill.modelVisible).toBe(true);
    expect(skill.commandVisible).toBe(true);
    expect(skill.source).toBe('openclaw-workspace');
    for (const list of Object.values(skill.missing)) expect(list).toEqual([]);
  });

  it('runs the CLI smoke under Node 24 with the key from openclaw.json', async () => {
    const models = await falai(['models', '--json']);
    expect(models.count).toBeGreaterThanOrEqual(4);
    // The key comes from openclaw.json, not from any source tried before it (the output lists
    // every source, so only `source`, the one used, says where the key came from).
    const check = await falai(['check-key', '--json']);
    const usedSource = `openclaw.json skills.entries.falai.apiKey (${join(stateDir, 'openclaw.json')})`;
    expect(check.source).toBe(usedSource);
    expect(check.masked).toBe('oc-key…');
    const tried = check.sources as { source: string; found: boolean }[];
    const used = tried.findIndex((entry) => entry.source === usedSource);
    expect(used).toBeGreaterThan(0);
    expect(tried[used]?.found).toBe(true);
    expect(tried.slice(0, used).filter((entry) => entry.found)).toEqual([]);
    const submitted = await falai([
      'submit',
      'fal-ai/nano-banana-pro',
      '--set',
      'prompt=a lighthouse at dusk',
      '--json',
    ]);
    const requestId: string = submitted.requestId;
    expect(requestId).toBeTruthy();
    const listed = await falai(['list', '--json']);
    expect(JSON.stringify(listed)).toContain(requestId);
    let completed: { requestId: string }[] = [];
    for (let pass = 0; pass < 20 && completed.length === 0; pass++) {
      completed = (await falai(['poll', '--download', '--json'])).completed;
    }
    expect(completed.map((item) => item.requestId)).toContain(requestId);
  });

  it('the scheduled delivery automation posts a finished job of its session, else nothing', async () => {
    const session = 'agent:main:telegram:direct:4242';
    // No gateway runs here, so OpenClaw cannot store the automation; the test runs exactly the
    // command line the automation holds, as the gateway would (`sh -lc <command>` in
    // --command-cwd, with OpenClaw's environment: the key comes from openclaw.json).
    const planned = await falai(['skill', 'schedule', '--session', session, '--print', '--json']);
    const argv: string[] = planned.argv;
    expect(argv.slice(0, 2)).toEqual(['automations', 'create']);
    expect(argv).toContain('--announce');
    expect(argv[argv.indexOf('--session-key') + 1]).toBe(session);
    expect(argv).not.toContain('--no-deliver');
    const command = argv[argv.indexOf('--command') + 1] ?? '';
    const cwd = argv[argv.indexOf('--command-cwd') + 1] ?? '';
    expect(command).toContain(join(workspace, 'skills/falai/scripts/falai.mjs'));
    expect(cwd).toBe(workspace);
    const automation = async () => {
      const run = await runAsync('/bin/sh', ['-lc', command], {
        cwd,
        env: { ...env, FALAI_BASE_URL: emulator.url },
      });
      expect(run.status, run.stderr).toBe(0);
      expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
      return run;
    };
    // Nothing of this session finished: no stdout and no stderr, so nothing is announced.
    const idle = await automation();
    expect(idle.stdout).toBe('');
    expect(idle.stderr).toBe('');
    // A job submitted earlier by that session (the agent passes its session key).
    const submitted = await falai([
      'submit',
      'fal-ai/nano-banana-pro',
      '--set',
      'prompt=a lighthouse at dusk',
      '--session',
      session,
      '--json',
    ]);
    let delivered = '';
    for (let pass = 0; pass < 20 && delivered === ''; pass++) {
      const run = await automation();
      expect(run.stderr).toBe('');
      delivered = run.stdout;
    }
    const lines = delivered.trimEnd().split('\n');
    expect(lines[0]).toContain(submitted.requestId);
    const media = lines.filter((line) => /^MEDIA:\S/.test(line));
    expect(media).toHaveLength(1);
    const path = (media[0] ?? '').slice('MEDIA:'.length);
    expect(existsSync(isAbsolute(path) ? path : join(workspace, path))).toBe(true);
    // Delivered once: the next run is silent again.
    expect((await automation()).stdout).toBe('');
  });

  it('upgrades itself with falai skill install and stays eligible', async () => {
    const installed = await falai(['skill', 'install', '--json']);
    expect(installed).toMatchObject({
      action: 'upgraded',
      dir: join(workspace, 'skills/falai'),
      source: 'openclaw-workspace',
    });
    const skill = info();
    expect(skill.eligible).toBe(true);
    for (const list of Object.values(skill.missing)) expect(list).toEqual([]);
  });
});
