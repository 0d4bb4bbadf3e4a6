// Helpers shared by the bench scenarios (kept out of bench/scenarios, where every .mjs file
// is run as a scenario).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Imports a built workspace module by its path from the repository root. */
export function importRepo(repoRoot, relative) {
  return import(pathToFileURL(join(repoRoot, relative)).href);
}

/** The q-quantile (0..1) of numbers, nearest-rank on the sorted values. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}

/** The median of numbers. */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall-clock epoch ms with sub-ms precision, the clock the emulator stamps jobs with. */
export function preciseNow() {
  return performance.timeOrigin + performance.now();
}

/** Rounds to `digits` decimals for tables. */
export function round(value, digits = 1) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Runs a command to completion and resolves with its exit code, stdout and stderr (stdout
 * can be discarded for large outputs).
 */
export function run(command, args, { env, cwd, discardStdout = false, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: env ?? process.env,
      stdio: [input === undefined ? 'ignore' : 'pipe', discardStdout ? 'ignore' : 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
    });
    if (input !== undefined) child.stdin.end(input);
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }),
    );
  });
}
