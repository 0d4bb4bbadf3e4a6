import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSkill, checkClawHubRules } from '../src/index.js';
import { ensureCliBundle } from './cli-bundle.js';
import { bashExamples, runAsync, tempDir } from './helpers.js';

/**
 * Docs as tests: every command in the built SKILL.md's ```bash blocks runs, as written, against
 * the emulator from a fresh OpenClaw workspace, and must exit 0 with one JSON document.
 * `{baseDir}` becomes the skill folder and `REQUEST_ID` the id of the latest submitted request.
 */
const SECRET = `docs-secret-${Math.random().toString(36).slice(2)}`;
const FAL_KEY = `docs-key:${SECRET}`;
let tmp: ReturnType<typeof tempDir>;
let emulator: Emulator;
let skillDir: string;
let workspace: string;
let env: NodeJS.ProcessEnv;
let markdown: string;

beforeAll(async () => {
  tmp = tempDir('falai-docs-');
  workspace = join(tmp.path, 'workspace');
  skillDir = join(workspace, 'skills', 'falai');
  const { startEmulator } = await import('@falai/emulator');
  emulator = await startEmulator({
    port: 0,
    deterministic: true,
    strict: true,
    defaultLatency: { queueMs: 10, runMs: 40 },
  });
  await buildSkill({
    outDir: skillDir,
    cliBundlePath: ensureCliBundle(join(tmp.path, 'cli-bundle')),
  });
  markdown = readFileSync(join(skillDir, 'SKILL.md'), 'utf8');
  const fixtures = new URL('./fixtures/', import.meta.url);
  copyFileSync(new URL('photo.png', fixtures), join(workspace, 'photo.png'));
  copyFileSync(new URL('clip.mp4', fixtures), join(workspace, 'clip.mp4'));
  const home = join(tmp.path, 'home');
  mkdirSync(home);
  env = {
    PATH: dirname(process.execPath),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local/state'),
    OPENCLAW_WORKSPACE_DIR: workspace,
    OPENCLAW_STATE_DIR: join(tmp.path, 'state'),
    FAL_KEY,
    FALAI_BASE_URL: emulator.url,
  };
}, 180_000);

afterAll(async () => {
  await emulator?.close();
  tmp?.cleanup();
});

function findRequestId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.requestId === 'string') return record.requestId;
  for (const child of Object.values(record)) {
    const found = findRequestId(child);
    if (found) return found;
  }
  return undefined;
}

describe('SKILL.md command examples (docs as tests)', () => {
  it('every example runs against the emulator and prints JSON', async () => {
    const commands = bashExamples(markdown);
    expect(commands.length).toBeGreaterThan(8);
    let requestId: string | undefined;
    const failures: string[] = [];
    for (const example of commands) {
      if (example.includes('REQUEST_ID') && !requestId) {
        failures.push(`${example}: no request submitted before it`);
        continue;
      }
      const command = example
        .replaceAll('{baseDir}', skillDir)
        .replaceAll('REQUEST_ID', requestId ?? '');
      const run = await runAsync('/bin/sh', ['-c', command], { cwd: workspace, env });
      expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
      let output: unknown;
      try {
        output = JSON.parse(run.stdout);
      } catch {
        failures.push(`${example}\n  exit ${run.status}, not JSON: ${run.stdout}${run.stderr}`);
        continue;
      }
      if (run.status !== 0 || (output as { error?: unknown }).error) {
        failures.push(`${example}\n  exit ${run.status}: ${run.stdout}${run.stderr}`);
        continue;
      }
      if (/ (submit|run) /.test(example)) requestId = findRequestId(output) ?? requestId;
    }
    expect(failures).toEqual([]);
  });

  it('kept the requests in the workspace fal-pending.json and the outputs in the workspace', () => {
    expect(existsSync(join(workspace, 'fal-pending.json'))).toBe(true);
    const pending = readFileSync(join(workspace, 'fal-pending.json'), 'utf8');
    expect(pending).not.toContain(SECRET);
    const outputs = readdirSync(join(workspace, 'falai-output'));
    const png = outputs.find((file) => file.endsWith('.png'));
    expect(png).toBeDefined();
    const bytes = readFileSync(join(workspace, 'falai-output', png ?? ''));
    expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(outputs.some((file) => file.endsWith('.mp4'))).toBe(true);
  });

  it('the built folder with the real CLI bundle passes ClawHub rules', async () => {
    expect(await checkClawHubRules(skillDir)).toEqual([]);
    // The built-in model definitions travel inside the bundle (@falai/models, embedded).
    const bundle = readdirSync(join(skillDir, 'scripts')).find((file) => file === 'falai-cli.mjs');
    expect(bundle).toBeDefined();
    expect(readFileSync(join(skillDir, 'scripts', bundle ?? ''), 'utf8')).toContain(
      'fal-ai/nano-banana-pro/edit',
    );
  });

  it('migrates a seed fal-pending.json left by the Python skill', async () => {
    const seedWorkspace = join(tmp.path, 'seed-workspace');
    mkdirSync(seedWorkspace);
    const seed = {
      requests: [
        {
          request_id: 'seed-req-1',
          model_id: 'fal-ai/nano-banana-pro',
          input: { prompt: 'a seed request' },
          status: 'IN_QUEUE',
          submitted_at: '2026-02-07T08:00:00.000000',
          updated_at: '2026-02-07T08:00:00.000000',
        },
      ],
    };
    writeFileSync(join(seedWorkspace, 'fal-pending.json'), JSON.stringify(seed));
    const run = await runAsync(
      process.execPath,
      [join(skillDir, 'scripts/falai.mjs'), 'list', '--json'],
      { cwd: seedWorkspace, env: { ...env, OPENCLAW_WORKSPACE_DIR: seedWorkspace } },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('seed-req-1');
  });
});
