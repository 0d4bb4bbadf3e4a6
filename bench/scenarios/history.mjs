// History search: `falai history <text> --json` over 100,000 requests in a SQLite store, against
// bare `node -e 0` (target: at most 3x). The store is filled through the store API (as falai
// writes it: validated records, the FTS5 prompt index kept by its triggers); then the CLI is
// timed, interleaved with the reference so a burst of load hits every contender alike; the
// figure is the median. Three searches: a common word (the walk stops at the limit), a rare one
// (one match: the whole time index is walked), and two words.
import { join } from 'node:path';
import { importRepo, median, round, run } from '../lib/util.mjs';

const WORDS = [
  'lighthouse',
  'fox',
  'harbour',
  'portrait',
  'forest',
  'city',
  'night',
  'storm',
  'garden',
  'mountain',
  'river',
  'cat',
  'robot',
  'desert',
  'castle',
  'ocean',
  'bridge',
  'market',
  'winter',
  'dragon',
  'train',
  'library',
  'meadow',
  'volcano',
  'festival',
  'temple',
];
const STYLES = ['watercolor', 'photograph', 'oil painting', 'pixel art', 'ink sketch', '3d render'];
const ENDPOINTS = [
  'fal-ai/flux/dev',
  'fal-ai/nano-banana-pro',
  'fal-ai/kling-video/o3/pro/video-to-video/edit',
];

/** A deterministic, realistic record: a completed request with a prompt, a seed and a file. */
function record(core, n, base) {
  const a = WORDS[n % WORDS.length];
  const b = WORDS[(n * 7 + 3) % WORDS.length];
  const style = STYLES[n % STYLES.length];
  const at = new Date(base + n * 1000).toISOString();
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return core.parsePendingRecord({
    ...core.newPendingRecord({
      requestId: id,
      endpointId: ENDPOINTS[n % ENDPOINTS.length],
      input: {
        fields: { prompt: `a ${a} and a ${b} at dusk, ${style}, number ${n}`, num_images: 1 },
        files: [],
      },
      now: new Date(at),
    }),
    status: n % 50 === 0 ? 'failed' : 'completed',
    completedAt: at,
    result: { images: [{ url: `https://v3.fal.media/files/b/${id}.png` }], seed: 1000 + n },
    outputs: [{ url: `https://v3.fal.media/files/b/${id}.png`, path: `/renders/${id}-0.png` }],
    provenance: { seed: String(1000 + n), cost: { amount: 0.025, currency: 'USD' } },
  });
}

/** @param {{ quick: boolean, repoRoot: string, tmpDir: string }} ctx */
export default async function history(ctx) {
  const runs = ctx.quick ? 5 : 15;
  const recordCount = ctx.quick ? 20_000 : 100_000;
  const core = await importRepo(ctx.repoRoot, 'packages/core/dist/store-kit.js');
  const { createSqliteStore } = await importRepo(
    ctx.repoRoot,
    'packages/store-sqlite/dist/index.js',
  );
  const dbPath = join(ctx.tmpDir, 'pending.db');
  const store = createSqliteStore({ path: dbPath });
  const base = Date.now() - recordCount * 1000 - 60_000;
  const fillStarted = performance.now();
  for (let n = 0; n < recordCount; n++) await store.put(record(core, n, base));
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  const rareId = Math.floor(recordCount / 3);
  const check = await store.search({ text: `number ${rareId}`, limit: 5 });
  await store.close();
  if (check.length !== 1) throw new Error(`the store found ${check.length} records for one id`);

  const cli = join(ctx.repoRoot, 'apps/cli/bin/run.js');
  const env = {
    ...process.env,
    HOME: ctx.tmpDir,
    XDG_STATE_HOME: join(ctx.tmpDir, 'state'),
    XDG_CONFIG_HOME: join(ctx.tmpDir, 'config'),
    FALAI_STORE: `sqlite:${dbPath}`,
  };
  delete env.FAL_KEY;
  const searches = [
    { name: 'a common word ("lighthouse")', args: ['lighthouse'], expect: 50 },
    { name: `a rare word (one match, "${rareId}")`, args: [String(rareId)], expect: 1 },
    { name: 'two words ("fox riv")', args: ['fox riv'], expect: 50 },
  ];
  const contenders = [
    { name: 'node -e 0 (reference)', args: ['-e', '0'] },
    ...searches.map((s) => ({
      name: `falai history ${s.name}`,
      args: [cli, 'history', ...s.args, '--json'],
      expect: s.expect,
    })),
  ];
  const times = contenders.map(() => []);
  // One warm-up round fills the OS file cache for every contender.
  for (let round_ = -1; round_ < runs; round_++) {
    for (const [index, contender] of contenders.entries()) {
      const started = performance.now();
      const out = await run(process.execPath, contender.args, { env });
      const ms = performance.now() - started;
      if (out.code !== 0) throw new Error(`${contender.name} exited ${out.code}: ${out.stderr}`);
      if (round_ === -1 && contender.expect !== undefined) {
        const found = JSON.parse(out.stdout).requests.length;
        if (found !== contender.expect) {
          throw new Error(
            `${contender.name} found ${found} requests, expected ${contender.expect}`,
          );
        }
      }
      if (round_ >= 0) times[index].push(ms);
    }
  }
  const medians = times.map(median);
  const reference = medians[0];
  return {
    title: 'History search (SQLite, FTS5)',
    description:
      `Median wall time of ${runs} runs each (after one warm-up round), interleaved, child ` +
      `processes of the bench; a SQLite store of ${recordCount.toLocaleString('en')} completed ` +
      `requests filled through the store API in ${round(fillSeconds, 1)} s; each search prints ` +
      'the newest 50 matches as JSON.',
    columns: ['command', 'runs', 'median (ms)', 'vs node -e 0'],
    rows: contenders.map((c, i) => [
      c.name,
      runs,
      round(medians[i], 0),
      `${round(medians[i] / reference, 2)}x`,
    ]),
    targets: contenders.slice(1).map((c, i) => ({
      name: c.name,
      target: '<= 3x node -e 0',
      measured: `${round(medians[i + 1] / reference, 2)}x`,
      pass: medians[i + 1] <= 3 * reference,
    })),
  };
}
