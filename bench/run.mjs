#!/usr/bin/env node
// `pnpm bench`: runs every scenario in bench/scenarios against the emulator on 127.0.0.1
// and writes bench/results/latest.md and latest.json. Figures are ratios measured side by
// side in one run: absolute times on shared machines are noise. Exits 1 when a target is
// missed or a scenario fails, so a regression cannot pass unnoticed.
//
// Usage: node bench/run.mjs [--quick] [scenario ...]
// A run of some scenarios or with --quick (smaller counts) prints its tables and checks its
// targets but leaves bench/results alone: those files hold one full run.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));

const files = readdirSync(join(here, 'scenarios'))
  .filter((f) => f.endsWith('.mjs'))
  .sort();
const selected = files.filter((f) => only.length === 0 || only.includes(f.replace(/\.mjs$/, '')));
if (selected.length === 0) {
  console.error(`no scenario matches ${only.join(', ')}; available: ${files.join(', ')}`);
  process.exit(2);
}

const tmpRoot = mkdtempSync(join(tmpdir(), 'falai-bench-'));
const ctx = {
  quick,
  tmpDir: tmpRoot,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  repoRoot: join(here, '..'),
};

const results = [];
let failedTargets = 0;
try {
  for (const file of selected) {
    const name = file.replace(/\.mjs$/, '');
    process.stderr.write(`bench: ${name} …\n`);
    const started = Date.now();
    const mod = await import(pathToFileURL(join(here, 'scenarios', file)).href);
    const scenarioDir = join(tmpRoot, name);
    mkdirSync(scenarioDir, { recursive: true });
    try {
      const out = await mod.default({ ...ctx, tmpDir: scenarioDir });
      results.push({ name, seconds: (Date.now() - started) / 1000, ...out });
      for (const t of out.targets ?? []) if (!t.pass) failedTargets++;
      printTable(out);
    } catch (error) {
      process.stderr.write(`bench: ${name} failed: ${error?.stack ?? error}\n`);
      results.push({ name, error: String(error?.message ?? error) });
      failedTargets++;
    }
  }
} finally {
  rmSync(tmpRoot, { recursive: true, force: true });
}

const machine = {
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
};
const stamp = new Date().toISOString();
if (quick || only.length > 0) {
  process.stderr.write(
    'bench: partial run (--quick or named scenarios): bench/results left as is\n',
  );
} else {
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(
    join(here, 'results', 'latest.json'),
    `${JSON.stringify({ date: stamp, quick, machine, results }, null, 2)}\n`,
  );
  writeFileSync(join(here, 'results', 'latest.md'), renderMarkdown(stamp, machine, results));
  process.stderr.write(`bench: wrote bench/results/latest.md and latest.json\n`);
}
if (failedTargets > 0) {
  process.stderr.write(`bench: ${failedTargets} target(s) missed or scenario(s) failed\n`);
  process.exitCode = 1;
} else {
  process.stderr.write('bench: every target met\n');
}

function printTable(out) {
  console.log(`\n## ${out.title}`);
  console.log(out.columns.join('\t'));
  for (const row of out.rows) console.log(row.join('\t'));
  for (const t of out.targets ?? [])
    console.log(
      `target ${t.name}: ${t.target} — measured ${t.measured} ${t.pass ? 'PASS' : 'MISS'}`,
    );
}

function renderMarkdown(date, m, all) {
  const lines = [
    '# falai benchmark results',
    '',
    `Produced by \`pnpm bench${quick ? ' --quick' : ''}\` on ${date} (Node ${m.node}, ${m.cpus} cores, ${m.memoryGiB} GiB).`,
    'Every scenario runs against the local emulator on 127.0.0.1; contenders run side by side in the same run.',
    '',
  ];
  for (const r of all) {
    lines.push(`## ${r.title ?? r.name}`, '');
    if (r.error) {
      lines.push(`Failed: ${r.error}`, '');
      continue;
    }
    if (r.description) lines.push(r.description, '');
    lines.push(`| ${r.columns.join(' | ')} |`, `| ${r.columns.map(() => '---').join(' | ')} |`);
    for (const row of r.rows) lines.push(`| ${row.join(' | ')} |`);
    lines.push('');
    if (r.targets?.length) {
      lines.push('| target | wanted | measured | |', '| --- | --- | --- | --- |');
      for (const t of r.targets)
        lines.push(
          `| ${t.name} | ${t.target} | ${t.measured} | ${t.pass ? 'met' : '**missed**'} |`,
        );
      lines.push('');
    }
    if (r.notes) lines.push(r.notes, '');
  }
  return `${lines.join('\n')}\n`;
}
