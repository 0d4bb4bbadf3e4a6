// Scenario 3, CLI start-up: `falai --version` and `falai list --json` over 1,000 records in
// the default (file) store, against bare `node -e 0`. Runs are interleaved so that a burst
// of load on the shared machine hits every contender alike; the figure is the median.
import { join } from 'node:path';
import { importRepo, median, round, run } from '../lib/util.mjs';

const ENDPOINT = 'fal-ai/nano-banana-pro';

/** @param {{ quick: boolean, repoRoot: string, tmpDir: string }} ctx */
export default async function run3(ctx) {
  const runs = ctx.quick ? 5 : 15;
  const recordCount = 1000;
  const core = await importRepo(ctx.repoRoot, 'packages/core/dist/store-kit.js');
  const { createFileStore } = await importRepo(ctx.repoRoot, 'packages/store-file/dist/index.js');
  const storePath = join(ctx.tmpDir, 'pending.json');
  const store = createFileStore({ path: storePath });
  const base = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < recordCount; i++) {
    await store.put(
      core.newPendingRecord({
        requestId: `req-${String(i).padStart(5, '0')}`,
        endpointId: ENDPOINT,
        input: { fields: { prompt: `record ${i}` }, files: [] },
        now: new Date(base + i * 1000),
      }),
    );
  }
  await store.close();

  const cli = join(ctx.repoRoot, 'apps/cli/bin/run.js');
  const env = {
    ...process.env,
    HOME: ctx.tmpDir,
    XDG_STATE_HOME: join(ctx.tmpDir, 'state'),
    XDG_CONFIG_HOME: join(ctx.tmpDir, 'config'),
    FALAI_STORE: `file:${storePath}`,
  };
  delete env.FAL_KEY;
  const contenders = [
    { name: 'node -e 0 (reference)', args: ['-e', '0'] },
    { name: 'falai --version', args: [cli, '--version'] },
    { name: `falai list --json (${recordCount} records)`, args: [cli, 'list', '--json'] },
  ];
  const times = contenders.map(() => []);
  // One warm-up round fills the OS file cache for every contender.
  for (let round_ = -1; round_ < runs; round_++) {
    for (const [index, contender] of contenders.entries()) {
      const started = performance.now();
      const out = await run(process.execPath, contender.args, { env });
      const ms = performance.now() - started;
      if (out.code !== 0) throw new Error(`${contender.name} exited ${out.code}: ${out.stderr}`);
      if (index === 2 && round_ === -1) {
        const listed = JSON.parse(out.stdout);
        const count = Array.isArray(listed)
          ? listed.length
          : (listed.requests ?? listed.records ?? []).length;
        if (count !== recordCount) throw new Error(`list --json returned ${count} records`);
      }
      if (round_ >= 0) times[index].push(ms);
    }
  }
  const medians = times.map(median);
  const reference = medians[0];
  const rows = contenders.map((c, i) => [
    c.name,
    runs,
    round(medians[i], 0),
    `${round(medians[i] / reference, 2)}x`,
  ]);
  return {
    title: 'CLI start-up',
    description:
      `Median wall time of ${runs} runs each (after one warm-up round), interleaved, ` +
      `child processes of the bench; the store is a file store with ${recordCount} records.`,
    columns: ['command', 'runs', 'median (ms)', 'vs node -e 0'],
    rows,
    targets: contenders.slice(1).map((c, i) => ({
      name: c.name,
      target: '<= 3x node -e 0',
      measured: `${round(medians[i + 1] / reference, 2)}x`,
      pass: medians[i + 1] <= 3 * reference,
    })),
  };
}
