#!/usr/bin/env node
// Runs one of the heavier suites that `pnpm test` leaves out and ends with the plain line
// "tests: N passed, N failed, N skipped".
//   node scripts/run-suite.mjs reliability   -> tests/reliability (pnpm test:reliability)
//   node scripts/run-suite.mjs openclaw      -> apps/openclaw-skill integration (pnpm test:openclaw)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const suites = {
  reliability: { dir: 'tests/reliability', config: 'vitest.config.ts' },
  openclaw: { dir: 'apps/openclaw-skill', config: 'vitest.openclaw.config.ts' },
};
const name = process.argv[2];
const suite = suites[name];
if (!suite) {
  console.error(`usage: run-suite.mjs <${Object.keys(suites).join('|')}>`);
  process.exit(2);
}
const report = join(suite.dir, '.suite-result.json');
rmSync(report, { force: true });
const run = spawnSync(
  'pnpm',
  [
    'exec',
    'vitest',
    'run',
    '--config',
    suite.config,
    '--reporter=default',
    '--reporter=json',
    '--outputFile.json=.suite-result.json',
    ...process.argv.slice(3),
  ],
  { cwd: suite.dir, stdio: 'inherit', env: process.env },
);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests > 0 ? r.numFailedTests : (r.numFailedTestSuites ?? 0);
  skipped = r.numPendingTests + (r.numTodoTests ?? 0);
} else {
  console.error(`no report from the ${name} suite`);
  failed = 1;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
