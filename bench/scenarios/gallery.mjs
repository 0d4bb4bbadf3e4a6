// Gallery build for 1,000 outputs: `falai gallery --out <dir>` on a file store holding 1,000
// completed records, each with a real 640×480 JPEG on disk (so every one gets a thumbnail) and
// every tenth made from an earlier output (lineage to match). Reports the wall time and peak
// RSS (GNU time %M) of the cold build, of a rebuild with nothing changed, and of a rebuild after
// 10 new outputs, next to `falai --version` as the baseline of a CLI process. Report-only: the
// targets check that every output is on the page and that a rebuild redoes nothing.

import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importRepo, round, run } from '../lib/util.mjs';

const TIME = '/usr/bin/time';
const KEY = 'bench-key-id:bench-key-secret';

/** One completed record as the lifecycle leaves it after `falai run`. */
function record(n, path) {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const at = new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
  const files =
    n % 10 === 9
      ? [
          {
            field: 'image_url',
            kind: 'url',
            location: `https://v3.fal.media/files/bench/${n - 1}.jpg`,
          },
        ]
      : [];
  return {
    requestId: id,
    endpointId: n % 3 === 0 ? 'fal-ai/flux/dev/image-to-image' : 'fal-ai/nano-banana-pro',
    status: 'completed',
    submittedAt: at,
    updatedAt: at,
    completedAt: at,
    input: {
      fields: {
        prompt: `bench prompt ${n}: a lighthouse at dusk, ${n % 7} boats <b>&</b>`,
        seed: BigInt('17454220438242315174') + BigInt(n),
        ...(files.length ? { image_url: '<file image_url>' } : {}),
      },
      files,
    },
    result: { images: [{ url: `https://v3.fal.media/files/bench/${n}.jpg` }] },
    outputs: [{ url: `https://v3.fal.media/files/bench/${n}.jpg`, path, mime: 'image/jpeg' }],
    attempts: { submit: 1, poll: 1, errors: 0 },
  };
}

/** Runs the CLI under GNU time: wall seconds, peak RSS in MB, and stdout. */
async function timed(cli, args, env) {
  const started = performance.now();
  const out = await run(TIME, ['-f', 'maxrss=%M', process.execPath, cli, ...args], { env });
  const seconds = (performance.now() - started) / 1000;
  const match = /maxrss=(\d+)/.exec(out.stderr);
  if (!match) throw new Error(`no peak RSS from ${TIME}: ${out.stderr.slice(-500)}`);
  if (out.code !== 0)
    throw new Error(`falai ${args.join(' ')} exited ${out.code}: ${out.stderr.slice(-800)}`);
  return { seconds, rssMb: Number(match[1]) / 1024, stdout: out.stdout };
}

/** @param {{ quick: boolean, repoRoot: string, tmpDir: string }} ctx */
export default async function gallery(ctx) {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed to measure peak RSS`);
  const count = ctx.quick ? 200 : 1000;
  const cli = join(ctx.repoRoot, 'apps/cli/bin/run.js');
  const outputs = join(ctx.tmpDir, 'falai-output');
  await mkdir(outputs, { recursive: true });

  // Real JPEGs: a few distinct 640×480 images (blurred noise: detail like a photo's), copied.
  const sharpPath = createRequire(join(ctx.repoRoot, 'packages/gallery/package.json')).resolve(
    'sharp',
  );
  const { default: sharp } = await import(pathToFileURL(sharpPath).href);
  const bases = [];
  for (let b = 0; b < 8; b++) {
    const noise = Buffer.alloc(640 * 480 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = ((i + b * 7919) * 2654435761) >>> 24;
    const path = join(ctx.tmpDir, `base-${b}.jpg`);
    await sharp(noise, { raw: { width: 640, height: 480, channels: 3 } })
      .blur(1.5)
      .jpeg({ quality: 80 })
      .toFile(path);
    bases.push(path);
  }
  const records = [];
  for (let n = 0; n < count; n++) {
    const path = join(outputs, `out-${n}-0.jpg`);
    await copyFile(bases[n % bases.length], path);
    records.push(record(n, path));
  }
  const averageKb = (await stat(bases[0])).size / 1024;

  const storePath = join(ctx.tmpDir, 'pending.json');
  const { createFileStore } = await importRepo(ctx.repoRoot, 'packages/store-file/dist/index.js');
  const store = createFileStore({ path: storePath });
  await store.putMany(records.slice(0, count - 10));
  const env = {
    ...process.env,
    HOME: ctx.tmpDir,
    XDG_STATE_HOME: join(ctx.tmpDir, 'state'),
    XDG_CONFIG_HOME: join(ctx.tmpDir, 'config'),
    FALAI_STORE: `file:${storePath}`,
    FAL_KEY: KEY,
  };
  const site = join(ctx.tmpDir, 'site');
  const args = ['gallery', '--out', site, '--json'];

  const baseline = await timed(cli, ['--version'], env);
  const cold = await timed(cli, args, env);
  const coldSummary = JSON.parse(cold.stdout);
  const warm = await timed(cli, args, env);
  const warmSummary = JSON.parse(warm.stdout);
  await store.putMany(records.slice(count - 10));
  await store.close();
  const more = await timed(cli, args, env);
  const moreSummary = JSON.parse(more.stdout);
  const htmlKb = (await readFile(join(site, 'index.html'))).length / 1024;

  const rows = [
    ['falai --version (baseline)', '-', '-', round(baseline.seconds, 2), round(baseline.rssMb, 0)],
    [
      'cold build',
      count - 10,
      `${coldSummary.copied} / ${coldSummary.thumbnails}`,
      round(cold.seconds, 2),
      round(cold.rssMb, 0),
    ],
    [
      'rebuild, nothing changed',
      count - 10,
      `${warmSummary.copied} / ${warmSummary.thumbnails}`,
      round(warm.seconds, 2),
      round(warm.rssMb, 0),
    ],
    [
      'rebuild, 10 new outputs',
      count,
      `${moreSummary.copied} / ${moreSummary.thumbnails}`,
      round(more.seconds, 2),
      round(more.rssMb, 0),
    ],
  ];
  return {
    title: 'Gallery build',
    description:
      `\`falai gallery\` on a file store of completed records, each with a real 640×480 JPEG ` +
      `(~${round(averageKb, 0)} KB) that gets a WebP thumbnail; every tenth is made from an ` +
      `earlier output. Wall time includes the CLI's start-up; peak RSS is GNU time's %M. ` +
      `The page for ${count} outputs is ${round(htmlKb, 0)} KB (everything inline).`,
    columns: ['run', 'outputs', 'copied / thumbnails', 'seconds', 'peak RSS (MB)'],
    rows,
    targets: [
      {
        name: 'every output on the page',
        target: `${count} cards, ${count} files`,
        measured: `${moreSummary.items} cards, ${moreSummary.files} files`,
        pass: moreSummary.items === count && moreSummary.files === count,
      },
      {
        name: 'a rebuild redoes nothing that did not change',
        target: '0 copied, 0 thumbnails; then 10 and 10',
        measured: `${warmSummary.copied}/${warmSummary.thumbnails}; then ${moreSummary.copied}/${moreSummary.thumbnails}`,
        pass:
          warmSummary.copied === 0 &&
          warmSummary.thumbnails === 0 &&
          moreSummary.copied === 10 &&
          moreSummary.thumbnails === 10,
      },
    ],
    notes:
      'Report-only for speed and memory: no target on seconds or MB yet. Thumbnails are made ' +
      '4 at a time with sharp; media are hard-linked into the site when on one file system.',
  };
}
