import { describe, expect, it } from 'vitest';
import {
  cliEnv,
  keepEmulatorLog,
  openSpec,
  redisAvailable,
  runCli,
  runCliBatch,
  startFal,
  storeSpec,
} from './helpers.js';

const ENDPOINT = 'fal-ai/nano-banana-pro';
const JOBS = 300;
const POLLERS = 4;
const hasRedis = await redisAvailable();

/**
 * Four `falai poll --watch` processes share one Redis store while 300 jobs finish over a few
 * seconds: every request must be finalised by exactly one poller (reported once, fetched
 * once from fal) and end completed in the store.
 */
describe('many pollers on one Redis store', () => {
  it.skipIf(!hasRedis)(
    `${POLLERS} pollers finalise each of ${JOBS} requests exactly once`,
    async () => {
      // This test is about falai's pollers sharing a store, not about fal's per-account limit:
      // 40 running at once (fal's top tier) rather than a new account's 2, at which the 300
      // jobs of 0.3–6 s would take some 8 minutes and outlast poll's --timeout. Jobs still
      // wait IN_QUEUE behind the 40, as at fal.
      const emulator = await startFal({ concurrency: 40 });
      emulator.setModel(ENDPOINT, {
        queueMs: [0, 300],
        runMs: [300, 6000],
        output: { images: [{ url: 'https://example.invalid/out.png', content_type: 'image/png' }] },
      });
      const spec = storeSpec('redis', 'pollers');
      const env = cliEnv({ FALAI_STORE: spec, FALAI_BASE_URL: emulator.url });
      try {
        const batches = await Promise.all(
          Array.from({ length: POLLERS }, (_, w) =>
            runCliBatch(
              Array.from({ length: JOBS / POLLERS }, (_, i) => [
                'submit',
                ENDPOINT,
                JSON.stringify({ prompt: `poller job ${w}-${i}` }),
                '--json',
              ]),
              env,
              `pollers-submit-${w}`,
            ),
          ),
        );
        const runs = batches.flatMap((b) => b.runs);
        expect(runs.filter((r) => r.code !== 0)).toEqual([]);

        const polls = await Promise.all(
          Array.from({ length: POLLERS }, () =>
            runCli(['poll', '--watch', '--interval', '250ms', '--timeout', '120s', '--json'], {
              env,
              timeoutMs: 180_000,
            }),
          ),
        );
        for (const poll of polls) expect(poll.code, poll.stderr).toBe(0);
        const reports = polls.map((p) => JSON.parse(p.stdout));
        const finalisedBy = new Map<string, number>();
        for (const report of reports) {
          for (const item of report.completed) {
            finalisedBy.set(item.requestId, (finalisedBy.get(item.requestId) ?? 0) + 1);
          }
        }
        expect(finalisedBy.size).toBe(JOBS);
        expect([...finalisedBy].filter(([, n]) => n !== 1)).toEqual([]);
        // The work was shared: more than one poller finalised something.
        expect(reports.filter((r) => r.completed.length > 0).length).toBeGreaterThan(1);

        const resultCalls = new Map<string, number>();
        for (const entry of emulator.log) {
          if (entry.kind === 'result' && entry.requestId) {
            resultCalls.set(entry.requestId, (resultCalls.get(entry.requestId) ?? 0) + 1);
          }
        }
        expect(resultCalls.size).toBe(JOBS);
        expect([...resultCalls].filter(([, n]) => n !== 1)).toEqual([]);

        const store = await openSpec(spec);
        try {
          const records = await store.list();
          expect(records).toHaveLength(JOBS);
          expect(records.filter((r) => r.status !== 'completed')).toEqual([]);
          expect(records.filter((r) => r.lease)).toEqual([]);
        } finally {
          await store.close();
        }
      } finally {
        keepEmulatorLog(emulator, 'pollers');
        await emulator.close();
      }
    },
  );
});
