import { type BatchPlan, InputError, verifyPlan } from '@falai/core';
import { Job, Queue } from 'bullmq';
import { type BatchRunSettings, readEntries } from './batch.js';
import {
  BATCH_RETENTION_SECONDS,
  type BatchQueueConnection,
  batchKeys,
  openRedis,
  QUEUE_NAME,
  queuePrefix,
  rowJobId,
} from './keys.js';

/** The data of one row's job. */
export interface RowJobData {
  /** The batch hash. */
  readonly batch: string;
  /** The row's index in the plan's rows. */
  readonly index: number;
}

/** Tries of a row's job after unexpected errors (a store or network outage), with backoff. */
export const ROW_JOB_ATTEMPTS = 5;

/** Options of {@link enqueueBatch}. */
export interface EnqueueBatchOptions extends BatchRunSettings {
  readonly plan: BatchPlan;
  readonly connection: BatchQueueConnection;
  /**
   * Rows in flight at fal across every worker of the queue (BullMQ's global concurrency):
   * fal's concurrency is per account, so the limit is the queue's, not a worker's. Unset: the
   * queue's current limit stays (none at first: see `defaultConcurrency`).
   */
  readonly concurrency?: number;
  /**
   * The limit set when `concurrency` is not given and the queue has none yet, so a first
   * batch never runs unbounded while a later one keeps the limit an operator chose.
   */
  readonly defaultConcurrency?: number;
}

/** What {@link enqueueBatch} did. */
export interface EnqueueBatchResult {
  readonly batch: string;
  readonly endpointId: string;
  readonly total: number;
  /** Rows queued for the workers (new, or finished earlier without completing). */
  readonly queued: number;
  /** Rows finished completed by an earlier run (left as they are). */
  readonly completed: number;
}

/**
 * Enqueues a verified plan's rows as BullMQ jobs (job id = batch hash + row key, so enqueueing
 * twice adds nothing), with the plan and the run settings beside them for the workers, and
 * sets the queue's global concurrency. Rows an earlier run finished without completing
 * (failed, unknown, over budget, not submitted) are queued again: the worker's row step
 * decides from the store what they need (a failure worth retrying is submitted as the next
 * attempt, a claimed row is never submitted twice).
 */
export async function enqueueBatch(options: EnqueueBatchOptions): Promise<EnqueueBatchResult> {
  const { plan, connection } = options;
  verifyPlan(plan);
  const invalid = (value: number | undefined) =>
    value !== undefined && !(Number.isInteger(value) && value >= 1);
  if (invalid(options.concurrency) || invalid(options.defaultConcurrency)) {
    throw new InputError('The concurrency of a batch queue is a whole number from 1.', [
      { path: ['concurrency'], message: 'not a positive integer', kind: 'range' },
    ]);
  }
  const keys = batchKeys(connection, plan.hash);
  const redis = openRedis(connection);
  const queue = new Queue<RowJobData>(QUEUE_NAME, {
    connection: redis,
    prefix: queuePrefix(connection),
  });
  try {
    const meta: Record<string, string> = {
      endpointId: plan.endpointId,
      total: String(plan.rows.length),
      enqueuedAt: new Date().toISOString(),
      ...(options.maxCostUsd === undefined ? {} : { maxCostUsd: String(options.maxCostUsd) }),
      ...(options.outDir ? { outDir: options.outDir } : {}),
      ...(options.name ? { name: options.name } : {}),
    };
    await redis
      .multi()
      .set(keys.plan, JSON.stringify(plan), 'EX', BATCH_RETENTION_SECONDS)
      .del(keys.meta)
      .hset(keys.meta, meta)
      .expire(keys.meta, BATCH_RETENTION_SECONDS)
      .sadd(keys.batches, plan.hash)
      .exec();
    if (options.concurrency !== undefined) {
      await queue.setGlobalConcurrency(options.concurrency);
    } else if (
      options.defaultConcurrency !== undefined &&
      (await queue.getGlobalConcurrency()) === null
    ) {
      await queue.setGlobalConcurrency(options.defaultConcurrency);
    }

    // Rows whose job failed for good (their worker died more often than `maxStalledCount`)
    // have no entry: their jobs go, so the rows are queued again below.
    for (const job of await queue.getFailed()) {
      if (job?.data?.batch === plan.hash) await job.remove().catch(() => undefined);
    }
    const entries = await readEntries(redis, connection, plan.hash);
    let completed = 0;
    const jobs: { name: string; data: RowJobData; opts: { jobId: string } }[] = [];
    for (const [index, row] of plan.rows.entries()) {
      const entry = entries.get(row.key);
      if (entry?.status === 'completed') {
        completed += 1;
        continue;
      }
      const jobId = rowJobId(plan.hash, row.key);
      if (entry) {
        // Finished without completing in an earlier run: its entry and job go, the row is
        // looked at again. A job still running (another enqueue raced us) is left alone.
        const job = await Job.fromId(queue, jobId);
        const state = job ? await job.getState() : 'unknown';
        if (state === 'active' || state === 'waiting' || state === 'delayed') continue;
        if (job) await job.remove().catch(() => undefined);
        await redis.hdel(keys.entries, row.key);
      }
      jobs.push({ name: 'row', data: { batch: plan.hash, index }, opts: { jobId } });
    }
    for (let start = 0; start < jobs.length; start += 1000) {
      await queue.addBulk(
        jobs.slice(start, start + 1000).map((job) => ({
          ...job,
          opts: {
            ...job.opts,
            attempts: ROW_JOB_ATTEMPTS,
            backoff: { type: 'exponential', delay: 1000 },
            removeOnComplete: true,
            removeOnFail: { age: BATCH_RETENTION_SECONDS },
          },
        })),
      );
    }
    return {
      batch: plan.hash,
      endpointId: plan.endpointId,
      total: plan.rows.length,
      queued: jobs.length,
      completed,
    };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
