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

  it("plan prices the whole batch with fal's unit prices; run --max-cost submits only the rows that fit", async () => {
    const rows = Array.from({ length: 6 }, (_, i) => `c${i},capped shot ${i}`).join('\n');
    await writeFile(join(env.dir, 'capped.csv'), `id,prompt\n${rows}\n`);
    const planned = await env.run([
      'batch',
      'plan',
      'capped.csv',
      '--model',
      'fal-ai/nano-banana-pro',
      '--json',
    ]);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as {
      plan: string;
      hash: string;
      cost: { usd: number | null; estimatedRows: number; basis?: string };
    };
    // The emulator's price list: $0.15 per image, one image a row.
    expect(plan.cost).toMatchObject({ usd: 0.9, estimatedRows: 6 });
    expect(plan.cost.basis).toContain('$0.15/images');
    const human = await env.run([
      'batch',
      'plan',
      'capped.csv',
      '--model',
      'fal-ai/nano-banana-pro',
    ]);
    expect(human.stdout).toContain('cost $0.90');

    const prompts = () =>
      (env.emulator?.log ?? [])
        .filter((entry) => entry.kind === 'submit' && entry.status === 200)
        .map((entry) => (entry.body as { prompt?: string }).prompt)
        .filter((prompt) => prompt?.startsWith('capped shot'));
    const run = await env.run([
      'batch',
      'run',
      plan.plan,
      '--max-cost',
      '0.5',
      '--concurrency',
      '1',
      '--manifest',
      'capped.jsonl',
      '--json',
    ]);
    // Not every row completed: the command's exit status for an unfinished batch.
    expect(run.code, run.stderr).toBe(6);
    expect(JSON.parse(run.stdout)).toMatchObject({
      submitted: 3,
      spentUsd: 0.45,
      counts: { completed: 3, 'over-budget': 3 },
    });
    expect(prompts()).toEqual(['capped shot 0', 'capped shot 1', 'capped shot 2']);
    const manifest = (await readFile(join(env.dir, 'capped.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { row: number; status: string; costUsd?: number });
    expect(manifest.sort((a, b) => a.row - b.row).map((line) => line.status)).toEqual([
      'completed',
      'completed',
      'completed',
      'over-budget',
      'over-budget',
      'over-budget',
    ]);
    expect(manifest.filter((line) => line.costUsd === 0.15)).toHaveLength(3);

    // A higher cap later: only the rows held back are submitted.
    const rest = await env.run(['batch', 'run', plan.plan, '--max-cost', '1', '--json']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(JSON.parse(rest.stdout)).toMatchObject({ submitted: 3, counts: { completed: 6 } });
    expect(prompts()).toHaveLength(6);
    expect(new Set(prompts()).size).toBe(6);
  });

  it("the config's daily budget applies to every row's submit", async () => {
    const own = { XDG_CONFIG_HOME: join(env.dir, 'budget-config') };
    const set = await env.run(['config', 'set', 'budget.daily', '0.30'], { env: own });
    expect(set.code, set.stderr).toBe(0);
    const rows = Array.from({ length: 4 }, (_, i) => JSON.stringify({ prompt: `daily ${i}` }));
    await writeFile(join(env.dir, 'daily.jsonl'), `${rows.join('\n')}\n`);
    const before = submits();
    const run = await env.run(
      [
        'batch',
        'run',
        'daily.jsonl',
        '--model',
        'fal-ai/nano-banana-pro',
        '--concurrency',
        '1',
        '--manifest',
        'daily-manifest.jsonl',
        '--json',
      ],
      { env: { ...own, FALAI_STORE: `file:${join(env.dir, 'daily-store.json')}` } },
    );
    expect(run.code, run.stderr).toBe(6);
    expect(submits() - before).toBe(2);
    const manifest = (await readFile(join(env.dir, 'daily-manifest.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: string; error?: { message: string } });
    const over = manifest.filter((line) => line.status === 'over-budget');
    expect(over).toHaveLength(2);
    expect(over.map((line) => line.error?.message).join('\n')).toContain('budget.daily');
  });
});
