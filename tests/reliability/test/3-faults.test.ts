import { type FaultAction, RANDOM_FAILURES } from '@falai/emulator';
import { describe, expect, it } from 'vitest';
import {
  cliEnv,
  keepEmulatorLog,
  openSpec,
  runCli,
  runCliBatch,
  startFal,
  storeSpec,
} from './helpers.js';

const ENDPOINT = 'fal-ai/nano-banana-pro';
const JOBS = 200;
const WORKERS = 4;
/**
 * Statuses that prove a submit was not accepted (core's submit retry policy): 429, and
 * 502/503/504 from fal's ingress, i.e. without `x-fal-request-id`, which the injected faults
 * never carry.
 */
const NOT_ACCEPTED = new Set([429, 502, 503, 504]);

const FAULTS: FaultAction[] = [
  ...RANDOM_FAILURES,
  // Submit only: the job is queued, then the connection breaks before the answer.
  { type: 'drop-after-accept' },
  { type: 'delay', ms: 1500 },
];

/**
 * One in five calls to the emulator fails (429 with Retry-After, 5xx, dropped connections,
 * accepted-then-dropped submits, slow answers). Every job is submitted with `falai submit`
 * (a failed submit is retried by the "user" with a new command), then `falai poll --watch`
 * must drive all of them to a terminal state with their results, and the emulator's log
 * must show no submit sent twice unless the earlier attempt was provably not accepted.
 */
describe('faults: 20% of calls fail', () => {
  it(`${JOBS} jobs reach a terminal state through poll --watch, none submitted twice`, async () => {
    const seed = Number(process.env.FALAI_RELIABILITY_SEED ?? Date.now() % 1_000_000);
    // This test is about falai under faults, not about fal's per-account limit: 40 running at
    // once (fal's top tier) rather than a new account's 2, which would make the 200 jobs of
    // 2–15 s take some 15 minutes and outlast poll's --timeout.
    const emulator = await startFal({ seed, concurrency: 40 });
    emulator.setModel(ENDPOINT, {
      queueMs: [0, 200],
      // Long enough that many jobs are still running when poll starts: it needs several passes.
      runMs: [2000, 15_000],
      output: { images: [{ url: 'https://example.invalid/out.png', content_type: 'image/png' }] },
    });
    emulator.inject({
      match: { kind: ['submit', 'status', 'stream', 'result', 'cancel'] },
      probability: 0.2,
      action: { type: 'one-of', actions: FAULTS },
    });
    const spec = storeSpec('file', 'faults');
    const env = cliEnv({ FALAI_STORE: spec, FALAI_BASE_URL: emulator.url });
    try {
      // Submit: a command that fails is run again with a new attempt label, like a user would.
      let todo = Array.from({ length: JOBS }, (_, i) => i);
      const submitted = new Map<number, string>();
      let commands = 0;
      for (let attempt = 0; attempt < 6 && todo.length > 0; attempt++) {
        const lanes = Array.from({ length: WORKERS }, (_, w) =>
          todo.filter((_, i) => i % WORKERS === w),
        );
        commands += todo.length;
        const batches = await Promise.all(
          lanes.map((lane, w) =>
            runCliBatch(
              lane.map((job) => [
                'submit',
                ENDPOINT,
                JSON.stringify({ prompt: `job-${job}-try-${attempt}` }),
                '--json',
              ]),
              env,
              `faults-submit-${attempt}-${w}`,
            ),
          ),
        );
        lanes.forEach((lane, w) => {
          lane.forEach((job, i) => {
            const run = batches[w]?.runs[i];
            if (run?.code === 0) submitted.set(job, JSON.parse(run.stdout).requestId);
            else if (run) {
              const error = JSON.parse(run.stdout).error;
              expect(['API_ERROR', 'RATE_LIMITED', 'NETWORK_ERROR', 'TIMEOUT']).toContain(
                error.code,
              );
            }
          });
        });
        todo = todo.filter((job) => !submitted.has(job));
      }
      expect(todo, `jobs never submitted (seed ${seed})`).toEqual([]);

      const poll = await runCli(
        ['poll', '--watch', '--interval', '300ms', '--timeout', '150s', '--json'],
        { env, timeoutMs: 200_000 },
      );
      expect(poll.code, poll.stderr).toBe(0);
      const report = JSON.parse(poll.stdout);
      expect(report.pending).toBe(0);
      expect(report.passes).toBeGreaterThan(1);

      const store = await openSpec(spec);
      try {
        const records = await store.list();
        expect(records).toHaveLength(JOBS);
        for (const record of records) {
          expect(record.status, `${record.requestId} (seed ${seed})`).toBe('completed');
          expect(record.result).toEqual(emulator.job(record.requestId)?.output);
        }
      } finally {
        await store.close();
      }

      // The emulator's log. A faulted submit is answered before its body is read, so attempts
      // cannot be matched to commands one by one; but every attempt beyond a command's first
      // must follow an answer that proves nothing was queued (NOT_ACCEPTED), so the extra
      // attempts are bounded by those answers. Accepted jobs carry their input: at most one
      // per command (a retry after an accepted-then-dropped submit would make a second one).
      const submits = emulator.log.filter((e) => e.kind === 'submit');
      const refused = submits.filter((e) => NOT_ACCEPTED.has(e.status)).length;
      expect(submits.length - commands, `seed ${seed}`).toBeLessThanOrEqual(refused);
      expect(submits.length).toBeGreaterThan(commands);
      const jobsPerPrompt = new Map<string, number>();
      for (const job of emulator.jobs()) {
        const prompt = (job.input as { prompt: string }).prompt;
        jobsPerPrompt.set(prompt, (jobsPerPrompt.get(prompt) ?? 0) + 1);
      }
      const duplicated = [...jobsPerPrompt].filter(([, n]) => n > 1);
      expect(duplicated, `seed ${seed}`).toEqual([]);
      // The faults really happened, on every kind of call.
      const faulted = emulator.log.filter((e) => e.fault);
      expect(faulted.length).toBeGreaterThan(JOBS / 5);
      expect(new Set(faulted.map((e) => e.fault))).toEqual(
        new Set(['status', 'drop', 'drop-after-accept', 'delay']),
      );
      console.info(
        `faults: seed ${seed}, ${emulator.log.length} calls, ${faulted.length} faulted, ` +
          `${report.passes} poll passes`,
      );
    } finally {
      keepEmulatorLog(emulator, 'faults');
      await emulator.close();
    }
  });
});
