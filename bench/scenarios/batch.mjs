// Scenario batch: a 10,000-row batch from a file, end to end through the CLI.
//
// `falai batch plan` (validate every row, price the batch, hash it) and then `falai batch run`
// against the emulator, which plays a fal account at the top tier's per-account concurrency
// (40 requests IN_PROGRESS at once, the rest IN_QUEUE) with fast jobs of a fixed run time. The
// best any client can do is keep fal's 40 slots busy: ideal throughput = 40 ÷ job time. The
// batch runs in its own process (the built CLI, a SQLite store), apart from the emulator in
// this one, so its CPU time and peak RSS are falai's alone; they are read in that process at
// exit (process.cpuUsage, process.resourceUsage().maxRSS) by a module preloaded with --import.
//
// Throughput is counted over the run command's whole life (spawn to exit: start-up, reading
// the plan, opening the store, the last row's manifest line included), so it is what a user
// waits for.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importRepo, round, run } from '../lib/util.mjs';

const ENDPOINT = 'fal-ai/nano-banana-pro';
const KEY = 'bench-key-id:bench-key-secret';
/** fal's per-account concurrency at the top tier (reference §8), set on the emulator. */
const ACCOUNT_CONCURRENCY = 40;
/** Each job's run time at the emulator (no queue latency of its own). */
const JOB_MS = 250;
/**
 * Rows in flight from falai (`--concurrency`): fal's 40 slots plus headroom, so a slot that
 * frees finds the next request already waiting IN_QUEUE instead of waiting for a round trip.
 */
const IN_FLIGHT = 56;

const TARGETS = { planSeconds: 10, cpuMsPerJob: 5, peakRssMb: 200, throughput: 0.9 };

/** Writes what the process used at exit to FALAI_BENCH_USAGE (preloaded with --import). */
const USAGE_PRELOAD = `import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  const cpu = process.cpuUsage();
  const usage = process.resourceUsage();
  writeFileSync(process.env.FALAI_BENCH_USAGE, JSON.stringify({ userUs: cpu.user, systemUs: cpu.system, maxRssKb: usage.maxRSS }));
});`;

/** @param {{ quick: boolean, repoRoot: string, tmpDir: string }} ctx */
export default async function batch(ctx) {
  const rows = ctx.quick ? 1000 : 10_000;
  const { startEmulator } = await importRepo(ctx.repoRoot, 'packages/emulator/dist/index.js');
  const cli = join(ctx.repoRoot, 'apps/cli/bin/run.js');

  const emulator = await startEmulator({
    port: 0,
    seed: 10_000,
    strict: true,
    concurrency: ACCOUNT_CONCURRENCY,
    logRequests: false,
  });
  // A fixed output keeps the emulator's CPU on the queue, not on rendering images.
  emulator.setModel(ENDPOINT, {
    queueMs: 0,
    runMs: JOB_MS,
    output: { images: [{ url: `${emulator.url}/files/bench.png`, content_type: 'image/png' }] },
  });
  let completed = 0;
  let firstSubmit = Number.POSITIVE_INFINITY;
  let lastDone = 0;
  emulator.on('completed', (job) => {
    completed += 1;
    firstSubmit = Math.min(firstSubmit, job.submittedAt);
    lastDone = Math.max(lastDone, job.completedAt ?? 0);
  });
  const rowsFile = join(ctx.tmpDir, 'rows.jsonl');
  writeFileSync(
    rowsFile,
    `${Array.from({ length: rows }, (_, i) => JSON.stringify({ prompt: `catalogue shot ${i}` })).join('\n')}\n`,
  );
  const usageFile = join(ctx.tmpDir, 'usage.json');
  const env = {
    ...process.env,
    HOME: ctx.tmpDir,
    XDG_STATE_HOME: join(ctx.tmpDir, 'state'),
    XDG_CONFIG_HOME: join(ctx.tmpDir, 'config'),
    XDG_CACHE_HOME: join(ctx.tmpDir, 'cache'),
    FALAI_STORE: `sqlite:${join(ctx.tmpDir, 'batch.db')}`,
    FALAI_BASE_URL: emulator.url,
    FAL_KEY: KEY,
  };
  try {
    const planStarted = performance.now();
    const planned = await run(
      process.execPath,
      [cli, 'batch', 'plan', rowsFile, '--model', ENDPOINT, '--json'],
      { env, cwd: ctx.tmpDir },
    );
    const planSeconds = (performance.now() - planStarted) / 1000;
    if (planned.code !== 0) throw new Error(`batch plan exited ${planned.code}: ${planned.stderr}`);
    const plan = JSON.parse(planned.stdout);
    if (plan.rows !== rows || plan.cost.usd === null)
      throw new Error(`unexpected plan: ${planned.stdout.slice(0, 500)}`);

    const runStarted = performance.now();
    const ran = await run(
      process.execPath,
      [cli, 'batch', 'run', plan.plan, '--concurrency', String(IN_FLIGHT), '--json'],
      {
        env: {
          ...env,
          FALAI_BENCH_USAGE: usageFile,
          NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(USAGE_PRELOAD)}`,
        },
        cwd: ctx.tmpDir,
      },
    );
    const runSeconds = (performance.now() - runStarted) / 1000;
    if (ran.code !== 0) throw new Error(`batch run exited ${ran.code}: ${ran.stderr.slice(-2000)}`);
    const summary = JSON.parse(ran.stdout);
    if (summary.counts.completed !== rows || summary.submitted !== rows)
      throw new Error(`batch run did not complete every row: ${ran.stdout}`);
    if (completed !== rows) throw new Error(`the emulator completed ${completed} of ${rows} jobs`);
    const usage = JSON.parse(readFileSync(usageFile, 'utf8'));
    const cpuMs = (usage.userUs + usage.systemUs) / 1000;
    const cpuPerJob = cpuMs / rows;
    const peakRssMb = usage.maxRssKb / 1024;
    const ideal = ACCOUNT_CONCURRENCY / (JOB_MS / 1000);
    const throughput = rows / runSeconds;
    const fraction = throughput / ideal;
    const peak = Math.max(0, ...Object.values(emulator.stats.peakRunning ?? {}));
    // The same, seen by fal: from the first submit to the last completion (start-up excluded).
    const falSide = rows / ((lastDone - firstSubmit) / 1000) / ideal;
    return {
      title: 'Batch: 10,000 rows from a file',
      description:
        `${rows} JSONL rows to ${ENDPOINT}: \`falai batch plan\` (validate, price, hash), then ` +
        `\`falai batch run --concurrency ${IN_FLIGHT}\` with a SQLite store against the ` +
        `emulator at ${ACCOUNT_CONCURRENCY} requests running at once per account (the rest ` +
        `IN_QUEUE), each job ${JOB_MS} ms: ideal throughput ${ACCOUNT_CONCURRENCY} ÷ ` +
        `${JOB_MS / 1000} s = ${ideal} jobs/s. The run is a process of its own; its CPU time ` +
        'and peak RSS are read in it at exit; its throughput counts its whole life.',
      columns: ['step', 'rows', 'seconds', 'jobs/s', 'CPU ms/job', 'peak RSS MB'],
      rows: [
        ['batch plan', rows, round(planSeconds, 2), '', '', ''],
        [
          `batch run (peak ${peak} running at fal)`,
          rows,
          round(runSeconds, 1),
          round(throughput, 1),
          round(cpuPerJob, 2),
          round(peakRssMb, 0),
        ],
      ],
      targets: [
        {
          name: `plan ${rows} rows`,
          target: `<= ${TARGETS.planSeconds} s`,
          measured: `${round(planSeconds, 2)} s`,
          pass: planSeconds <= TARGETS.planSeconds,
        },
        {
          name: 'falai CPU time per job',
          target: `<= ${TARGETS.cpuMsPerJob} ms`,
          measured: `${round(cpuPerJob, 2)} ms`,
          pass: cpuPerJob <= TARGETS.cpuMsPerJob,
        },
        {
          name: 'peak RSS of the run',
          target: `<= ${TARGETS.peakRssMb} MB`,
          measured: `${round(peakRssMb, 0)} MB`,
          pass: peakRssMb <= TARGETS.peakRssMb,
        },
        {
          name: 'throughput / ideal (40 ÷ job time)',
          target: `>= ${TARGETS.throughput * 100} %`,
          measured: `${round(fraction * 100, 1)} %`,
          pass: fraction >= TARGETS.throughput,
        },
      ],
      notes:
        `The plan priced the batch at $${plan.cost.usd}. The emulator saw at most ${peak} ` +
        `requests running at once for the account (limit ${ACCOUNT_CONCURRENCY}); from its ` +
        `first submit to its last completion the throughput was ${round(falSide * 100, 1)} % ` +
        'of ideal (the target counts the whole run, start-up included). CPU time and RSS ' +
        'depend on the machine being otherwise idle: on a shared one the run is starved, and ' +
        "V8's heap grows further before it collects.",
    };
  } finally {
    await emulator.close();
  }
}
