import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dailyBudgetScope } from '@falai/core/internal';
import { describe, expect, it } from 'vitest';
import {
  cliEnv,
  keepEmulatorLog,
  openSpec,
  redisAvailable,
  runCliBatch,
  type StoreKind,
  startFal,
  storeSpec,
  workDir,
} from './helpers.js';

const ENDPOINT = 'fal-ai/nano-banana-pro';
/** fal's (the emulator's) price of one image of this endpoint. */
const PER_IMAGE = 0.15;
const PROCESSES = 8;
const PER_PROCESS = 20;
/** The daily budget: far below the 160 requests' $60 in all, so the cap must bite. */
const CAP = 10;
const hasRedis = await redisAvailable();

/** The images run `i` of process `p` asks for: 1 to 4, so estimates are $0.15 to $0.60. */
const imagesOf = (p: number, i: number) => 1 + ((p * PER_PROCESS + i) % 4);

/** A budget is kept per UTC day: a run must not straddle midnight. */
async function notAcrossMidnight(): Promise<void> {
  const now = Date.now();
  const midnight = Date.parse(`${new Date(now).toISOString().slice(0, 10)}T00:00:00Z`) + 86_400_000;
  if (midnight - now < 120_000)
    await new Promise((resolve) => setTimeout(resolve, midnight - now + 1000));
}

/**
 * A daily budget is a hard cap: eight processes each `falai run` twenty requests at once on one
 * store with `budget.daily` set; every estimate is known (1–4 images × $0.15). What fal
 * accepted never adds up past the cap, in estimates or in billed cost; every refusal is exit 4
 * BUDGET_EXCEEDED with nothing sent, and was needed (it would not have fitted in what was left
 * at the end); the store's ledger ends with every reservation settled at the actual cost.
 */
describe('budget: 8 processes × 20 falai run on one store with budget.daily', () => {
  for (const kind of ['file', 'sqlite', 'redis'] as StoreKind[]) {
    it.skipIf(kind === 'redis' && !hasRedis)(
      `${kind} store never spends past $${CAP}`,
      async () => {
        await notAcrossMidnight();
        // fal's per-account concurrency is lifted: the test is about the budget, and every run
        // waits for its result (which settles its reservation).
        const emulator = await startFal({
          concurrency: Number.POSITIVE_INFINITY,
          defaultLatency: { queueMs: 0, runMs: 20 },
        });
        const spec = storeSpec(kind, `budget-${kind}`);
        const config = join(workDir('budget'), `config-${kind}.json`);
        writeFileSync(config, JSON.stringify({ budget: { daily: CAP } }));
        const env = cliEnv({
          FALAI_STORE: spec,
          FALAI_BASE_URL: emulator.url,
          FALAI_CONFIG: config,
        });
        try {
          const batches = await Promise.all(
            Array.from({ length: PROCESSES }, (_, p) =>
              runCliBatch(
                Array.from({ length: PER_PROCESS }, (_, i) => [
                  'run',
                  ENDPOINT,
                  JSON.stringify({ prompt: `budget p${p} i${i}`, num_images: imagesOf(p, i) }),
                  '--no-download',
                  '--json',
                ]),
                env,
                `budget-${kind}-${p}`,
              ),
            ),
          );
          const runs = batches.flatMap((batch, p) =>
            batch.runs.map((run, i) => ({ ...run, estimate: imagesOf(p, i) * PER_IMAGE })),
          );
          expect(runs).toHaveLength(PROCESSES * PER_PROCESS);
          expect(
            runs
              .filter((run) => run.code !== 0 && run.code !== 4)
              .map((run) => run.stdout.slice(0, 300)),
          ).toEqual([]);
          const accepted = runs.filter((run) => run.code === 0);
          const refused = runs.filter((run) => run.code === 4);
          for (const run of refused) {
            expect(JSON.parse(run.stdout).error.code).toBe('BUDGET_EXCEEDED');
          }
          expect(accepted.length).toBeGreaterThan(0);
          expect(refused.length).toBeGreaterThan(0);

          // Nothing refused was sent: fal saw exactly the accepted requests.
          const acceptedIds = accepted.map((run) => JSON.parse(run.stdout).requestId as string);
          const submits = emulator.log.filter((entry) => entry.kind === 'submit');
          expect(submits).toHaveLength(accepted.length);
          expect(new Set(submits.map((entry) => entry.requestId))).toEqual(new Set(acceptedIds));

          // Never past the cap: in estimates, in what fal billed, in what the store recorded.
          const estimated = accepted.reduce((sum, run) => sum + run.estimate, 0);
          expect(estimated).toBeLessThanOrEqual(CAP + 1e-9);
          const billed = acceptedIds.reduce((sum, id) => {
            const images = (emulator.job(id)?.output as { images?: unknown[] } | undefined)?.images;
            return sum + (images?.length ?? 0) * PER_IMAGE;
          }, 0);
          expect(billed).toBeLessThanOrEqual(CAP + 1e-9);
          expect(billed).toBeCloseTo(estimated, 9);

          const store = await openSpec(spec);
          try {
            const records = await store.list();
            expect(records).toHaveLength(accepted.length);
            const recorded = records.reduce(
              (sum, record) => sum + (record.provenance?.cost?.amount ?? Number.NaN),
              0,
            );
            expect(recorded).toBeCloseTo(billed, 9);
            const usage = await store.budget?.usage(dailyBudgetScope().scope);
            expect(usage?.reservedUsd).toBe(0);
            expect(usage?.spentUsd).toBeCloseTo(billed, 6);
            // Each refusal was needed: what is left at the end is less than it asked for
            // (what is left only shrinks, so it was less when it was refused).
            const left = CAP - (usage?.spentUsd ?? 0);
            for (const run of refused) expect(run.estimate).toBeGreaterThan(left - 1e-9);
          } finally {
            await store.close();
          }
        } finally {
          keepEmulatorLog(emulator, `budget-${kind}`);
          await emulator.close();
        }
      },
    );
  }
});
