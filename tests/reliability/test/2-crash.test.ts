import { join } from 'node:path';
import { completeLines, runNode } from '@falai/store-conformance';
import { describe, expect, it } from 'vitest';
import { openSpec, prng, storeSpec } from './helpers.js';

const ROUNDS = 50;

/** Runs the writer, kills it after `killAfterMs`, resolves with the acknowledged lines. */
async function writeUntilKilled(
  kind: string,
  path: string,
  first: number,
  killAfterMs: number,
): Promise<{ put: string[]; updated: string[]; exit: string }> {
  const writer = join(import.meta.dirname, 'fixtures', 'crash-writer.mjs');
  const run = await runNode(writer, [kind, path, String(first)], { timeoutMs: killAfterMs });
  if (run.signal !== 'SIGKILL' && run.code !== 0) {
    throw new Error(`writer failed (${run.code}): ${run.stderr}`);
  }
  const lines = completeLines(run.stdout);
  const put = lines.filter((l) => l.startsWith('put ')).map((l) => l.slice(4));
  const updated = lines.filter((l) => l.startsWith('upd ')).map((l) => l.slice(4));
  return { put, updated, exit: run.signal ?? String(run.code) };
}

/**
 * A writer is killed with SIGKILL at random moments (during start-up, mid-write, between
 * writes), 50 rounds on the same store: the store must always open, and every write that was
 * acknowledged before the kill must be there.
 */
describe('crash: SIGKILL at random points', () => {
  for (const kind of ['file', 'sqlite'] as const) {
    it(`${kind} store survives ${ROUNDS} kills with every acknowledged write`, async () => {
      const seed = Number(process.env.FALAI_RELIABILITY_SEED ?? Date.now() % 1_000_000);
      const random = prng(seed);
      const spec = storeSpec(kind, `crash-${kind}`);
      const path = spec.slice(spec.indexOf(':') + 1);
      const acknowledgedPut = new Set<string>();
      const acknowledgedUpdate = new Set<string>();
      let next = 0;
      let killedMidRun = 0;
      let roundsWithWrites = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const killAfter = 60 + Math.floor(random() * (kind === 'file' ? 1500 : 500));
        const result = await writeUntilKilled(kind, path, next, killAfter);
        if (result.exit === 'SIGKILL') killedMidRun++;
        if (result.put.length > 0) roundsWithWrites++;
        for (const id of result.put) acknowledgedPut.add(id);
        for (const id of result.updated) acknowledgedUpdate.add(id);
        // The next writer starts past anything this one may have begun writing.
        next += 5000;

        const store = await openSpec(spec);
        try {
          const records = await store.list();
          const byId = new Map(records.map((r) => [r.requestId, r]));
          const context = `seed ${seed}, round ${round}, killed after ${killAfter} ms`;
          const lost = [...acknowledgedPut].filter((id) => !byId.has(id));
          expect(lost, `acknowledged puts lost (${context})`).toEqual([]);
          const reverted = [...acknowledgedUpdate].filter(
            (id) => byId.get(id)?.status !== 'running',
          );
          expect(reverted, `acknowledged updates lost (${context})`).toEqual([]);
        } finally {
          await store.close();
        }
      }
      expect(killedMidRun).toBeGreaterThan(ROUNDS / 2);
      expect(acknowledgedPut.size, `no write was ever acknowledged (seed ${seed})`).toBeGreaterThan(
        0,
      );
      // A kill must not wedge the store: a lock left behind by a killed writer is broken
      // once stale, so a new writer gets through (within the lock timeout).
      const store = await openSpec(spec);
      try {
        const { newPendingRecord } = await import('@falai/core/internal');
        await store.put(
          newPendingRecord({ requestId: 'crash-final', endpointId: 'fal-ai/nano-banana-pro' }),
        );
        expect((await store.get('crash-final'))?.requestId).toBe('crash-final');
      } finally {
        await store.close();
      }
      console.info(
        `${kind}: seed ${seed}, ${killedMidRun} kills mid-run, ${roundsWithWrites} rounds wrote, ` +
          `${acknowledgedPut.size} acknowledged records`,
      );
    });
  }
});
