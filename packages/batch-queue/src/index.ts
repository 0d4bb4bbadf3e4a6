/**
 * `@falai/batch-queue`: one falai batch on many machines. A verified plan's rows become
 * BullMQ jobs on Redis (job id = batch hash + row key); workers on any number of hosts run
 * them through core's row step with one global concurrency limit (fal's is per account),
 * stalled-row recovery, the batch's cost cap in the store's ledger, and each row submitted
 * exactly once even when workers are killed (see `startBatchWorker`).
 */
export {
  type BatchRunSettings,
  type QueuedBatch,
  readEntries,
  readQueuedBatch,
  resolveBatchHash,
} from './batch.js';
export {
  type EnqueueBatchOptions,
  type EnqueueBatchResult,
  enqueueBatch,
  ROW_JOB_ATTEMPTS,
  type RowJobData,
} from './enqueue.js';
export { redisIntentJournal } from './intents.js';
export {
  type BatchQueueConnection,
  batchKeys,
  openRedis,
  QUEUE_NAME,
  queuePrefix,
  rowJobId,
} from './keys.js';
export {
  type DistributedBatchProgress,
  readBatchProgress,
  type WatchBatchOptions,
  watchBatch,
} from './progress.js';
export { type BatchWorker, type BatchWorkerOptions, startBatchWorker } from './worker.js';
