import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

/** `falai batch plan|run|status|list` end to end: the built CLI against the emulator. */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv({
    emulator: { concurrency: 4, defaultLatency: { queueMs: 2, runMs: 10 } },
  });
});
afterAll(async () => {
  await env.close();
});

const submits = () => env.emulator?.log.filter((entry) => entry.kind === 'submit').length ?? 0;

describe('falai batch', () => {
  it('plan reports each bad row with its row number and field, and exits 4', async () => {
    await writeFile(join(env.dir, 'bad.csv'), 'id,prompt,n\na,a fox,1\nb,a cat,many\n');
    await writeFile(join(env.dir, 'tpl.json'), '{"prompt":"{{prompt}}","num_images":"{{n}}"}');
    const result = await env.run([
      'batch',
      'plan',
      'bad.csv',
      '--model',
      'fal-ai/nano-banana-pro',
      '--template',
      'tpl.json',
      '--json',
    ]);
    expect(result.code).toBe(4);
    const out = JSON.parse(result.stdout) as { issues: { row: number; field: string }[] };
    expect(out.issues.map((issue) => `${issue.row}:${issue.field}`)).toEqual(['2:num_images']);
  });

  it('runs a CSV batch with outputs and a manifest; a re-run submits nothing; status and list see it', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => `s${i},shot ${i}`).join('\n');
    await writeFile(join(env.dir, 'shots.csv'), `id,prompt\n${rows}\n`);
    const plan = await env.run([
      'batch',
      'plan',
      'shots.csv',
      '--model',
      'fal-ai/nano-banana-pro',
      '--json',
    ]);
    expect(plan.code).toBe(0);
    const { hash, plan: planPath } = JSON.parse(plan.stdout) as { hash: string; plan: string };
    const before = submits();
    const run = await env.run([
      'batch',
      'run',
      planPath,
      '--out',
      'out',
      '--name',
      '{row.id}-{index}.{ext}',
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect(submits() - before).toBe(6);
    const events = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
    expect(events.at(-1)?.type).toBe('end');
    const manifest = (await readFile(join(env.dir, 'out', 'manifest.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(manifest.map((line) => JSON.parse(line).status)).toEqual(Array(6).fill('completed'));
    expect((await readdir(join(env.dir, 'out'))).filter((f) => f.endsWith('.png')).sort()).toEqual([
      's0-0.png',
      's1-0.png',
      's2-0.png',
      's3-0.png',
      's4-0.png',
      's5-0.png',
    ]);
    const again = await env.run(['batch', 'run', planPath, '--out', 'out', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).submitted).toBe(0);
    expect(submits() - before).toBe(6);
    const status = await env.run(['batch', 'status', hash.slice(0, 10), '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      batch: hash,
      rows: 6,
      statuses: { completed: 6 },
    });
    const list = await env.run(['batch', 'list', '--json']);
    expect(JSON.parse(list.stdout).batches.map((b: { batch: string }) => b.batch)).toContain(hash);
  });
});
