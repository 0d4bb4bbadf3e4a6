import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import {
  AbortedError,
  type ApiError,
  type BatchManifestEntry,
  type BatchRowContext,
  type BudgetCap,
  batchCostStep,
  type CostEstimator,
  type DeferredSignal,
  type FalClient,
  inputHash,
  lostSubmitResolver,
  type ModelRegistry,
  type PendingStore,
  type PlatformClient,
  RateLimitError,
  runBatchRow,
  type SaveSettings,
  toFalaiError,
} from '@falai/core';
import { type Job, WaitingError, Worker } from 'bullmq';
import { type QueuedBatch, readQueuedBatch } from './batch.js';
import { ROW_JOB_ATTEMPTS, type RowJobData } from './enqueue.js';
import { redisIntentJournal } from './intents.js';
import {
  type BatchQueueConnection,
  batchKeys,
  openRedis,
  QUEUE_NAME,
  queuePrefix,
} from './keys.js';

/** Options of {@link startBatchWorker}. */
export interface BatchWorkerOptions {
  readonly connection: BatchQueueConnection;
  /** The store every worker of the batch shares (its claims, records and budget ledger). */
  readonly store: PendingStore;
  readonly client: FalClient;
  readonly registry: ModelRegistry;
  /**
   * fal's Platform API, whose request history finds the request of a row whose worker died
   * between fal's answer and the stored record (or whose POST's answer was lost). Without it
   * such a row ends `unknown` (never submitted twice).
   */
  readonly platform?: PlatformClient;
  /** Prices each row (needed by a batch with a `maxCostUsd`). */
  readonly estimator?: CostEstimator;
  /** This host's budget caps (the config's), reserved by every row beside the batch's cap. */
  readonly budgets?: readonly BudgetCap[];
  /** Rows this worker runs at once (the queue's global limit bounds all workers). @default 8 */
  readonly concurrency?: number;
  /** Download limits of the outputs. */
  readonly settings?: SaveSettings;
  /** Outputs go here instead of the batch's own folder. */
  readonly outDir?: string;
  /** Where relative paths start (the batch's output folder, input files). */
  readonly cwd?: string;
  /**
   * How long a worker that stopped answering (killed, frozen, cut off) holds its rows before
   * another worker takes them over: BullMQ's lock duration, renewed at half of it while the
   * worker lives. @default 30000
   */
  readonly stallTimeoutMs?: number;
  /**
   * How long after a noted submit fal's request history must show it before the row counts as
   * never sent (and is submitted by the worker that took it over). @default 120000
   */
  readonly lostSubmitGraceMs?: number;
  /** Times a row may be taken from a dead worker before its job fails for good. @default 20 */
  readonly maxStalledCount?: number;
  /** Each row this worker finished. */
  readonly onRow?: (event: { readonly batch: string; readonly entry: BatchManifestEntry }) => void;
  /** Errors of the queue itself (connection trouble), not of rows. */
  readonly onError?: (error: Error) => void;
  /**
   * Told at once when SIGINT or SIGTERM arrives while a row's submit holds it back (from its
   * POST until its record is written, which a slow answer can make seconds away): the program's
   * own handler hears it only then. A worker that stops on a signal closes here too, so it
   * takes no more rows meanwhile.
   */
  readonly onInterrupt?: (signal: DeferredSignal) => void;
}

/** A running worker. */
export interface BatchWorker {
  /** Rows this worker finished so far. */
  readonly finished: number;
  /**
   * Stops taking rows and hands back the rows in flight (each waits for a submit already on
   * its way to be recorded, then goes back to the queue for any worker): nothing is lost.
   */
  close(): Promise<void>;
  /** Resolves once closed. */
  readonly closed: Promise<void>;
}

/** How long a worker keeps a batch's plan and settings before reading them again. */
const BATCH_CACHE_MS = 10_000;

/** The abort reason of a row whose worker lost it to another (its lock expired). */
class RowLost extends AbortedError {
  constructor(row: number) {
    super(
      'ABORTED',
      `This worker lost row ${row} to another worker (its lock expired, e.g. the process was frozen): it does not submit it.`,
    );
  }
}

/**
 * Runs rows of every batch enqueued under the connection's prefix through core's row step
 * (`runBatchRow`: claim → submit and record → wait and finalise → save outputs → entry), with
 * BullMQ's queue-level global concurrency limit shared by all workers and stalled-job recovery
 * (a SIGKILLed worker's rows are taken over once its lock expires).
 *
 * Exactly one submit per row, across workers that may be killed at any moment:
 * - the row's claim (`batch-claim:<hash>` in the store's ledger) and its record live in the
 *   shared store; a row taken over finds its record (tags `falai.batch` / `falai.batch.row`)
 *   and waits for it instead of submitting;
 * - before its POST a worker notes the submit in the row's intent journal in Redis (nothing
 *   is sent unnoted) and then checks, atomically on the server, that it still holds the row's
 *   BullMQ lock (extending it: the fence). A worker that took the row over owns the lock, so the one before it can no
 *   longer pass the fence; if it finds a note and no record, the request is looked for in
 *   fal's request history (core's `lostSubmitResolver`: `recoverRequests` by endpoint, input
 *   hash and time) and adopted when found; with no note (and, looked at again, no record: a
 *   slow claimant removes its note only once its record is stored), nothing was sent and
 *   nothing can be any more, so the row is submitted.
 *
 * The one window left: a worker that passed the fence and then stood still (frozen, not
 * killed) for longer than both the stall timeout and `lostSubmitGraceMs` before its POST left,
 * while fal's history never showed the request in that time. Then the worker that took the
 * row over submits it too (the first POST, arriving that late, would be a duplicate). A
 * killed worker cannot send late, so SIGKILL never causes a duplicate. Redis must keep what it
 * acknowledged (a failover to a replica that missed the lock or the note can let two send).
 */
export async function startBatchWorker(options: BatchWorkerOptions): Promise<BatchWorker> {
  const { connection, store } = options;
  const lockDuration = Math.max(1000, options.stallTimeoutMs ?? 30_000);
  const grace = Math.max(0, options.lostSubmitGraceMs ?? 120_000);
  const redis = openRedis(connection);
  // Plans are read once in a while, not per row: a batch enqueued again (new --max-cost, new
  // output folder) reaches every worker within BATCH_CACHE_MS.
  const batches = new Map<string, { at: number; batch: Promise<QueuedBatch | undefined> }>();
  const batchOf = (hash: string) => {
    let found = batches.get(hash);
    if (!found || Date.now() - found.at > BATCH_CACHE_MS) {
      const batch = readQueuedBatch(redis, connection, hash);
      batch.catch(() => batches.delete(hash));
      found = { at: Date.now(), batch };
      batches.set(hash, found);
    }
    return found.batch;
  };
  let closing = false;
  let finished = 0;

  const processRow = async (
    job: Job<RowJobData, BatchManifestEntry>,
    token: string | undefined,
    jobSignal: AbortSignal | undefined,
  ): Promise<BatchManifestEntry> => {
    const controller = new AbortController();
    const stop = () => controller.abort(jobSignal?.reason);
    if (jobSignal?.aborted) stop();
    jobSignal?.addEventListener('abort', stop, { once: true });
    const { batch, index } = job.data;
    try {
      const queued = await batchOf(batch);
      const row = queued?.plan.rows[index];
      if (!queued || !row) {
        throw new AbortedError(
          'ABORTED',
          `Row ${index} of batch ${String(batch).slice(0, 12)} is not in the queue's plan.`,
        );
      }
      const { plan } = queued;
      // The fence: just before the POST, the row's note must be in Redis (core's submit step
      // goes on without one when it cannot write it; here nothing is sent unnoted) and this
      // worker must still hold the row's lock.
      const notes = batchKeys(connection, plan.hash).intents(row.key);
      // This row's submit notes (a worker only ever runs one row of a job).
      const journal = redisIntentJournal(redis, notes);
      const fenced: FalClient = Object.assign(Object.create(options.client) as FalClient, {
        submit: async (...args: Parameters<FalClient['submit']>) => {
          if ((await redis.hlen(notes)) === 0) {
            await journal.record({
              endpointId: args[0],
              inputHash: inputHash(args[1]),
              at: new Date().toISOString(),
              store: store.location,
              reservations: [],
            });
          }
          const held = token ? await job.extendLock(token, lockDuration) : 0;
          if (held !== 1) {
            const lost = new RowLost(row.row);
            controller.abort(lost);
            throw lost;
          }
          return options.client.submit(...args);
        },
      });
      const context: BatchRowContext = {
        plan,
        store,
        client: fenced,
        registry: options.registry,
        costStep: batchCostStep({
          plan,
          ...(queued.maxCostUsd === undefined ? {} : { maxCostUsd: queued.maxCostUsd }),
          ...(options.estimator ? { estimator: options.estimator } : {}),
          ...(options.budgets ? { budgets: options.budgets } : {}),
        }),
        ...((options.outDir ?? queued.outDir) ? { outDir: options.outDir ?? queued.outDir } : {}),
        ...(options.settings ? { settings: options.settings } : {}),
        ...(queued.name ? { name: queued.name } : {}),
        signal: controller.signal,
        abortSubmits: true,
        ...(options.cwd ? { cwd: options.cwd } : {}),
        intents: () => journal,
        // No note means no POST (the fence above), so a row without one may be sent.
        resolveLost: (item, attempt) =>
          lostSubmitResolver({
            plan,
            store,
            journal: () => journal,
            platform: options.platform,
            unnoted: 'not-sent',
            graceMs: grace,
          })(item, attempt, controller.signal),
        ...(options.onInterrupt ? { onInterrupt: options.onInterrupt } : {}),
        onRateLimited: async (error: ApiError) => {
          // fal refused the submit (nothing taken): this row waits as fal asks, then tries again.
          const asked = error instanceof RateLimitError ? error.retryAfterMs : undefined;
          const wait = Math.min(60_000, Math.max(500, asked ?? 1000));
          await delay(wait, undefined, { signal: controller.signal }).catch(() => undefined);
        },
      };
      const entry = await runBatchRow(context, row, { kind: 'submit', attempt: 0 });
      await redis.hset(batchKeys(connection, batch).entries, row.key, JSON.stringify(entry));
      finished += 1;
      options.onRow?.({ batch, entry });
      return entry;
    } catch (error) {
      if (controller.signal.aborted) {
        // Handed back (this worker is stopping) or lost (another worker has it): either way
        // the row is not finished here. A stopping worker still holds the lock and gives the
        // job back at once; a lost one leaves it to its new owner.
        if (closing && !(controller.signal.reason instanceof RowLost) && token) {
          await job.moveToWait(token).catch(() => undefined);
        }
        throw new WaitingError();
      }
      if (job.attemptsMade + 1 < (job.opts.attempts ?? ROW_JOB_ATTEMPTS)) throw error;
      // The last try: the row is accounted for as unknown, with why.
      const falai = toFalaiError(error);
      const queued = await batchOf(batch).catch(() => undefined);
      const row = queued?.plan.rows[index];
      const entry: BatchManifestEntry = {
        row: row?.row ?? index + 1,
        ...(row?.id ? { id: row.id } : {}),
        key: row?.key ?? String(job.id),
        status: 'unknown',
        outputs: [],
        submitted: false,
        error: { code: falai.code, message: falai.message.split('\n')[0] ?? falai.code },
      };
      if (row) {
        await redis.hset(batchKeys(connection, batch).entries, row.key, JSON.stringify(entry));
      }
      return entry;
    } finally {
      jobSignal?.removeEventListener('abort', stop);
    }
  };

  const worker = new Worker<RowJobData, BatchManifestEntry>(QUEUE_NAME, processRow, {
    connection: redis,
    prefix: queuePrefix(connection),
    concurrency: Math.max(1, Math.floor(options.concurrency ?? 8)),
    lockDuration,
    stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
    maxStalledCount: options.maxStalledCount ?? 20,
    name: `${hostname()}:${process.pid}`,
    autorun: false,
  });
  worker.on('error', (error) => options.onError?.(error));
  // A lock that could not be renewed belongs to someone else by now: stop that row here.
  worker.on('lockRenewalFailed', (ids: string[]) => {
    for (const id of ids) worker.cancelJob(id, 'lock lost');
  });
  const running = worker.run();
  await worker.waitUntilReady();
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      worker.cancelAllJobs('worker stopping');
      await worker.close();
      await running.catch(() => undefined);
      redis.disconnect();
    })();
    return closed;
  };
  const done = running.then(
    () => close(),
    () => close(),
  );
  return {
    get finished() {
      return finished;
    },
    close,
    closed: done,
  };
}
