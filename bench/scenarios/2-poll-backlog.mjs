// Scenario 2, polling a backlog: 1,000 pending records whose jobs have all finished at the
// emulator; one `falai poll` pass with its bounded pool against a one-at-a-time pass (the
// seed's behaviour: status, then result, for each record in turn).
//
// The emulator adds a fixed round-trip delay to every status and result call: on 127.0.0.1
// a call costs well under a millisecond, which would turn the comparison into a CPU contest
// that says nothing about talking to fal over the internet. It also limits the account the
// way fal does: jobs beyond the per-account concurrency wait IN_QUEUE, and calls beyond a
// rate limit are answered 429 with Retry-After. fal publishes no per-second limit for its
// queue API, so RATE_LIMIT is a stand-in: above what the default pool can ask for at this
// round-trip time (16 / 20 ms = 800 calls/s at most), below what a pool of 32 can ask for
// (1,600/s; a full run on a fast enough machine gets there, the table counts its 429s). The
// default pool must stay under the limit; every pool must finalise every record, waiting out
// any 429 it meets.
import { join } from 'node:path';
import { importRepo, round, run } from '../lib/util.mjs';

const ENDPOINT = 'fal-ai/nano-banana-pro';
const KEY = 'bench-key-id:bench-key-secret';
const RTT_MS = 20;
/** fal's per-account concurrency for new accounts (reference §8). */
const CONCURRENCY = 2;
/** Calls per second per key before the emulator answers 429 (see above). */
const RATE_LIMIT = { requests: 1000, windowMs: 1000 };

/** @param {{ quick: boolean, repoRoot: string, tmpDir: string }} ctx */
export default async function run2(ctx) {
  const records = ctx.quick ? 200 : 1000;
  const { startEmulator } = await importRepo(ctx.repoRoot, 'packages/emulator/dist/index.js');
  const core = await importRepo(ctx.repoRoot, 'packages/core/dist/internal.js');
  const { createSqliteStore } = await importRepo(
    ctx.repoRoot,
    'packages/store-sqlite/dist/index.js',
  );
  const cli = join(ctx.repoRoot, 'apps/cli/bin/run.js');

  const emulator = await startEmulator({
    port: 0,
    seed: 7,
    strict: true,
    concurrency: CONCURRENCY,
    rateLimit: RATE_LIMIT,
  });
  emulator.setModel(ENDPOINT, {
    queueMs: 0,
    runMs: 0,
    output: { images: [{ url: `${emulator.url}/files/bench.png`, content_type: 'image/png' }] },
  });
  try {
    // Submit the backlog and let every job finish before any pass starts.
    const client = core.createFalClient({ credentials: KEY, baseUrl: emulator.url });
    const submitted = [];
    for (let start = 0; start < records; start += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, records - start) }, (_, i) =>
          client.submit(ENDPOINT, { prompt: `backlog ${start + i}` }),
        ),
      );
      submitted.push(...batch);
    }
    // Two at a time per account, the rest IN_QUEUE: the backlog drains before any pass.
    for (let tries = 0; emulator.jobs().some((job) => job.status !== 'COMPLETED'); tries++) {
      if (tries > 1200) throw new Error('emulator jobs did not finish');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    emulator.inject({
      match: { kind: ['status', 'result'] },
      action: { type: 'delay', ms: RTT_MS },
    });

    const contenders = [
      { name: 'one at a time (seed behaviour, --concurrency 1)', concurrency: 1 },
      { name: 'falai poll (default pool, 16)', concurrency: undefined },
      { name: 'falai poll --concurrency 32', concurrency: 32 },
    ];
    const rows = [];
    const results = [];
    for (const contender of contenders) {
      const path = join(ctx.tmpDir, `backlog-${contender.concurrency ?? 'default'}.db`);
      const store = createSqliteStore({ path });
      for (const s of submitted) {
        await store.put(
          core.newPendingRecord({
            requestId: s.requestId,
            endpointId: ENDPOINT,
            urls: { status: s.statusUrl, response: s.responseUrl, cancel: s.cancelUrl },
          }),
        );
      }
      await store.close();
      emulator.clearLog();
      emulator.resetStats();
      const args = [cli, 'poll', '--json'];
      if (contender.concurrency !== undefined)
        args.push('--concurrency', String(contender.concurrency));
      const started = performance.now();
      const out = await run(process.execPath, args, {
        env: {
          ...process.env,
          HOME: ctx.tmpDir,
          XDG_STATE_HOME: join(ctx.tmpDir, 'state'),
          XDG_CONFIG_HOME: join(ctx.tmpDir, 'config'),
          FALAI_STORE: `sqlite:${path}`,
          FALAI_BASE_URL: emulator.url,
          FAL_KEY: KEY,
        },
      });
      const seconds = (performance.now() - started) / 1000;
      if (out.code !== 0) throw new Error(`poll exited ${out.code}: ${out.stderr || out.stdout}`);
      const report = JSON.parse(out.stdout);
      // Answered 429 by the rate limit (falai waits Retry-After and asks again) versus calls
      // that failed outright: dropped connections and 5xx.
      const rateLimited = emulator.stats.rateLimited;
      const failedCalls = emulator.log.filter((e) => e.status === 0 || e.status >= 500).length;
      const check = createSqliteStore({ path });
      const finished = (await check.list({ status: 'completed' })).length;
      await check.close();
      results.push({ seconds, finished, errors: report.errors.length, rateLimited, failedCalls });
      rows.push([
        contender.name,
        records,
        round(seconds, 2),
        round(records / seconds, 0),
        finished,
        rateLimited,
        report.errors.length + failedCalls,
      ]);
    }
    const [sequential, pool, wide] = results;
    const speedup = sequential.seconds / pool.seconds;
    const wideSpeedup = sequential.seconds / wide.seconds;
    for (let i = 0; i < rows.length; i++)
      rows[i].push(`${round(sequential.seconds / results[i].seconds, 1)}x`);
    const allDone = results.every((r) => r.finished === records);
    const failing = (r) => r.errors + r.failedCalls;
    return {
      title: 'Polling a backlog',
      description:
        `${records} pending records in a SQLite store, every job already finished at the ` +
        `emulator, which adds ${RTT_MS} ms to each status and result call to stand in for the ` +
        `network, runs ${CONCURRENCY} jobs at a time per account (the rest wait IN_QUEUE) and ` +
        `answers 429 with Retry-After beyond ${RATE_LIMIT.requests} calls per ` +
        `${RATE_LIMIT.windowMs} ms per key. Each row is one \`falai poll --json\` process ` +
        '(start-up included) over a fresh copy of the store. "429s" are calls the rate limit ' +
        'refused (falai waits and asks again); "failed" are records poll could not check plus ' +
        'dropped or 5xx calls.',
      columns: [
        'contender',
        'records',
        'seconds',
        'records/s',
        'finalised',
        '429s',
        'failed',
        'speed-up',
      ],
      rows,
      targets: [
        {
          name: 'default pool vs one at a time',
          target: '>= 8x',
          measured: `${round(speedup, 1)}x`,
          pass: speedup >= 8 && allDone,
        },
        {
          name: 'default pool: calls refused or failing from overload',
          target: '0 (stays under the rate limit)',
          measured: String(pool.rateLimited + failing(pool)),
          pass: pool.rateLimited + failing(pool) === 0,
        },
        {
          name: '--concurrency 32 over the rate limit: records lost or failed',
          target: `0 (every 429 waited out; all ${records} finalised)`,
          measured: `${failing(wide)} failed, ${wide.finished} finalised, ${wide.rateLimited} 429s`,
          pass: failing(wide) === 0 && wide.finished === records,
        },
      ],
      notes:
        `With --concurrency 32 the pass is ${round(wideSpeedup, 1)}x faster than one at a time ` +
        `and met ${wide.rateLimited} 429s from the rate limit. A pool of N can at most be N ` +
        'times faster than one at a time when each record costs the same two calls; start-up ' +
        'and store writes are shared by both.',
    };
  } finally {
    await emulator.close();
  }
}
