import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchIntentRef,
  batchRowTags,
  lostSubmitResolver,
  parseBatchRows,
  planBatch,
  runBatch,
  verifyPlan,
} from '../../src/batch/index.js';
import { costEstimatorFor } from '../../src/cost/index.js';
import { createIntentJournal, inputHash } from '../../src/lifecycle/intents.js';
import { createModelRegistry } from '../../src/models/index.js';
import { createPlatformClient } from '../../src/platform/client.js';
import type { FalClient } from '../../src/queue/index.js';
import { createMemoryStore, dailyBudgetScope, newPendingRecord } from '../../src/store/index.js';
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
/** The prompts of the emulator's jobs that start with `prefix`: what fal was sent. */
const promptsSent = (prefix: string) =>
  emulator
    .jobs()
    .map((job) => (job.input as { prompt: string }).prompt)
    .filter((prompt) => prompt.startsWith(prefix));
/** fal's Platform API at the emulator. */
const platformOf = (server: Emulator) =>
  createPlatformClient({ credentials: GOOD_KEY, apiUrl: `${server.url}/v1` });

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

  it('stops submitting when the next row would pass --max-cost, priced by core estimator', async () => {
    const store = createMemoryStore();
    const rows = await parseBatchRows(
      Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `capped ${i}` })).join('\n'),
      'jsonl',
    );
    const estimator = estimatorFor(emulator);
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry, estimator });
    // The emulator's price list: $0.15 per image, one image per row by default.
    expect(plan.cost).toMatchObject({ usd: 0.9, estimatedRows: 6 });
    expect(plan.cost.basis).toContain('$0.15/images');
    const before = submits();
    const manifestPath = join(dir, 'capped.jsonl');
    const summary = await runBatch({
      plan,
      store,
      client,
      registry,
      concurrency: 1,
      maxCostUsd: 0.5,
      estimator,
      manifestPath,
    });
    expect(summary.submitted).toBe(3);
    expect(summary.counts).toMatchObject({ completed: 3, 'over-budget': 3 });
    expect(submits() - before).toBe(3);
    // Settled at finalise with the actual cost (billable units × unit price), nothing held.
    expect(summary.spentUsd).toBeCloseTo(0.45);
    expect(await store.budget?.usage(`batch:${plan.hash}`)).toEqual({
      spentUsd: 0.45,
      reservedUsd: 0,
    });
    const lines = (await readFile(manifestPath, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const over = lines.filter((line) => line.status === 'over-budget');
    expect(over.map((line) => line.row).sort()).toEqual([4, 5, 6]);
    expect(over[0].error.message).toContain('batch cap of $0.50');
    expect(lines.filter((line) => line.status === 'completed').map((l) => l.costUsd)).toEqual([
      0.15, 0.15, 0.15,
    ]);

    // A re-run with a higher cap submits only the rows the cap held back.
    const again = await runBatch({ plan, store, client, registry, maxCostUsd: 1, estimator });
    expect(again.submitted).toBe(3);
    expect(again.counts.completed).toBe(6);
    expect(submits() - before).toBe(6);
  });

  it("reserves every row's estimate in the config's budget caps, as a single submit does", async () => {
    const store = createMemoryStore();
    const rows = await parseBatchRows(
      Array.from({ length: 4 }, (_, i) => JSON.stringify({ prompt: `daily ${i}` })).join('\n'),
      'jsonl',
    );
    const estimator = estimatorFor(emulator);
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry, estimator });
    const daily = { ...dailyBudgetScope(), capUsd: 0.3, setting: 'budget.daily' };
    const before = submits();
    const summary = await runBatch({
      plan,
      store,
      client,
      registry,
      concurrency: 1,
      estimator,
      budgets: [daily],
    });
    expect(summary.submitted).toBe(2);
    expect(summary.counts).toMatchObject({ completed: 2, 'over-budget': 2 });
    expect(submits() - before).toBe(2);
    const refused = summary.entries.find((entry) => entry.error?.code === 'BUDGET_EXCEEDED');
    expect(refused?.error?.message).toContain('budget.daily');
    expect(await store.budget?.usage(daily.scope)).toEqual({ spentUsd: 0.3, reservedUsd: 0 });
  });

  it('reads no record back per row: the finalised record comes with the output', async () => {
    const store = createMemoryStore();
    const calls: Record<string, number> = {};
    const counted = new Proxy(store, {
      get(target, name) {
        const value = Reflect.get(target, name);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls[String(name)] = (calls[String(name)] ?? 0) + 1;
          return value.apply(target, args);
        };
      },
    });
    const rows = await parseBatchRows(
      Array.from({ length: 5 }, (_, i) => JSON.stringify({ prompt: `reads ${i}` })).join('\n'),
      'jsonl',
    );
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    const summary = await runBatch({ plan, store: counted, client, registry, concurrency: 2 });
    expect(summary.counts.completed).toBe(5);
    expect(calls.put).toBe(5);
    expect(calls.get ?? 0).toBe(0);
  });

  it('accounts for a row whose claim the store cannot write: unknown, with the error, never dropped', async () => {
    const store = createMemoryStore();
    let failed = false;
    const ledger = store.budget;
    if (!ledger) throw new Error('the memory store has a budget ledger');
    const failingLedger = new Proxy(ledger, {
      get(target, name) {
        const value = Reflect.get(target, name);
        if (name !== 'reserve' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (!failed) {
            failed = true;
            return Promise.reject(new Error('disk full'));
          }
          return value.apply(target, args);
        };
      },
    });
    const failing = new Proxy(store, {
      get: (target, name) => (name === 'budget' ? failingLedger : Reflect.get(target, name)),
    });
    const rows = await parseBatchRows(
      Array.from({ length: 3 }, (_, i) => JSON.stringify({ prompt: `store fails ${i}` })).join(
        '\n',
      ),
      'jsonl',
    );
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    const summary = await runBatch({ plan, store: failing, client, registry, concurrency: 1 });
    expect(summary.entries).toHaveLength(3);
    expect(summary.counts).toMatchObject({ completed: 2, unknown: 1 });
    const unknown = summary.entries.find((entry) => entry.status === 'unknown');
    expect(unknown?.row).toBe(1);
    expect(unknown?.error?.message).toContain('disk full');
  });

  it('starts no row once Ctrl-C arrives, even while a slow submit holds the signal back', async () => {
    const store = createMemoryStore();
    const rows = await parseBatchRows(
      Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `held ${i}` })).join('\n'),
      'jsonl',
    );
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    const before = submits();
    // The first row's POST takes 1.5 s: its submit holds Ctrl-C back until it is recorded,
    // while the second slot goes on finishing rows.
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'delay', ms: 1500 }, times: 1 });
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    let finished = 0;
    let atSignal = -1;
    try {
      const run = runBatch({
        plan,
        store,
        client,
        registry,
        concurrency: 2,
        signal: controller.signal,
        onProgress: (event) => {
          if (event.type !== 'row') return;
          finished += 1;
          if (finished === 3) {
            atSignal = submits();
            process.kill(process.pid, 'SIGINT');
          }
        },
      });
      const summary = await run;
      expect(atSignal).toBeGreaterThan(before);
      // At most the row the free slot was submitting when the signal came.
      expect(submits() - atSignal).toBeLessThanOrEqual(1);
      expect(summary.counts['not-submitted']).toBeGreaterThanOrEqual(40 - (atSignal - before) - 1);
      // The program's own handler hears it once the held submit is recorded (raised again at
      // this process when no submit holds it any more: delivered a moment later).
      for (let waited = 0; !controller.signal.aborted && waited < 5000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(controller.signal.aborted).toBe(true);
    } finally {
      process.removeListener('SIGINT', stop);
    }
    // Resumed: every row ends completed, none sent twice (the held row was recorded).
    const again = await runBatch({ plan, store, client, registry, concurrency: 4 });
    expect(again.counts.completed).toBe(40);
    const prompts = promptsSent('held ');
    expect(prompts).toHaveLength(40);
    expect(new Set(prompts).size).toBe(40);
  });

  it("finds a submit whose answer was lost in fal's history, and sends again one fal never got", async () => {
    const store = createMemoryStore();
    const journal = createIntentJournal(join(dir, 'intents-lost'));
    const platform = platformOf(emulator);
    const rows = await parseBatchRows(
      Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `lost ${i}` })).join('\n'),
      'jsonl',
    );
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    // One POST fal takes and whose answer never arrives, one dropped before fal got it.
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'drop-after-accept' }, times: 1 });
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'drop' }, times: 1 });
    const summary = await runBatch({
      plan,
      store,
      client,
      registry,
      concurrency: 1,
      intents: journal,
      platform,
      lostSubmitGraceMs: 300,
    });
    expect(summary.counts).toMatchObject({ completed: 6, unknown: 0 });
    const sent = promptsSent('lost ');
    expect(sent.sort()).toEqual(rows.map((_, i) => `lost ${i}`).sort());
    // Every note is resolved: nothing left for `falai recover`.
    expect(await journal.list()).toEqual([]);
  });

  it('a run without the Platform API leaves a lost answer unknown; the next run with it finds it', async () => {
    const store = createMemoryStore();
    const journal = createIntentJournal(join(dir, 'intents-later'));
    const rows = await parseBatchRows('{"prompt":"later 0"}\n{"prompt":"later 1"}\n', 'jsonl');
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'drop-after-accept' }, times: 1 });
    const first = await runBatch({
      plan,
      store,
      client,
      registry,
      concurrency: 1,
      intents: journal,
    });
    expect(first.counts).toMatchObject({ completed: 1, unknown: 1 });
    const notes = await journal.list();
    expect(notes).toHaveLength(1);
    const lostRow = plan.rows.find((row) => notes[0]?.ref === batchIntentRef(plan.hash, row));
    expect(lostRow).toBeDefined();
    const before = submits();
    const platform = platformOf(emulator);
    const second = await runBatch({
      plan,
      store,
      client,
      registry,
      intents: journal,
      platform,
      lostSubmitGraceMs: 300,
    });
    expect(second.counts).toMatchObject({ completed: 2, unknown: 0 });
    expect(submits()).toBe(before);
    expect(await journal.list()).toEqual([]);
  });

  it('a submit fal refuses ends failed and unclaimed: the next run sends it (a 500 is tried again at once)', async () => {
    const store = createMemoryStore();
    const rows = await parseBatchRows('{"prompt":"refused"}\n{"prompt":"flaky"}\n', 'jsonl');
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    // The first POST: a refusal (the key's permissions), the second: a 500 from fal's side.
    emulator.inject({
      match: { kind: 'submit' },
      action: { type: 'status', status: 403, body: { detail: 'Forbidden' } },
      times: 1,
    });
    emulator.inject({
      match: { kind: 'submit' },
      action: { type: 'status', status: 500 },
      times: 1,
    });
    const first = await runBatch({ plan, store, client, registry, concurrency: 1 });
    expect(first.counts).toMatchObject({ completed: 1, failed: 1, unknown: 0 });
    const refused = first.entries.find((entry) => entry.status === 'failed');
    expect(refused?.row).toBe(1);
    expect(refused?.error?.message).toMatch(/403|denied|forbidden/i);
    const second = await runBatch({ plan, store, client, registry });
    expect(second.counts).toMatchObject({ completed: 2, failed: 0, unknown: 0 });
    expect(second.submitted).toBe(1);
    const sent = [...promptsSent('refused'), ...promptsSent('flaky')];
    expect(sent.sort()).toEqual(['flaky', 'refused']);
  });

  it('the lost-submit resolver looks at the store again once the note is gone (a slow claimant recorded it)', async () => {
    const store = createMemoryStore();
    const rows = await parseBatchRows('{"prompt":"slow claimant"}\n', 'jsonl');
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    const row = plan.rows[0] as (typeof plan.rows)[number];
    const journal = createIntentJournal(join(dir, 'intents-slow'));
    const resolver = (unnoted: 'not-sent' | 'unknown') =>
      lostSubmitResolver({ plan, store, journal: () => journal, unnoted, graceMs: 0 });
    // No note, no record: what `unnoted` says.
    expect(await resolver('not-sent')(row, 0)).toEqual({ kind: 'not-sent' });
    expect((await resolver('unknown')(row, 0)).kind).toBe('unknown');
    // Recorded (and its note removed) by the claimant: found, whatever `unnoted` says.
    const record = { ...newPendingRecord({ requestId: 'req-slow', endpointId: ENDPOINT }) };
    await store.put({ ...record, tags: batchRowTags(plan.hash, row) });
    const found = await resolver('not-sent')(row, 0);
    expect(found).toMatchObject({ kind: 'found', record: { requestId: 'req-slow' } });
    // A request fal still runs is never sent again, whichever attempt asks.
    expect(await resolver('not-sent')(row, 3)).toMatchObject({ kind: 'found' });
    // A later attempt is not answered by an earlier attempt's failure worth retrying.
    await store.update('req-slow', {
      status: 'failed',
      error: { code: 'API_ERROR', message: 'fal failed' },
    });
    expect(await resolver('not-sent')(row, 1)).toEqual({ kind: 'not-sent' });
    // fal's history longer than one search reads: unknown at once, not asked again for ever.
    await client.submit(ENDPOINT, { prompt: 'history filler 1' });
    await client.submit(ENDPOINT, { prompt: 'history filler 2' });
    const note = await journal.record({
      endpointId: ENDPOINT,
      inputHash: inputHash(row.input),
      at: new Date().toISOString(),
      store: store.location,
      reservations: [],
    });
    const truncated = await lostSubmitResolver({
      plan,
      store,
      journal: () => journal,
      platform: platformOf(emulator),
      unnoted: 'not-sent',
      graceMs: 0,
      maxScanned: 1,
    })(row, 1);
    expect(truncated).toMatchObject({
      kind: 'unknown',
      reason: expect.stringContaining('history'),
    });
    await journal.resolve(note.id);
    // A note and no Platform API: unknown, never not-sent.
    await journal.record({
      endpointId: ENDPOINT,
      inputHash: inputHash(row.input),
      at: new Date().toISOString(),
      store: store.location,
      reservations: [],
    });
    expect((await resolver('not-sent')(row, 1)).kind).toBe('unknown');
  });

  it('refuses maxCostUsd without an estimator, before anything is sent', async () => {
    const rows = await parseBatchRows('{"prompt":"no price"}\n', 'jsonl');
    const plan = await planBatch({ endpointId: ENDPOINT, rows, registry });
    const before = submits();
    await expect(
      runBatch({ plan, store: createMemoryStore(), client, registry, maxCostUsd: 1 }),
    ).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(submits()).toBe(before);
  });
});

/** Core's estimator against the emulator's Platform API (its price list). */
function estimatorFor(server: Emulator) {
  return costEstimatorFor({ apiUrl: `${server.url}/v1` }, { credentials: GOOD_KEY });
}
