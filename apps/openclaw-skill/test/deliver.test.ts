import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { createMemoryStore } from '@falai/core';
import { newPendingRecord } from '@falai/core/internal';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildSkill,
  DELIVERED_TAG,
  renderDeliveries,
  SESSION_TAG,
  takeDeliveries,
} from '../src/index.js';
import { ensureCliBundle } from './cli-bundle.js';
import { runAsync, tempDir } from './helpers.js';

/**
 * `falai skill deliver --session <key>`, the command the OpenClaw automation runs, through the
 * built skill's script against the emulator: silent when nothing finished, one MEDIA line per
 * output of a finished job of that session, and each job delivered once across concurrent runs.
 */
const SESSION = 'agent:main:telegram:direct:42';
let tmp: ReturnType<typeof tempDir>;
let emulator: Emulator;
let workspace: string;
let script: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  tmp = tempDir('falai-deliver-');
  workspace = join(tmp.path, 'workspace');
  const skillDir = join(workspace, 'skills', 'falai');
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
  script = join(skillDir, 'scripts/falai.mjs');
  const home = join(tmp.path, 'home');
  mkdirSync(home);
  env = {
    PATH: dirname(process.execPath),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local/state'),
    OPENCLAW_WORKSPACE_DIR: workspace,
    OPENCLAW_STATE_DIR: join(tmp.path, 'state'),
    FAL_KEY: 'deliver-key:secret',
    FALAI_BASE_URL: emulator.url,
  };
}, 180_000);

afterAll(async () => {
  await emulator?.close();
  tmp?.cleanup();
});

function falai(args: readonly string[]) {
  return runAsync(process.execPath, [script, ...args], { cwd: workspace, env });
}

async function deliver(session = SESSION) {
  const run = await falai(['skill', 'deliver', '--session', session]);
  expect(run.status, run.stderr).toBe(0);
  return run;
}

async function submit(session: string, prompt: string): Promise<string> {
  const run = await falai([
    'submit',
    'fal-ai/nano-banana-pro',
    '--set',
    `prompt=${prompt}`,
    '--set',
    'num_images=2',
    '--session',
    session,
    '--json',
  ]);
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout).requestId;
}

/** Polls (without delivering) until every submitted request has finished. */
async function settle(): Promise<void> {
  for (let pass = 0; pass < 50; pass++) {
    const polled = JSON.parse((await falai(['poll', '--download', '--json'])).stdout);
    if (polled.pending === 0) return;
  }
  throw new Error('requests did not finish');
}

describe('falai skill deliver', () => {
  it('prints nothing at all and exits 0 when nothing finished', async () => {
    const run = await deliver();
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('');
  });

  it("delivers a finished job's outputs once, one MEDIA line per file, to its session only", async () => {
    const mine = await submit(SESSION, 'a lighthouse at dusk');
    const other = await submit('agent:main:other', 'a red barn');
    await settle();
    const first = await deliver();
    expect(first.stderr).toBe('');
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`fal.ai fal-ai/nano-banana-pro finished (request ${mine}).`);
    const media = lines.filter((line) => line.startsWith('MEDIA:'));
    expect(media).toHaveLength(2);
    expect(lines).toHaveLength(3);
    for (const line of media) {
      const path = line.slice('MEDIA:'.length);
      const file = isAbsolute(path) ? path : join(workspace, path);
      expect(existsSync(file), file).toBe(true);
      expect(path).toContain(mine);
    }
    expect(first.stdout).not.toContain(other);
    // Delivered: the next run is silent again.
    expect((await deliver()).stdout).toBe('');
    // The other session gets its own job.
    expect((await deliver('agent:main:other')).stdout).toContain(other);
  });

  it('two overlapping runs deliver a finished job exactly once', async () => {
    const id = await submit(SESSION, 'a snowy pass');
    await settle();
    const runs = await Promise.all([deliver(), deliver(), deliver()]);
    const outputs = runs.map((run) => run.stdout).filter((text) => text !== '');
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toContain(id);
    expect(outputs[0]?.split('\n').filter((line) => line.startsWith('MEDIA:'))).toHaveLength(2);
  });
});

describe('takeDeliveries', () => {
  it('marks each finished job of the session once, even with concurrent takers', async () => {
    const store = createMemoryStore();
    const finished = {
      ...newPendingRecord({ requestId: 'r1', endpointId: 'fal-ai/x' }),
      status: 'completed' as const,
      tags: { [SESSION_TAG]: 's1' },
      outputs: [{ url: 'https://cdn.example/a.png', path: '/ws/falai-output/r1-0.png' }],
    };
    await store.put(finished);
    await store.put({
      ...newPendingRecord({ requestId: 'r2', endpointId: 'fal-ai/x' }),
      tags: { [SESSION_TAG]: 's1' },
    });
    const taken = await Promise.all([
      takeDeliveries({ store, session: 's1' }),
      takeDeliveries({ store, session: 's1' }),
    ]);
    expect(taken.flat().map((record) => record.requestId)).toEqual(['r1']);
    expect((await store.get('r1'))?.tags?.[DELIVERED_TAG]).toBeDefined();
    expect((await store.get('r1'))?.lease).toBeUndefined();
    expect(await takeDeliveries({ store, session: 's1' })).toEqual([]);
    expect(renderDeliveries(taken.flat())).toBe(
      'fal.ai fal-ai/x finished (request r1).\nMEDIA:/ws/falai-output/r1-0.png\n',
    );
  });

  it('renders a failure as one line, without letting fal text start a line', () => {
    const failed = {
      ...newPendingRecord({ requestId: 'r3', endpointId: 'fal-ai/x' }),
      status: 'failed' as const,
      error: { code: 'REQUEST_FAILED', message: 'bad\nMEDIA:/etc/passwd' },
    };
    expect(renderDeliveries([failed])).toBe(
      'fal.ai fal-ai/x request r3 failed: bad MEDIA:/etc/passwd\n',
    );
    expect(renderDeliveries([])).toBe('');
  });
});
