import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BundledWorker,
  bundleWorker,
  minimalRecord,
  useTempDir,
} from '@falai/store-conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommitPoint, createFileStore } from '../src/index.js';

let worker: BundledWorker | undefined;
beforeAll(async () => {
  worker = await bundleWorker(join(import.meta.dirname, 'stall-worker.ts'));
}, 60_000);
afterAll(() => worker?.dispose());

/** Starts the stall worker; resolves `stopped` once it printed `paused` (and stopped itself). */
function startStalledWriter(path: string, requestId: string, point: CommitPoint) {
  const child = spawn(process.execPath, [(worker as BundledWorker).file, path, requestId, point], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let onPaused: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => {
    onPaused = resolve;
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.includes('paused\n')) onPaused?.();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, stopped, exited };
}

/**
 * A writer frozen right before its commit for longer than the stale-lock period loses its
 * lock; a long-lived store user breaks it and writes. When the frozen writer resumes it must
 * redo its change from the current file: every acknowledged write of both survives.
 */
describe('file store: a writer paused before its commit never overwrites a newer write', () => {
  const tmp = useTempDir('store-file-stall');

  for (const point of ['snapshot', 'journal'] as const) {
    it(`paused before its ${point === 'snapshot' ? 'rename' : 'journal append'}`, async () => {
      const path = join(tmp.dir, `${point}.json`);
      // The long-lived user: it has read and written the file before the writer starts.
      const user = createFileStore({ path, lockStaleMs: 2_000 });
      const early = Array.from({ length: 20 }, (_, n) =>
        minimalRecord({ requestId: `early-${n}`, status: 'running' }),
      );
      for (const record of early) await user.put(record);
      expect(await user.list()).toHaveLength(20);

      const writer = startStalledWriter(path, `stalled-${point}`, point);
      await writer.stopped;
      // The writer holds the lock and is frozen; these wait for its lock to go stale, break
      // it, and are acknowledged while the writer still holds its stale change.
      const during = minimalRecord({ requestId: `during-${point}` });
      await user.put(during);
      const finalised = await user.update(
        'early-3',
        { status: 'completed', result: { by: 'user' } },
        { status: 'running' },
      );
      expect(finalised.kind).toBe('updated');
      await user.remove('early-7');

      writer.child.kill('SIGCONT');
      const run = await writer.exited;

      // Every write the user was told is done is still there…
      const check = createFileStore({ path });
      const ids = (await check.list()).map((r) => r.requestId);
      const acknowledged = [
        ...early.map((r) => r.requestId).filter((id) => id !== 'early-7'),
        during.requestId,
      ];
      expect(acknowledged.filter((id) => !ids.includes(id))).toEqual([]);
      expect(ids).not.toContain('early-7');
      expect(await check.get('early-3')).toMatchObject({
        status: 'completed',
        result: { by: 'user' },
      });
      // …and the resumed writer redid its put on the current file instead of failing.
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`acked stalled-${point}`);
      expect(ids.sort()).toEqual([...acknowledged, `stalled-${point}`].sort());
      // The long-lived user sees the resumed writer's record too.
      expect(await user.get(`stalled-${point}`)).toBeDefined();
      await check.close();
      await user.close();
    }, 60_000);
  }
});

/**
 * The same for the budget ledger: a reservation frozen right before its change line or its
 * rewrite loses the budget lock to another process's reservation; resumed, it decides again on
 * the current file, and both reservations count.
 */
describe('file store budget: a writer paused before its commit never drops a reservation', () => {
  const tmp = useTempDir('store-file-stall-budget');

  for (const point of ['budget-append', 'budget-rewrite'] as const) {
    it(`paused before its ${point === 'budget-append' ? 'change line' : 'rewrite'}`, async () => {
      const path = join(tmp.dir, `${point}.json`);
      const generation = async () =>
        JSON.parse((await readFile(`${path}.budget`, 'utf8')).split('\n')[0] ?? '').g as string;
      // The long-lived user: it has reserved (and so read the budget file) before the writer.
      const user = createFileStore({ path, lockStaleMs: 2_000 });
      const reserve = (requestKey: string) =>
        user.budget.reserve({
          scope: 'daily:stall',
          window: { endsAt: '2999-01-01T00:00:00.000Z' },
          amountUsd: 0.1,
          capUsd: 100,
          requestKey,
        });
      for (let n = 0; n < 10; n++) expect((await reserve(`early-${n}`)).ok).toBe(true);
      expect(await user.budget.usage('daily:stall')).toEqual({ spentUsd: 0, reservedUsd: 1 });
      const before = await generation();

      const writer = startStalledWriter(path, `stalled-${point}`, point);
      await writer.stopped;
      // The writer holds the budget lock and is frozen: this waits for the lock to go stale,
      // breaks it, and is acknowledged while the writer still holds its stale decision.
      expect((await reserve(`during-${point}`)).ok).toBe(true);

      writer.child.kill('SIGCONT');
      const run = await writer.exited;
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`acked stalled-${point}`);
      // The resumed writer committed the way it was stopped: a rewrite starts a new generation.
      if (point === 'budget-rewrite') expect(await generation()).not.toBe(before);
      else expect(await generation()).toBe(before);

      // Both reservations count, for the long-lived user and for a fresh reader.
      const all = { spentUsd: 0, reservedUsd: 1.2 };
      expect(await user.budget.usage('daily:stall')).toEqual(all);
      const check = createFileStore({ path });
      expect(await check.budget.usage('daily:stall')).toEqual(all);
      await check.close();
      await user.close();
    }, 60_000);
  }
});
