import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBatchRows, planBatch, runBatch, verifyPlan } from '../../src/batch/index.js';
import { createModelRegistry } from '../../src/models/index.js';
import type { FalClient } from '../../src/queue/index.js';
import { createMemoryStore } from '../../src/store/index.js';
import { clientFor, GOOD_KEY } from '../queue/emulator-harness.js';

const ENDPOINT = 'fal-ai/nano-banana-pro';
let emulator: Emulator;
let client: FalClient;
let dir: string;
const registry = createModelRegistry();

beforeAll(async () => {
  emulator = await startEmulator({
    port: 0,
    strict: true,
    concurrency: 4,
    defaultLatency: { queueMs: 2, runMs: 10 },
    keys: { accept: [GOOD_KEY] },
  });
  client = clientFor(emulator);
  dir = await mkdtemp(join(tmpdir(), 'falai-batch-'));
});

afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

const submits = () => emulator.log.filter((entry) => entry.kind === 'submit').length;

describe('planBatch', () => {
  it('types CSV values through a template and reports every bad row with its field', async () => {
    const rows = await parseBatchRows('id,prompt,n\na,a red fox,1\nb,,2\nc,a cat,lots\n', 'csv');
    const plan = await planBatch({
      endpointId: ENDPOINT,
      rows,
      registry,
      template: { prompt: '{{prompt}}', num_images: '{{n}}' },
    });
    expect(plan.rows[0]?.input).toEqual({ prompt: 'a red fox', num_images: 1 });
    expect(plan.rows[0]?.id).toBe('a');
    const fields = plan.issues.map((issue) => `${issue.row}:${issue.field}`);
    expect(fields).toContain('3:num_images');
    expect(plan.issues.some((issue) => issue.row === 2)).toBe(true);
    expect(plan.issues.some((issue) => issue.row === 1)).toBe(false);
    expect(() => verifyPlan(plan)).toThrow(/invalid row/);
  });

  it('hashes the content: a changed row fails verification', async () => {
    const rows = await parseBatchRows('{"prompt":"one"}\n{"prompt":"two"}\n', 'jsonl');
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    expect(plan.issues).toEqual([]);
    expect(plan.cost.usd).toBeNull();
    verifyPlan(plan);
    const tampered = { ...plan, rows: [plan.rows[0], { ...plan.rows[1], input: { prompt: 'x' } }] };
    expect(() => verifyPlan(tampered as typeof plan)).toThrow(/changed after it was made/);
  });
});

describe('runBatch', () => {
  it('runs a CSV batch with outputs and a manifest, and a re-run submits nothing', async () => {
    const store = createMemoryStore();
    const rows = await parseBatchRows(
      `id,prompt\n${Array.from({ length: 12 }, (_, i) => `r${i},prompt ${i}`).join('\n')}\n`,
      'csv',
    );
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    const out = join(dir, 'out');
    const manifestPath = join(dir, 'manifest.jsonl');
    const before = submits();
    const events: string[] = [];
    const first = await runBatch({
      plan,
      store,
      client,
      registry,
      concurrency: 3,
      outDir: out,
      name: '{row.id}-{index}.{ext}',
      manifestPath,
      onProgress: (event) => events.push(event.type),
    });
    expect(first.counts.completed).toBe(12);
    expect(first.submitted).toBe(12);
    expect(submits() - before).toBe(12);
    const lines = (await readFile(manifestPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(12);
    expect(new Set(lines.map((l) => l.row))).toEqual(new Set(rows.map((r) => r.row)));
    expect(
      lines.every((l) => l.status === 'completed' && l.requestId && l.outputs.length > 0),
    ).toBe(true);
    const files = await readdir(out);
    expect(files).toContain('r0-0.png');
    expect(events.at(-1)).toBe('end');

    const again = await runBatch({ plan, store, client, registry, outDir: out, manifestPath });
    expect(again.submitted).toBe(0);
    expect(again.counts.completed).toBe(12);
    expect(submits() - before).toBe(12);
  });

  it('stops submitting when the next row would pass --max-cost', async () => {
    const store = createMemoryStore();
    const rows = await parseBatchRows(
      Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `capped ${i}` })).join('\n'),
      'jsonl',
    );
    const estimate = async () => ({ usd: 0.15 });
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry, estimate });
    expect(plan.cost.usd).toBeCloseTo(0.9);
    const before = submits();
    const summary = await runBatch({
      plan,
      store,
      client,
      registry,
      concurrency: 1,
      maxCostUsd: 0.5,
      estimate,
    });
    expect(summary.submitted).toBe(3);
    expect(summary.counts['over-budget']).toBe(3);
    expect(submits() - before).toBe(3);
    const usage = await store.budget?.usage(`batch:${plan.hash}`);
    expect((usage?.spentUsd ?? 0) + (usage?.reservedUsd ?? 0)).toBeLessThanOrEqual(0.5);
  });
});
