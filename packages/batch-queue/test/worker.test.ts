import {
  batchClaimScope,
  inputHash,
  MAX_BUDGET_USD,
  MAX_RESERVATION_TTL_MS,
  type PendingStore,
} from '@falai/core';
import type { Emulator } from '@falai/emulator';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  type BatchQueueConnection,
  batchKeys,
  enqueueBatch,
  QUEUE_NAME,
  queuePrefix,
  readBatchProgress,
  redisIntentJournal,
  startBatchWorker,
  watchBatch,
} from '../src/index.js';
import {
  clientFor,
  deletePrefix,
  describeWithRedis,
  ENDPOINT,
  jobsPerPrompt,
  planOf,
  platformFor,
  REDIS_URL,
  registry,
  startFal,
  storeFor,
  testConnection,
} from './helpers.js';

describeWithRedis('batch queue: workers sharing a batch through Redis', () => {
  let emulator: Emulator;
  const cleanup: (() => Promise<unknown>)[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    emulator = await startFal();
  });
  afterEach(async () => {
    emulator.clearFaults();
    while (cleanup.length > 0)
      await cleanup
        .pop()?.()
        .catch(() => undefined);
  });
  afterAll(async () => {
    await emulator.close();
    for (const prefix of prefixes) await deletePrefix(prefix);
  });

  const setup = (label: string) => {
    const connection = testConnection(label);
    prefixes.push(connection.prefix as string);
    const store = storeFor(connection);
    cleanup.push(() => store.close());
    return { connection, store };
  };

  const worker = async (
    connection: BatchQueueConnection,
    store: PendingStore,
    extra: Partial<Parameters<typeof startBatchWorker>[0]> = {},
  ) => {
    const started = await startBatchWorker({
      connection,
      store,
      client: clientFor(emulator),
      registry,
      platform: platformFor(emulator),
      concurrency: 4,
      stallTimeoutMs: 2000,
      lostSubmitGraceMs: 1500,
      ...extra,
    });
    cleanup.push(() => started.close());
    return started;
  };

  it('two workers run every row once within the global limit; enqueueing again adds nothing', async () => {
    const { connection, store } = setup('share');
    const plan = await planOf('share', 40);
    emulator.resetStats();
    const first = await enqueueBatch({ plan, connection, concurrency: 3 });
    expect(first).toMatchObject({ total: 40, queued: 40, completed: 0 });
    // The same batch again while nothing ran: same job ids, nothing new in the queue.
    await enqueueBatch({ plan, connection, concurrency: 3 });
    const redis = new Redis(REDIS_URL);
    cleanup.push(async () => redis.disconnect());
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: queuePrefix(connection) });
    cleanup.push(() => queue.close());
    expect(await queue.getWaitingCount()).toBe(40);

    // Two rows at once per worker, four together: only the queue's limit keeps it to 3.
    const a = await worker(connection, store, { concurrency: 2 });
    const b = await worker(connection, store, { concurrency: 2 });
    const { progress, entries } = await watchBatch({
      connection,
      batch: plan.hash,
      intervalMs: 200,
    });
    expect(progress).toMatchObject({ total: 40, finished: 40, lost: 0 });
    expect(entries.map((entry) => entry.status)).toEqual(Array(40).fill('completed'));
    expect(new Set(entries.map((entry) => entry.row))).toEqual(
      new Set(plan.rows.map((row) => row.row)),
    );
    expect(a.finished + b.finished).toBe(40);
    expect(a.finished).toBeGreaterThan(0);
    expect(b.finished).toBeGreaterThan(0);
    const perPrompt = jobsPerPrompt(emulator);
    for (let i = 0; i < 40; i += 1) expect(perPrompt.get(`share ${i}`)).toBe(1);
    const peak = Math.max(...Object.values(emulator.stats.peakRunning));
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    // Every record carries its batch and row from the submit on.
    const records = await store.list({ endpointId: ENDPOINT });
    expect(records.filter((record) => record.tags?.['falai.batch'] === plan.hash)).toHaveLength(40);

    // A finished batch enqueued again queues nothing and submits nothing.
    const again = await enqueueBatch({ plan, connection });
    expect(again).toMatchObject({ queued: 0, completed: 40 });
    expect(
      emulator
        .jobs()
        .filter((job) => String((job.input as { prompt: string }).prompt).startsWith('share ')),
    ).toHaveLength(40);
  });

  it('enqueueing without a limit keeps the queue’s, and sets the default only when it has none', async () => {
    const { connection } = setup('limit');
    const redis = new Redis(REDIS_URL);
    cleanup.push(async () => redis.disconnect());
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: queuePrefix(connection) });
    cleanup.push(() => queue.close());
    const first = await planOf('limit-a', 2);
    await enqueueBatch({ plan: first, connection, defaultConcurrency: 8 });
    expect(await queue.getGlobalConcurrency()).toBe(8);
    await enqueueBatch({ plan: first, connection, concurrency: 3 });
    expect(await queue.getGlobalConcurrency()).toBe(3);
    // Another batch, no limit given: the operator's 3 stays.
    const second = await planOf('limit-b', 2);
    await enqueueBatch({ plan: second, connection, defaultConcurrency: 8 });
    expect(await queue.getGlobalConcurrency()).toBe(3);
    await expect(
      enqueueBatch({ plan: second, connection, defaultConcurrency: 0 }),
    ).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('a submit whose answer was lost is found in fal’s history, never sent twice', async () => {
    const { connection, store } = setup('lost');
    const plan = await planOf('lost', 6);
    // fal accepts these submits and the connection drops before the answer.
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'drop-after-accept' }, times: 3 });
    await enqueueBatch({ plan, connection, concurrency: 2 });
    await worker(connection, store);
    const { entries } = await watchBatch({ connection, batch: plan.hash, intervalMs: 200 });
    expect(entries.map((entry) => entry.status)).toEqual(Array(6).fill('completed'));
    const perPrompt = jobsPerPrompt(emulator);
    for (let i = 0; i < 6; i += 1) expect(perPrompt.get(`lost ${i}`)).toBe(1);
    const adopted = (await store.list()).filter(
      (record) => record.tags?.recoveredFrom === 'lost-submit',
    );
    expect(adopted).toHaveLength(3);
    for (const record of adopted) expect(record.tags?.['falai.batch']).toBe(plan.hash);
    // Only the rows' own requests were adopted, not every request fal's history holds (the
    // other tests' requests are there too, unknown to this store).
    expect(await store.list()).toHaveLength(6);
    // Every note was resolved.
    const redis = new Redis(REDIS_URL);
    cleanup.push(async () => redis.disconnect());
    for (const row of plan.rows) {
      expect(await redis.hlen(batchKeys(connection, plan.hash).intents(row.key))).toBe(0);
    }
  });

  it('a row claimed by a worker that died after its POST is adopted; one that died before it is sent once', async () => {
    const { connection, store } = setup('died');
    const plan = await planOf('died', 3);
    const [afterPost, beforePost] = plan.rows;
    if (!afterPost || !beforePost) throw new Error('plan too short');
    const ledger = store.budget;
    if (!ledger) throw new Error('no ledger');
    const redis = new Redis(REDIS_URL);
    cleanup.push(async () => redis.disconnect());
    // A worker claimed both rows and noted their submits; it POSTed the first and died before
    // recording it, and died before the POST of the second.
    for (const row of [afterPost, beforePost]) {
      await ledger.reserve({
        scope: batchClaimScope(plan.hash),
        window: { endsAt: Date.now() + MAX_RESERVATION_TTL_MS },
        amountUsd: 0,
        capUsd: MAX_BUDGET_USD,
        requestKey: `${row.key}:0`,
      });
      await redisIntentJournal(redis, batchKeys(connection, plan.hash).intents(row.key)).record({
        endpointId: ENDPOINT,
        inputHash: inputHash(row.input),
        at: new Date().toISOString(),
        store: store.location,
        reservations: [],
      });
    }
    const paid = await clientFor(emulator).submit(ENDPOINT, afterPost.input);

    await enqueueBatch({ plan, connection, concurrency: 2 });
    await worker(connection, store);
    const { entries } = await watchBatch({ connection, batch: plan.hash, intervalMs: 200 });
    expect(entries.map((entry) => entry.status)).toEqual(['completed', 'completed', 'completed']);
    expect(entries[0]?.requestId).toBe(paid.requestId);
    const perPrompt = jobsPerPrompt(emulator);
    expect(perPrompt.get('died 0')).toBe(1);
    expect(perPrompt.get('died 1')).toBe(1);
    expect(perPrompt.get('died 2')).toBe(1);
  });

  it('Ctrl-C held back by a slow submit reaches onInterrupt at once: the worker takes no more rows', async () => {
    const { connection, store } = setup('interrupt');
    const plan = await planOf('interrupt', 30);
    await enqueueBatch({ plan, connection, concurrency: 2 });
    const submitted = () => emulator.log.filter((entry) => entry.kind === 'submit').length;
    // The first POST takes 1.5 s: its submit holds Ctrl-C back until its id is recorded.
    const before = submitted();
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'delay', ms: 1500 }, times: 1 });
    const heard: string[] = [];
    const programHeard: string[] = [];
    const onSigint = () => programHeard.push('SIGINT');
    process.on('SIGINT', onSigint);
    let atSignal = -1;
    try {
      let finished = 0;
      const started: { close(): Promise<void> }[] = [];
      const first = await worker(connection, store, {
        concurrency: 2,
        onInterrupt: (signal) => {
          heard.push(signal);
          void started[0]?.close();
        },
        onRow: () => {
          finished += 1;
          if (finished === 3 && atSignal < 0) {
            atSignal = submitted();
            process.kill(process.pid, 'SIGINT');
          }
        },
      });
      started.push(first);
      await first.closed;
      expect(atSignal).toBeGreaterThan(before);
      // Each submit open when it came hears it (the one it reached, then the one it passed to).
      expect(heard.length).toBeGreaterThan(0);
      expect(new Set(heard)).toEqual(new Set(['SIGINT']));
      // The program hears it too, once the held submit is recorded (raised again at this
      // process when no submit holds it any more: delivered a moment later).
      for (let waited = 0; programHeard.length === 0 && waited < 5000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(programHeard).toEqual(['SIGINT']);
      // No row taken after the signal beyond the one the free slot was submitting.
      expect(submitted() - atSignal).toBeLessThanOrEqual(1);
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
    // Another worker finishes the batch, nothing sent twice (the held row was recorded).
    await worker(connection, store, { concurrency: 4 });
    const { entries } = await watchBatch({ connection, batch: plan.hash, intervalMs: 200 });
    expect(entries.map((entry) => entry.status)).toEqual(Array(30).fill('completed'));
    const perPrompt = jobsPerPrompt(emulator);
    for (let i = 0; i < 30; i += 1) expect(perPrompt.get(`interrupt ${i}`)).toBe(1);
  });

  it('the fence: a worker whose lock went just before its POST sends nothing; the row is sent once, later', async () => {
    const { connection, store } = setup('fence');
    const plan = await planOf('fence', 1);
    await enqueueBatch({ plan, connection, concurrency: 1 });
    const redis = new Redis(REDIS_URL);
    cleanup.push(async () => redis.disconnect());
    const lockPattern = `${queuePrefix(connection)}:${QUEUE_NAME}:*:lock`;
    // Core's cost step runs just before the note and the POST: the first time, the row's lock
    // goes there (as when its worker stalled and another took the row over).
    const estimates: number[] = [];
    const estimator = {
      apiUrl: 'http://127.0.0.1:1/v1',
      price: async () => ({ price: null, reason: 'test' }),
      estimate: async () => {
        estimates.push(Date.now());
        if (estimates.length === 1) {
          const locks = await redis.keys(lockPattern);
          expect(locks).toHaveLength(1);
          await redis.del(...locks);
        }
        return { estimate: null, reason: 'test' };
      },
    } as unknown as Parameters<typeof startBatchWorker>[0]['estimator'];
    await worker(connection, store, {
      concurrency: 1,
      stallTimeoutMs: 2000,
      lostSubmitGraceMs: 300,
      ...(estimator ? { estimator } : {}),
    });
    const { entries } = await watchBatch({ connection, batch: plan.hash, intervalMs: 200 });
    expect(entries.map((entry) => entry.status)).toEqual(['completed']);
    expect(jobsPerPrompt(emulator).get('fence 0')).toBe(1);
    // The first try stopped at the fence: its POST never left. The one submit came after the
    // row was taken up again (its lost claim resolved as never sent).
    expect(estimates.length).toBeGreaterThanOrEqual(2);
    const submits = emulator.log.filter(
      (entry) =>
        entry.kind === 'submit' &&
        entry.requestId !== undefined &&
        String((emulator.job(entry.requestId)?.input as { prompt?: string })?.prompt) === 'fence 0',
    );
    expect(submits).toHaveLength(1);
    expect(submits[0]?.time).toBeGreaterThanOrEqual(estimates[1] as number);
  }, 30_000);

  it('a closing worker hands its rows back; another finishes them, each submitted once', async () => {
    const { connection, store } = setup('handback');
    // Jobs long enough that none finishes before the first worker is closed, even on a loaded
    // machine (the worker is closed as soon as all six are at fal).
    const slow = await startFal({ defaultLatency: { queueMs: 0, runMs: 8000 } });
    cleanup.push(() => slow.close());
    const plan = await planOf('handback', 6);
    await enqueueBatch({ plan, connection, concurrency: 6 });
    const first = await startBatchWorker({
      connection,
      store,
      client: clientFor(slow),
      registry,
      platform: platformFor(slow),
      concurrency: 6,
      stallTimeoutMs: 30_000,
    });
    // Wait until its rows are at fal, then stop it.
    while (slow.jobs().length < 6) await new Promise((resolve) => setTimeout(resolve, 50));
    await first.close();
    expect(first.finished).toBe(0);
    const before = await readBatchProgress(connection, plan.hash);
    expect(before).toMatchObject({ finished: 0, running: 0, queued: 6 });
    // A stall timeout of 30 s: only a hand-back (not stall recovery) lets this finish soon.
    const second = await startBatchWorker({
      connection,
      store,
      client: clientFor(slow),
      registry,
      platform: platformFor(slow),
      concurrency: 6,
      stallTimeoutMs: 30_000,
    });
    cleanup.push(() => second.close());
    const { entries } = await watchBatch({ connection, batch: plan.hash, intervalMs: 200 });
    expect(entries.map((entry) => entry.status)).toEqual(Array(6).fill('completed'));
    expect(entries.every((entry) => entry.submitted === false)).toBe(true);
    expect(slow.jobs()).toHaveLength(6);
  });
});
