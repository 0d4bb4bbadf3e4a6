import { join } from 'node:path';
import {
  BalanceOutputSchema,
  createPlatformClient,
  ErrorOutputSchema,
  ListOutputSchema,
  RecoverOutputSchema,
  RunOutputSchema,
  SubmitOutputSchema,
  UsageOutputSchema,
  WaitOutputSchema,
} from '@falai/core';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestEnv, FAL_KEY, type TestEnv } from './helpers.js';

/**
 * Money in the CLI, built CLI against the emulator over HTTP: the estimate before every paid
 * submit, `--max-cost` and config budgets refusing with nothing sent (exit 4), the actual cost
 * recorded and summed by `usage`, `balance` with ADMIN and API keys, and `recover` adopting a
 * request whose submitting process was SIGKILLed right after the POST.
 */
const ADMIN_KEY = 'cli-admin-id:cli-admin-secret-9d2f41';
const ENDPOINT = 'fal-ai/nano-banana-pro';

let env: TestEnv;
let configSeq = 0;
beforeAll(async () => {
  env = await createTestEnv({
    emulator: { concurrency: Number.POSITIVE_INFINITY, platform: { adminKeys: [ADMIN_KEY] } },
  });
});
afterAll(async () => {
  await env.close();
});
beforeEach(() => {
  emulator().clearLog();
});

const emulator = () => env.emulator as Emulator;
const sent = () =>
  emulator().log.filter((entry) => entry.kind === 'submit' || entry.kind.startsWith('upload'));

/** A fresh config file and store for one test (budgets and spend never leak between tests). */
function isolated(name: string): Record<string, string> {
  configSeq += 1;
  return {
    FALAI_CONFIG: join(env.dir, `config-${name}-${configSeq}.json`),
    FALAI_STORE: `file:${join(env.dir, `store-${name}-${configSeq}.json`)}`,
  };
}

/** What the emulator billed for a request, read with an ADMIN key. */
async function billedUsd(requestIds: readonly string[]): Promise<number> {
  const admin = createPlatformClient({ credentials: ADMIN_KEY, baseUrl: emulator().url });
  const page = await admin.listBillingEvents({ requestIds: [...requestIds] });
  expect(page.items.map((event) => event.requestId).sort()).toEqual([...requestIds].sort());
  return page.items.reduce(
    (sum, event) => sum + (event.outputUnits ?? 0) * (event.unitPrice ?? 0),
    0,
  );
}

describe('the estimate before a paid submit', () => {
  it('is a note on stderr, and estimate { usd, basis, assumptions } under --json', async () => {
    const own = isolated('estimate');
    const human = await env.run(
      ['submit', ENDPOINT, '--set', 'prompt=a fox', '--set', 'num_images=2'],
      {
        env: own,
      },
    );
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toContain('Estimated cost: 2 images (num_images 2) × $0.15/image = $0.30');
    const json = await env.run(['submit', ENDPOINT, '--set', 'prompt=a fox', '--json'], {
      env: own,
    });
    expect(json.code, json.stderr).toBe(0);
    const out = json.json(SubmitOutputSchema);
    expect(out.estimate).toEqual({
      usd: 0.15,
      currency: 'USD',
      basis: '1 image (num_images 1, the model default) × $0.15/image = $0.15',
      assumptions: [],
      method: 'input',
      units: 1,
      unit: 'images',
      unitPrice: 0.15,
    });
    expect(json.stderr).not.toContain('Estimated cost');
  });

  it('says so when it cannot be made (estimate null with the reason), and still submits', async () => {
    const own = isolated('no-estimate');
    const result = await env.run(['submit', ENDPOINT, '--set', 'prompt=x', '--json'], {
      // Prices come from the Platform API; nothing listens here, and nothing is cached.
      env: {
        ...own,
        FALAI_API_URL: 'http://127.0.0.1:9/v1',
        XDG_CACHE_HOME: join(env.dir, 'empty-cache'),
      },
    });
    expect(result.code, result.stderr).toBe(0);
    const out = result.json(SubmitOutputSchema);
    expect(out.estimate).toBeNull();
    expect(out.estimateReason).toMatch(/fal's pricing could not be asked/);
  });
});

describe('--max-cost', () => {
  it('run below the estimate refuses with exit 4 and sends nothing', async () => {
    const own = isolated('max-cost');
    const result = await env.run(
      [
        'run',
        ENDPOINT,
        '--set',
        'prompt=a fox',
        '--set',
        'num_images=3',
        '--max-cost',
        '0.40',
        '--json',
      ],
      { env: own },
    );
    expect(result.code).toBe(4);
    const { error } = result.json(ErrorOutputSchema);
    expect(error.code).toBe('BUDGET_EXCEEDED');
    expect(error.message).toContain('estimated at 3 images (num_images 3) × $0.15/image = $0.45');
    expect(error.message).toContain('above --max-cost $0.40');
    expect(sent()).toEqual([]);

    const human = await env.run(['run', ENDPOINT, '--set', 'prompt=x', '--max-cost', '$0.10'], {
      env: own,
    });
    expect(human.code).toBe(4);
    expect(human.stderr).toMatch(
      /^Error: Not sent: this request to fal-ai\/nano-banana-pro is estimated/m,
    );
    expect(sent()).toEqual([]);
  });

  it('at or above the estimate lets the request through', async () => {
    const result = await env.run(
      ['run', ENDPOINT, '--set', 'prompt=x', '--max-cost', '0.15', '--no-download', '--json'],
      { env: isolated('max-cost-ok') },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.json(RunOutputSchema).estimate?.usd).toBe(0.15);
  });

  it('refuses when no estimate can be made, saying how to proceed', async () => {
    const result = await env.run(['submit', ENDPOINT, '--set', 'prompt=x', '--max-cost', '1'], {
      env: {
        ...isolated('max-cost-unknown'),
        FALAI_API_URL: 'http://127.0.0.1:9/v1',
        XDG_CACHE_HOME: join(env.dir, 'empty-cache-2'),
      },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/--max-cost \$1\.00 is set, and falai cannot estimate/);
    expect(result.stderr).toContain(
      'To proceed, check the price with `falai pricing fal-ai/nano-banana-pro`',
    );
    expect(sent()).toEqual([]);
  });

  it('takes dollars only', async () => {
    const result = await env.run(['submit', ENDPOINT, '--set', 'prompt=x', '--max-cost', 'lots']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--max-cost takes an amount of US dollars');
  });
});

describe('a budget in the config is a hard cap', () => {
  it('refuses the submit that would pass budget.daily; usage shows where it stands', async () => {
    const own = isolated('budget');
    const set = await env.run(['config', 'set', 'budget.daily', '0.40'], { env: own });
    expect(set.code, set.stderr).toBe(0);
    expect((await env.run(['config', 'get', 'budget.daily'], { env: own })).stdout.trim()).toBe(
      '0.4',
    );

    const first = await env.run(
      ['run', ENDPOINT, '--set', 'prompt=one', '--no-download', '--json'],
      {
        env: own,
      },
    );
    expect(first.code, first.stderr).toBe(0);
    emulator().clearLog();
    const second = await env.run(
      ['run', ENDPOINT, '--set', 'prompt=two', '--set', 'num_images=2', '--json'],
      { env: own },
    );
    expect(second.code).toBe(4);
    const { error } = second.json(ErrorOutputSchema);
    expect(error.code).toBe('BUDGET_EXCEEDED');
    expect(error.message).toContain('the daily budget of $0.40 (budget.daily, config file');
    expect(error.message).toContain('$0.25 left today');
    expect(error.details).toMatchObject({ estimateUsd: 0.3, spentUsd: 0.15, remainingUsd: 0.25 });
    expect(sent()).toEqual([]);

    const usage = await env.run(['usage', '--json'], { env: own });
    expect(usage.code, usage.stderr).toBe(0);
    const out = usage.json(UsageOutputSchema);
    expect(out.budgets).toEqual([
      expect.objectContaining({
        setting: 'budget.daily',
        capUsd: 0.4,
        spentUsd: 0.15,
        reservedUsd: 0,
        remainingUsd: 0.25,
      }),
    ]);
  });
});

describe('falai rerun', () => {
  it('goes through the cost step: past budget.daily or --max-cost it refuses and sends nothing', async () => {
    const own = isolated('rerun');
    expect((await env.run(['config', 'set', 'budget.daily', '0.20'], { env: own })).code).toBe(0);
    const first = await env.run(
      ['run', ENDPOINT, '--set', 'prompt=one', '--no-download', '--json'],
      { env: own },
    );
    expect(first.code, first.stderr).toBe(0);
    const { requestId } = first.json(RunOutputSchema);
    emulator().clearLog();

    const again = await env.run(['rerun', requestId, '--max-cost', '0.10', '--json'], {
      env: own,
    });
    expect(again.code).toBe(4);
    expect(again.json(ErrorOutputSchema).error).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringContaining('above --max-cost $0.10'),
    });
    expect(sent()).toEqual([]);

    const over = await env.run(['rerun', requestId, '--json'], { env: own });
    expect(over.code).toBe(4);
    const { error } = over.json(ErrorOutputSchema);
    expect(error.code).toBe('BUDGET_EXCEEDED');
    expect(error.message).toContain('the daily budget of $0.20 (budget.daily, config file');
    expect(error.details).toMatchObject({ estimateUsd: 0.15, spentUsd: 0.15 });
    expect(sent()).toEqual([]);

    // Within the budget it submits, with the estimate shown as for submit.
    expect((await env.run(['config', 'set', 'budget.daily', '1'], { env: own })).code).toBe(0);
    const sentAgain = await env.run(['rerun', requestId, '--json'], { env: own });
    expect(sentAgain.code, sentAgain.stderr).toBe(0);
    expect(sentAgain.json(SubmitOutputSchema).estimate?.usd).toBe(0.15);
    expect(sent().filter((entry) => entry.kind === 'submit')).toHaveLength(1);
  });
});

describe('falai usage', () => {
  it('sums the actual costs recorded, which equal the emulator’s billable units × price', async () => {
    const own = isolated('usage');
    const ids: string[] = [];
    for (const images of [1, 3, 2]) {
      const run = await env.run(
        [
          'run',
          ENDPOINT,
          '--set',
          `prompt=usage ${images}`,
          '--set',
          `num_images=${images}`,
          '--no-download',
          '--json',
        ],
        { env: own },
      );
      expect(run.code, run.stderr).toBe(0);
      ids.push(run.json(RunOutputSchema).requestId);
    }
    const billed = await billedUsd(ids);
    expect(billed).toBeCloseTo(0.9, 9);

    const usage = await env.run(['usage', '--since', '1h', '--json'], { env: own });
    expect(usage.code, usage.stderr).toBe(0);
    const out = usage.json(UsageOutputSchema);
    expect(out.total.requests).toBe(3);
    expect(out.total.spentUsd).toBeCloseTo(billed, 6);
    expect(out.total.estimatedUsd).toBe(0);
    expect(out.rows).toEqual([expect.objectContaining({ key: ENDPOINT, requests: 3 })]);

    const byDay = await env.run(['usage', '--by', 'day'], { env: own });
    expect(byDay.code).toBe(0);
    expect(byDay.stdout).toMatch(
      new RegExp(`${new Date().toISOString().slice(0, 10)} +3 +\\$0\\.90`),
    );
    expect(byDay.stdout).toMatch(/total +3 +\$0\.90/);
  });
});

describe('falai balance', () => {
  it('shows the credits with an ADMIN key', async () => {
    const result = await env.run(['balance', '--json'], { env: { FAL_KEY: ADMIN_KEY } });
    expect(result.code, result.stderr).toBe(0);
    const out = result.json(BalanceOutputSchema);
    const admin = createPlatformClient({ credentials: ADMIN_KEY, baseUrl: emulator().url });
    const account = await admin.getAccountBilling({ credits: true });
    expect(out).toEqual({
      username: account.username,
      balance: account.credits?.currentBalance,
      currency: 'USD',
    });
  });

  it('with an API key says an ADMIN key is needed (exit 3)', async () => {
    const result = await env.run(['balance'], { env: { FAL_KEY } });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^Error: falai balance needs an ADMIN key/m);
    const json = await env.run(['balance', '--json']);
    expect(json.code).toBe(3);
    expect(json.json(ErrorOutputSchema).error).toMatchObject({
      code: 'AUTH_REJECTED',
      details: { adminRequired: true },
    });
  });
});

describe('falai recover', () => {
  it('adopts a request whose submitting process was SIGKILLed right after the POST', async () => {
    const own = isolated('recover');
    // The file store's test hook stops the process just before the record is written (after
    // fal accepted the request); the test then kills it for good.
    const killed = await env.run(['submit', ENDPOINT, '--set', 'prompt=a lost lighthouse'], {
      env: { ...own, FALAI_TEST_STORE_STOP: 'commit' },
      onStderr: (chunk, child) => {
        if (chunk.includes('store commit stopped')) child.kill('SIGKILL');
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    const accepted = emulator().log.filter((entry) => entry.kind === 'submit');
    expect(accepted).toHaveLength(1);
    const requestId = accepted[0]?.requestId as string;

    const before = await env.run(['list', '--all', '--json'], { env: own });
    expect(before.json(ListOutputSchema).requests).toEqual([]);

    // Sending the same input again is allowed, with a warning naming the lost one.
    const twin = await env.run(['submit', ENDPOINT, '--set', 'prompt=a lost lighthouse'], {
      env: own,
    });
    expect(twin.code, twin.stderr).toBe(0);
    expect(twin.stderr).toContain('An earlier submit of this same input to fal-ai/nano-banana-pro');
    expect(twin.stderr).toContain('falai recover --endpoint fal-ai/nano-banana-pro');

    const recovered = await env.run(['recover', '--endpoint', ENDPOINT, '--json'], { env: own });
    expect(recovered.code, recovered.stderr).toBe(0);
    const out = recovered.json(RecoverOutputSchema);
    // fal's history also holds the other tests' requests (other stores): adopted here too, but
    // only the lost one is the answer to this store's own unrecorded submit.
    expect(out.adopted.filter((item) => item.matchedIntent)).toEqual([
      expect.objectContaining({ requestId, endpointId: ENDPOINT, matchedIntent: true }),
    ]);
    expect(out.intents).toEqual([expect.objectContaining({ outcome: 'found', requestId })]);
    // The twin, recorded by its own submit, is known, not adopted.
    expect(out.adopted.map((item) => item.requestId)).not.toContain(twin.stdout.trim());

    // Recovering again adopts nothing new.
    const again = await env.run(['recover', '--endpoint', ENDPOINT, '--json'], { env: own });
    expect(again.json(RecoverOutputSchema).adopted).toEqual([]);

    // The adopted request works like any other: wait records it, with its cost.
    const waited = await env.run(['wait', requestId, '--json'], { env: own });
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.json(WaitOutputSchema).status).toBe('completed');
    const usage = await env.run(['usage', '--json'], { env: own });
    expect(usage.json(UsageOutputSchema).total.spentUsd).toBeCloseTo(
      await billedUsd([requestId]),
      6,
    );
  });
});
