import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchRecords, failureRetryable, type PendingRecord } from '@falai/core';
import { type FaultAction, RANDOM_FAILURES } from '@falai/emulator';
import { describe, expect, it } from 'vitest';
import {
  type CliRun,
  cliBin,
  cliEnv,
  keepEmulatorLog,
  openSpec,
  runCli,
  startFal,
  storeSpec,
  workDir,
} from './helpers.js';

const ENDPOINT = 'fal-ai/nano-banana-pro';
const ROWS = 300;
/** Where a row may end: anything else ("not-submitted", "over-budget") was left undone. */
const FINAL = new Set(['completed', 'failed', 'unknown']);
const FAULTS: FaultAction[] = [
  ...RANDOM_FAILURES,
  // Submit only: the job is queued, then the connection breaks before the answer.
  { type: 'drop-after-accept' },
];

interface ManifestLine {
  readonly row: number;
  readonly key: string;
  readonly status: string;
  readonly requestId?: string;
  readonly submitted: boolean;
}

/** The prompt a record was submitted with (its stored input summary). */
function promptOf(record: PendingRecord | undefined): string {
  return String(record?.input?.fields.prompt);
}

function manifest(path: string): ManifestLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ManifestLine);
}

/**
 * `falai batch run …` that gets SIGINT once `rows` rows have finished (read from its NDJSON
 * progress on stderr), then runs to its end.
 */
function runInterrupted(args: readonly string[], env: NodeJS.ProcessEnv, rows: number) {
  return new Promise<CliRun & { interruptedAt: number }>((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin(), ...args], {
      env,
      cwd: workDir('batch'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interruptedAt = -1;
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (interruptedAt >= 0) return;
      const finished = stderr.split('\n').filter((line) => line.includes('"type":"row"')).length;
      if (finished >= rows) {
        interruptedAt = finished;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      writeFileSync(join(workDir('outputs'), `batch-interrupted-${process.pid}.out`), stdout);
      writeFileSync(join(workDir('outputs'), `batch-interrupted-${process.pid}.err`), stderr);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, interruptedAt });
    });
  });
}

/**
 * A 300-row CSV batch against a fal whose every fifth call fails (429 with Retry-After, 5xx,
 * dropped connections, submits accepted and then dropped), run the way a user would: started,
 * stopped with Ctrl-C part way, started again until it ends, and then once more.
 *
 * - The resumed run accounts for every row: its manifest has 300 distinct rows, each with a
 *   final status, and none `unknown`: a submit whose answer was lost (fal may have taken it)
 *   is found in fal's request history and followed, or sent again once the history shows it
 *   never arrived (`--lost-submit-grace`).
 * - Across all the runs no row is submitted twice: the emulator holds at most one job per row
 *   (matched by the row's prompt), except a row whose earlier request ended failed for a
 *   reason worth retrying (core's `failureRetryable`), which may have one more.
 * - The last run, with the faults turned off, submits nothing new: the emulator's log gains
 *   exactly as many submits as there were rows whose last request failed retryably, or that
 *   fal refused on every try (the only rows a re-run may submit again), each for one of those
 *   rows; with none, zero submits.
 */
describe('batch: 300 rows, 20% of calls fail, Ctrl-C midway', () => {
  it('accounts for every row, loses nothing to the interrupt, and a re-run submits nothing new', async () => {
    const seed = Number(process.env.FALAI_RELIABILITY_SEED ?? Date.now() % 1_000_000);
    // About faults and resuming, not fal's per-account limit: 40 at once (fal's top tier), and
    // short jobs, so the whole batch takes seconds.
    const emulator = await startFal({ seed, concurrency: 40 });
    emulator.setModel(ENDPOINT, {
      queueMs: [0, 20],
      runMs: [20, 200],
      output: { images: [{ url: `${emulator.url}/files/out.png`, content_type: 'image/png' }] },
    });
    const removeFaults = emulator.inject({
      match: { kind: ['submit', 'status', 'stream', 'result'] },
      probability: 0.2,
      action: { type: 'one-of', actions: FAULTS },
    });
    const dir = workDir('batch');
    const spec = storeSpec('sqlite', 'batch');
    const env = cliEnv({ FALAI_STORE: spec, FALAI_BASE_URL: emulator.url });
    const prompts = Array.from({ length: ROWS }, (_, i) => `catalogue item ${i}`);
    writeFileSync(
      join(dir, 'rows.csv'),
      `id,prompt\n${prompts.map((prompt, i) => `item-${i},${prompt}`).join('\n')}\n`,
    );
    const jobsPerPrompt = () => {
      const count = new Map<string, number>();
      for (const job of emulator.jobs()) {
        const prompt = (job.input as { prompt: string }).prompt;
        count.set(prompt, (count.get(prompt) ?? 0) + 1);
      }
      return count;
    };
    const submitCalls = () => emulator.log.filter((entry) => entry.kind === 'submit').length;
    try {
      const planned = await runCli(
        ['batch', 'plan', 'rows.csv', '--model', ENDPOINT, '--out', 'rows.plan.json', '--json'],
        { cwd: dir, env },
      );
      expect(planned.code, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout) as { hash: string; rows: number };
      expect(plan.rows).toBe(ROWS);
      const run = (name: string) => [
        'batch',
        'run',
        'rows.plan.json',
        '--concurrency',
        '24',
        // fal's history (the emulator's) shows a request at once: a submit it never got is
        // known as such after a few seconds.
        '--lost-submit-grace',
        '3s',
        '--manifest',
        name,
        '--json',
      ];

      // 1. Ctrl-C once about a fifth of the rows have finished.
      const first = await runInterrupted(run('first.jsonl'), env, ROWS / 5);
      expect(first.interruptedAt, first.stderr.slice(-2000)).toBeGreaterThan(0);
      expect(first.code, first.stderr.slice(-2000)).not.toBe(0);
      const stopped = manifest(join(dir, 'first.jsonl'));
      const notSubmitted = stopped.filter((line) => line.status === 'not-submitted').length;
      expect(notSubmitted, `seed ${seed}`).toBeGreaterThan(0);

      // 2. Started again: it ends, with every row accounted for.
      const second = await runCli(run('second.jsonl'), { cwd: dir, env, timeoutMs: 150_000 });
      expect([0, 6], second.stderr.slice(-2000)).toContain(second.code);
      const resumed = manifest(join(dir, 'second.jsonl'));
      expect(resumed).toHaveLength(ROWS);
      expect(new Set(resumed.map((line) => line.row)).size).toBe(ROWS);
      expect(new Set(resumed.map((line) => line.key)).size).toBe(ROWS);
      const unfinished = resumed.filter((line) => !FINAL.has(line.status));
      expect(unfinished, `seed ${seed}`).toEqual([]);
      const summary = JSON.parse(second.stdout) as { counts: Record<string, number> };
      expect(summary.counts.completed, `seed ${seed}`).toBeGreaterThan(ROWS / 2);
      // A submit whose answer was lost is looked for in fal's request history (the emulator's)
      // and followed, or sent again once the history shows fal never got it: none stays unknown.
      expect(
        resumed.filter((line) => line.status === 'unknown'),
        `seed ${seed}`,
      ).toEqual([]);

      // No row submitted twice across both runs (unless its request failed retryably).
      const store = await openSpec(spec);
      let retryable: PendingRecord[];
      try {
        const byRow = await batchRecords(store, { hash: plan.hash, endpointId: ENDPOINT });
        retryable = [...byRow.values()]
          .map((records) => records.at(-1) as PendingRecord)
          .filter((record) => failureRetryable(record));
        const mayRepeat = new Set(
          [...byRow.values()]
            .filter((records) => records.slice(0, -1).some((record) => failureRetryable(record)))
            .map((records) => promptOf(records[0])),
        );
        const twice = [...jobsPerPrompt()].filter(([prompt, n]) => n > 1 && !mayRepeat.has(prompt));
        expect(twice, `seed ${seed}`).toEqual([]);
        // Every completed row's record holds the emulator's output for its one job.
        for (const line of resumed.filter((entry) => entry.status === 'completed')) {
          const record = await store.get(line.requestId as string);
          expect(record?.status).toBe('completed');
          expect(record?.result).toEqual(emulator.job(line.requestId as string)?.output);
        }
      } finally {
        await store.close();
      }

      // 3. Once more, faults off: only rows whose last request failed retryably are sent.
      removeFaults();
      const before = submitCalls();
      const jobsBefore = emulator.jobs().length;
      const third = await runCli(run('third.jsonl'), { cwd: dir, env });
      expect([0, 6], third.stderr.slice(-2000)).toContain(third.code);
      // Rows fal refused on every try (429s, 5xx from its gateway) have no record and no claim:
      // the next run sends them.
      const refused = resumed
        .filter((line) => line.status === 'failed' && line.requestId === undefined)
        .map((line) => `catalogue item ${line.row - 1}`);
      const expected = [...retryable.map((record) => promptOf(record)), ...refused];
      expect(submitCalls() - before, `seed ${seed}`).toBe(expected.length);
      const resent = emulator
        .jobs()
        .slice(jobsBefore)
        .map((job) => (job.input as { prompt: string }).prompt);
      expect(resent.sort()).toEqual(expected.sort());
      expect(JSON.parse(third.stdout).submitted).toBe(expected.length);
      const last = manifest(join(dir, 'third.jsonl'));
      expect(new Set(last.map((line) => line.row)).size).toBe(ROWS);
      expect(last.every((line) => FINAL.has(line.status))).toBe(true);

      // The faults really happened, on submits too.
      const faulted = emulator.log.filter((entry) => entry.fault);
      expect(faulted.some((entry) => entry.kind === 'submit')).toBe(true);
      console.info(
        `batch: seed ${seed}, interrupted after ${first.interruptedAt} rows (${notSubmitted} not submitted), ` +
          `${JSON.stringify(summary.counts)}, ${faulted.length} faulted calls, ${retryable.length} retryable`,
      );
    } finally {
      keepEmulatorLog(emulator, 'batch');
      await emulator.close();
    }
  });
});
