import { describe, expect, it } from 'vitest';
import {
  cliEnv,
  keepEmulatorLog,
  openSpec,
  redisAvailable,
  runCliBatch,
  type StoreKind,
  startFal,
  storeSpec,
} from './helpers.js';

const ENDPOINT = 'fal-ai/nano-banana-pro';
const PROCESSES = 8;
const PER_PROCESS = 50;
const hasRedis = await redisAvailable();

/**
 * Eight processes each run fifty `falai submit` commands at once into one store: the store
 * must end with exactly one record per accepted request, and the emulator must have seen
 * exactly one submit per command (no lost writes, no duplicate submits).
 */
describe('concurrency: 8 processes × 50 falai submit', () => {
  for (const kind of ['file', 'sqlite', 'redis'] as StoreKind[]) {
    it.skipIf(kind === 'redis' && !hasRedis)(
      `${kind} store ends with exactly 400 records`,
      async () => {
        // fal's own per-account limit (2 running per key) stays: the test is about submits and
        // store writes, and never waits for the 398 jobs left IN_QUEUE.
        const emulator = await startFal({ defaultLatency: { queueMs: 0, runMs: 10_000 } });
        emulator.setModel(ENDPOINT, { output: { images: [] } });
        const spec = storeSpec(kind, `concurrency-${kind}`);
        const env = cliEnv({ FALAI_STORE: spec, FALAI_BASE_URL: emulator.url });
        try {
          const batches = await Promise.all(
            Array.from({ length: PROCESSES }, (_, p) =>
              runCliBatch(
                Array.from({ length: PER_PROCESS }, (_, i) => [
                  'submit',
                  ENDPOINT,
                  JSON.stringify({ prompt: `p${p}-i${i}` }),
                  '--json',
                ]),
                env,
                `concurrency-${kind}-${p}`,
              ),
            ),
          );
          const runs = batches.flatMap((b) => b.runs);
          expect(runs).toHaveLength(PROCESSES * PER_PROCESS);
          const failed = runs.filter((r) => r.code !== 0);
          expect(failed.map((r) => r.stdout.slice(0, 300))).toEqual([]);
          const printedIds = runs.map((r) => JSON.parse(r.stdout).requestId as string);
          expect(new Set(printedIds).size).toBe(PROCESSES * PER_PROCESS);

          const submits = emulator.log.filter((e) => e.kind === 'submit');
          expect(submits).toHaveLength(PROCESSES * PER_PROCESS);
          expect(submits.every((e) => e.status === 200)).toBe(true);
          const accepted = new Set(submits.map((e) => e.requestId));
          expect(accepted.size).toBe(PROCESSES * PER_PROCESS);

          const store = await openSpec(spec);
          try {
            const records = await store.list();
            expect(records).toHaveLength(PROCESSES * PER_PROCESS);
            const ids = new Set(records.map((r) => r.requestId));
            expect(ids.size).toBe(PROCESSES * PER_PROCESS);
            for (const id of ids) expect(accepted.has(id)).toBe(true);
            const prompts = new Set(records.map((r) => r.input?.fields.prompt));
            expect(prompts.size).toBe(PROCESSES * PER_PROCESS);
          } finally {
            await store.close();
          }
        } finally {
          keepEmulatorLog(emulator, `concurrency-${kind}`);
          await emulator.close();
        }
      },
    );
  }
});
