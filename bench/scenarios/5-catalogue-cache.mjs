// Scenario 5, the catalogue cache: `falai model-info` of a model falai has no file for, once
// its definition is cached, and `falai models search` answered from the cached catalogue,
// against bare `node -e 0`. The cache is filled once against the emulator's Platform API,
// then the emulator is stopped: the measured runs cannot touch the network (a run that tried
// would fail or wait, and the check of its output would say so). Runs are interleaved, and
// the figure is the median, as in scenario 3.
import { join } from 'node:path';
import { importRepo, median, round, run } from '../lib/util.mjs';

/** Not a built-in model: its definition comes from fal's catalogue. */
const ENDPOINT = 'fal-ai/flux/dev';
const SEARCH = 'flux';

/** @param {{ quick: boolean, repoRoot: string, tmpDir: string }} ctx */
export default async function run5(ctx) {
  const runs = ctx.quick ? 5 : 15;
  const { startEmulator } = await importRepo(ctx.repoRoot, 'packages/emulator/dist/index.js');
  const emulator = await startEmulator({ port: 0, strict: true });
  const cli = join(ctx.repoRoot, 'apps/cli/bin/run.js');
  const env = {
    ...process.env,
    HOME: ctx.tmpDir,
    XDG_STATE_HOME: join(ctx.tmpDir, 'state'),
    XDG_CONFIG_HOME: join(ctx.tmpDir, 'config'),
    XDG_CACHE_HOME: join(ctx.tmpDir, 'cache'),
    FALAI_STORE: `file:${join(ctx.tmpDir, 'pending.json')}`,
    FALAI_BASE_URL: emulator.url,
    FAL_KEY: 'bench-key-id:bench-key-secret',
  };
  delete env.FALAI_API_URL;
  try {
    // Fill the cache: one definition, and the search's answer (models and prices).
    for (const args of [
      ['model-info', ENDPOINT, '--json'],
      ['models', 'search', SEARCH, '--json'],
    ]) {
      const out = await run(process.execPath, [cli, ...args], { env });
      if (out.code !== 0)
        throw new Error(`falai ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
    }
  } finally {
    await emulator.close();
  }

  const contenders = [
    { name: 'node -e 0 (reference)', args: ['-e', '0'] },
    {
      name: `falai model-info ${ENDPOINT} --json (cached)`,
      args: [cli, 'model-info', ENDPOINT, '--json'],
      check: (doc) => doc.source === 'cache' && doc.required.includes('prompt'),
    },
    {
      name: `falai models search ${SEARCH} --offline --json`,
      args: [cli, 'models', 'search', SEARCH, '--offline', '--json'],
      check: (doc) =>
        doc.source === 'cache' && doc.models.some((model) => model.endpointId === ENDPOINT),
    },
  ];
  const times = contenders.map(() => []);
  // One warm-up round fills the OS file cache for every contender, and checks each answer.
  for (let round_ = -1; round_ < runs; round_++) {
    for (const [index, contender] of contenders.entries()) {
      const started = performance.now();
      const out = await run(process.execPath, contender.args, { env });
      const ms = performance.now() - started;
      if (out.code !== 0) throw new Error(`${contender.name} exited ${out.code}: ${out.stderr}`);
      if (round_ === -1 && contender.check && !contender.check(JSON.parse(out.stdout)))
        throw new Error(`${contender.name} did not answer from the cache: ${out.stdout}`);
      if (round_ >= 0) times[index].push(ms);
    }
  }
  const medians = times.map(median);
  const reference = medians[0];
  return {
    title: 'Catalogue cache',
    description:
      `Median wall time of ${runs} runs each (after one warm-up round), interleaved, child ` +
      'processes of the bench; the definition and the search answer were cached from the ' +
      "emulator's Platform API, which is then stopped.",
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
