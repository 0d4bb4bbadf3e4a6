import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '@falai/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCostEstimator } from '../../src/cost/estimator.js';
import { applyBillingEvents, type BudgetCap, readCostTags } from '../../src/cost/index.js';
import {
  createIntentJournal,
  recordOutcome,
  recoverRequests,
  type SubmitCostOptions,
  submitAndRecord,
  waitAndFinalise,
} from '../../src/lifecycle/index.js';
import { createModelRegistry } from '../../src/models/index.js';
import { createMemoryStore, dailyBudgetScope, type PendingStore } from '../../src/store/index.js';
import { ADMIN_KEY, platformFor, queueFor, startPlatformEmulator } from '../platform/harness.js';

/**
 * Money through the lifecycle, against the emulator over HTTP: the actual cost recorded at
 * finalise is the emulator's billable units × unit price (as its own billing events say); a
 * budget reserves before the POST and settles after; `maxCostUsd` and a full budget refuse with
 * nothing sent; a submit whose answer was lost keeps its note and its reservation until
 * `recoverRequests` finds it at fal.
 */
let emulator: Emulator;
let dir: string;
const registry = createModelRegistry();

beforeAll(async () => {
  emulator = await startPlatformEmulator();
  dir = await mkdtemp(join(tmpdir(), 'falai-lifecycle-cost-'));
});
afterEach(() => emulator.clearFaults());
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

const estimator = () =>
  createCostEstimator({ apiUrl: `${emulator.url}/v1`, platform: platformFor(emulator) });

function capOf(usd: number): BudgetCap {
  return { ...dailyBudgetScope(), capUsd: usd, setting: 'budget.daily' };
}

async function submitThrough(
  store: PendingStore,
  endpointId: string,
  input: Record<string, unknown>,
  cost: SubmitCostOptions = { estimator: estimator() },
  extra: { intents?: ReturnType<typeof createIntentJournal> } = {},
) {
  return submitAndRecord({
    endpointId,
    input,
    registry,
    client: queueFor(emulator),
    store,
    // Catalogue-only endpoints: the registry has no definition; the emulator knows them.
    validate: false,
    cost,
    ...extra,
    signals: { replay: false, onInterrupt: () => undefined },
  });
}

async function runThrough(
  store: PendingStore,
  endpointId: string,
  input: Record<string, unknown>,
  cost?: SubmitCostOptions,
) {
  const { record } = await submitThrough(store, endpointId, input, cost);
  const done = await waitAndFinalise({
    client: queueFor(emulator),
    store,
    endpointId,
    requestId: record.requestId,
    record,
  });
  return done.record ?? (await store.get(record.requestId));
}

/** The emulator's billing event of a request, read with an ADMIN key. */
async function billed(requestId: string) {
  const admin = platformFor(emulator, { credentials: ADMIN_KEY });
  const page = await admin.listBillingEvents({ requestIds: [requestId] });
  const event = page.items[0];
  if (!event || event.outputUnits === null || event.unitPrice === null)
    throw new Error(`no billing event for ${requestId}`);
  return event;
}

const submits = () => emulator.log.filter((entry) => entry.kind === 'submit');

describe('the actual cost of each request', () => {
  it.each([
    ['fal-ai/nano-banana-pro', { prompt: 'two cats', num_images: 2 }],
    ['fal-ai/flux/dev', { prompt: 'a bridge', image_size: 'landscape_16_9' }],
    ['fal-ai/kling-video/v2.1/master/text-to-video', { prompt: 'waves', duration: '5' }],
    ['fal-ai/bytedance/seedance/v1/pro/text-to-video', { prompt: 'a dancer' }],
  ])('%s: billable units × unit price, as the emulator billed it', async (endpointId, input) => {
    const store = createMemoryStore();
    const record = await runThrough(store, endpointId, input);
    if (!record) throw new Error('no record');
    const event = await billed(record.requestId);
    const units = event.outputUnits as number;
    const unitPrice = event.unitPrice as number;
    expect(record.status).toBe('completed');
    expect(record.provenance?.cost?.amount).toBeCloseTo(units * unitPrice, 9);
    expect(record.provenance?.cost?.amount).toBeCloseTo(event.costTotal as number, 9);
    expect(record.provenance?.cost?.currency).toBe('USD');
    expect(record.tags?.costSettled).toBe('units');
    // The estimate made before the submit is kept beside it.
    expect(readCostTags(record).estimateUsd).toBeGreaterThan(0);
  });
});

describe('budgets and the max cost', () => {
  it('reserves the estimate before the POST and settles it with the actual cost', async () => {
    const store = createMemoryStore();
    const cap = capOf(1);
    const { record, reservations } = await submitThrough(
      store,
      'fal-ai/nano-banana-pro',
      { prompt: 'x', num_images: 2 },
      { estimator: estimator(), budgets: [cap] },
    );
    expect(reservations).toHaveLength(1);
    expect(await store.budget?.usage(cap.scope)).toEqual({ spentUsd: 0, reservedUsd: 0.3 });
    expect(readCostTags(record).reservations).toEqual(reservations);
    await waitAndFinalise({
      client: queueFor(emulator),
      store,
      endpointId: record.endpointId,
      requestId: record.requestId,
      record,
    });
    expect(await store.budget?.usage(cap.scope)).toEqual({ spentUsd: 0.3, reservedUsd: 0 });
  });

  it('refuses what would pass the budget, with nothing sent and nothing held', async () => {
    const store = createMemoryStore();
    const cap = capOf(0.5);
    await runThrough(
      store,
      'fal-ai/nano-banana-pro',
      { prompt: 'x', num_images: 2 },
      {
        estimator: estimator(),
        budgets: [cap],
      },
    );
    const before = submits().length;
    const refused = submitThrough(
      store,
      'fal-ai/nano-banana-pro',
      { prompt: 'y', num_images: 2 },
      { estimator: estimator(), budgets: [cap] },
    );
    await expect(refused).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringContaining('$0.20 left today'),
      details: { estimateUsd: 0.3, capUsd: 0.5, spentUsd: 0.3, remainingUsd: 0.2 },
    });
    expect(submits()).toHaveLength(before);
    expect(await store.budget?.usage(cap.scope)).toEqual({ spentUsd: 0.3, reservedUsd: 0 });
  });

  it('refuses above maxCostUsd, and without an estimate when a cap is set', async () => {
    const store = createMemoryStore();
    const before = submits().length;
    await expect(
      submitThrough(
        store,
        'fal-ai/nano-banana-pro',
        { prompt: 'x' },
        {
          estimator: estimator(),
          maxCostUsd: 0.1,
          maxCostLabel: '--max-cost',
        },
      ),
    ).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringMatching(/estimated at 1 image .* \$0\.15, above --max-cost \$0\.10/),
    });
    const offline = createCostEstimator({
      apiUrl: 'http://127.0.0.1:9/v1',
      platform: platformFor(emulator, {
        apiUrl: 'http://127.0.0.1:9/v1',
        retry: { maxRetries: 0 },
      }),
    });
    await expect(
      submitThrough(
        store,
        'fal-ai/nano-banana-pro',
        { prompt: 'x' },
        {
          estimator: offline,
          budgets: [capOf(5)],
        },
      ),
    ).rejects.toMatchObject({
      code: 'COST_UNKNOWN',
      message: expect.stringMatching(
        /daily budget of \$5\.00 .* cannot estimate .*\(falai config unset budget\.daily\)/,
      ),
    });
    expect(submits()).toHaveLength(before);
    expect(await store.list()).toEqual([]);
  });

  it('releases the reservation of a submit fal refused', async () => {
    const store = createMemoryStore();
    const cap = capOf(1);
    const intents = createIntentJournal(join(dir, 'refused-intents'));
    emulator.inject({
      match: { kind: 'submit' },
      action: { type: 'status', status: 400, body: { detail: 'bad request' } },
      times: 1,
    });
    await expect(
      submitThrough(
        store,
        'fal-ai/nano-banana-pro',
        { prompt: 'x' },
        { estimator: estimator(), budgets: [cap] },
        { intents },
      ),
    ).rejects.toBeDefined();
    expect(await store.budget?.usage(cap.scope)).toEqual({ spentUsd: 0, reservedUsd: 0 });
    expect(await intents.list()).toEqual([]);
  });
});

describe('a submit whose answer never arrived', () => {
  it('keeps its note and its reservation; recover finds it at fal and the wait settles it', async () => {
    const store = createMemoryStore();
    const cap = capOf(2);
    const intents = createIntentJournal(join(dir, 'lost-intents'));
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'drop-after-accept' }, times: 1 });
    const before = submits().length;
    await expect(
      submitThrough(
        store,
        'fal-ai/nano-banana-pro',
        { prompt: 'a lost lighthouse', num_images: 2 },
        { estimator: estimator(), budgets: [cap] },
        { intents },
      ),
    ).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      message: expect.stringContaining('falai recover --endpoint fal-ai/nano-banana-pro'),
      details: { outcome: 'unknown' },
    });
    // fal accepted it; the store has nothing; the note and the hold remain.
    expect(submits()).toHaveLength(before + 1);
    expect(await store.list()).toEqual([]);
    const noted = await intents.list();
    expect(noted).toHaveLength(1);
    expect(noted[0]?.estimateUsd).toBe(0.3);
    expect(await store.budget?.usage(cap.scope)).toEqual({ spentUsd: 0, reservedUsd: 0.3 });

    const summary = await recoverRequests({
      store,
      platform: platformFor(emulator),
      intents,
      endpointIds: ['fal-ai/nano-banana-pro'],
      since: new Date(Date.now() - 60 * 60 * 1000),
    });
    const lost = summary.adopted.filter((item) => item.matchedIntent);
    expect(lost).toHaveLength(1);
    const requestId = lost[0]?.requestId as string;
    expect(requestId).toBe(submits().at(-1)?.requestId);
    expect(summary.intents).toEqual([expect.objectContaining({ outcome: 'found', requestId })]);
    expect(await intents.list()).toEqual([]);
    const record = await store.get(requestId);
    expect(record?.tags?.source).toBe('recovered');
    expect(record?.tags?.recoveredFrom).toBe('lost-submit');
    expect(record?.input?.fields.prompt).toBe('a lost lighthouse');

    // Waiting on the adopted record records the outcome, its cost, and settles the hold.
    await waitAndFinalise({
      client: queueFor(emulator),
      store,
      endpointId: 'fal-ai/nano-banana-pro',
      requestId,
      ...(record ? { record } : {}),
    });
    const event = await billed(requestId);
    const after = await store.get(requestId);
    expect(after?.provenance?.cost?.amount).toBeCloseTo(event.costTotal as number, 9);
    expect(await store.budget?.usage(cap.scope)).toEqual({
      spentUsd: after?.provenance?.cost?.amount,
      reservedUsd: 0,
    });
  });

  it('a note fal never received is released once its window has passed', async () => {
    const store = createMemoryStore();
    const cap = capOf(1);
    const ledger = store.budget;
    if (!ledger) throw new Error('the memory store has a ledger');
    const held = await ledger.reserve({
      scope: cap.scope,
      window: cap.window,
      amountUsd: 0.4,
      capUsd: 1,
      requestKey: 'never-sent',
    });
    if (!held.ok) throw new Error('reserve failed');
    const intents = createIntentJournal(join(dir, 'never-sent'));
    await intents.record({
      endpointId: 'fal-ai/nano-banana-pro',
      inputHash: `sha256:${'0'.repeat(64)}`,
      at: new Date(Date.now() - 30 * 60 * 1000).toISOString(),
      store: store.location,
      reservations: [held.reservationId],
    });
    const summary = await recoverRequests({
      store,
      platform: platformFor(emulator),
      intents,
      endpointIds: ['fal-ai/nano-banana-pro'],
      since: new Date(Date.now() - 60 * 60 * 1000),
      dryRun: false,
    });
    expect(summary.intents).toEqual([expect.objectContaining({ outcome: 'not-sent' })]);
    expect(await ledger.usage(cap.scope)).toEqual({ spentUsd: 0, reservedUsd: 0 });
    expect(await readdir(intents.dir)).toEqual([]);
  });
});

describe('a request finalised without billable units (a webhook delivery)', () => {
  it('settles at its estimate, then fal’s billing events (ADMIN key) fill in the actual cost', async () => {
    const store = createMemoryStore();
    const cap = capOf(5);
    const { record } = await submitThrough(
      store,
      'fal-ai/nano-banana-pro',
      { prompt: 'by webhook', num_images: 2 },
      { estimator: estimator(), budgets: [cap] },
    );
    // What a webhook delivery carries: the outcome without x-fal-billable-units.
    const { billableUnits: _, ...delivered } = (await queueFor(emulator).wait(
      record.endpointId,
      record.requestId,
    )) as Extract<Awaited<ReturnType<ReturnType<typeof queueFor>['wait']>>, { state: 'completed' }>;
    await recordOutcome(store, record.requestId, delivered);
    const settled = await store.get(record.requestId);
    expect(settled?.status).toBe('completed');
    expect(settled?.provenance?.cost).toBeUndefined();
    expect(settled?.tags?.costSettled).toBe('estimate');
    expect(await store.budget?.usage(cap.scope)).toEqual({ spentUsd: 0.3, reservedUsd: 0 });

    // An API key may not read billing events: said, nothing changed.
    await expect(
      applyBillingEvents({ store, platform: platformFor(emulator), records: await store.list() }),
    ).rejects.toMatchObject({ code: 'AUTH_REJECTED', details: { adminRequired: true } });

    const filled = await applyBillingEvents({
      store,
      platform: platformFor(emulator, { credentials: ADMIN_KEY }),
      records: await store.list(),
    });
    expect(filled).toEqual({ checked: 1, updated: 1 });
    const event = await billed(record.requestId);
    const after = await store.get(record.requestId);
    expect(after?.provenance?.cost).toEqual({ amount: event.costTotal, currency: 'USD' });
    expect(after?.tags?.costSettled).toBe('billing');
    expect(await store.budget?.usage(cap.scope)).toEqual({
      spentUsd: event.costTotal,
      reservedUsd: 0,
    });
  });
});
