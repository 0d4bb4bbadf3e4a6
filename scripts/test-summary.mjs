// Sums the per-package vitest JSON reports (written by each package's `test`
// script) and prints one plain closing line: "tests: N passed, N failed, N skipped".
// A package that has a test script but left no report counts as one failure.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const group of ['packages', 'apps']) {
  if (!existsSync(group)) continue;
  for (const dir of readdirSync(group)) {
    const pkgFile = join(group, dir, 'package.json');
    if (!existsSync(pkgFile) || !JSON.parse(readFileSync(pkgFile, 'utf8')).scripts?.test) continue;
    const report = join(group, dir, '.vitest-result.json');
    if (!existsSync(report)) {
      console.error(`no test report from ${group}/${dir}`);
      failed++;
      continue;
    }
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    // a file that fails to load has no failed test but a failed suite: count it once
    failed += r.numFailedTests > 0 ? r.numFailedTests : (r.numFailedTestSuites ?? 0);
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
