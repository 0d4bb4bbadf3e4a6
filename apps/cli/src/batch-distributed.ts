import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type {
  BatchQueueConnection,
  BatchWorker,
  DistributedBatchProgress,
} from '@falai/batch-queue';
import type {
  BatchManifestEntry,
  BatchPlan,
  DeferredSignal,
  FalaiSettings,
  FalClient,
  ModelRegistry,
  PendingStore,
  SubmitCostOptions,
} from '@falai/core';

/**
 * The CLI side of distributed batches (`batch run --distributed`, `batch worker`): where the
 * queue is (the Redis store's URL and prefix) and a worker set up as the commands set up a
 * submit. `@falai/batch-queue` (and BullMQ) load only here, when a command needs them.
 */

/** The batch queue of the store the settings name; a non-Redis store is CONFIG_INVALID. */
export async function queueConnection(settings: FalaiSettings): Promise<BatchQueueConnection> {
  const { ConfigError, parseStoreSpec } = await import('@falai/core');
  const spec = settings.store ? parseStoreSpec(settings.store, settings.paths) : undefined;
  if (spec?.kind !== 'redis') {
    throw new ConfigError(
      'A batch on many machines needs a Redis store every worker shares: pass --store redis://host:6379/0 (or set FALAI_STORE=redis://…) on every host.',
    );
  }
  return { url: spec.url, ...(spec.prefix ? { prefix: spec.prefix } : {}) };
}

/** What a worker needs from the command that starts it. */
export interface CliWorkerOptions {
  readonly connection: BatchQueueConnection;
  readonly store: PendingStore;
  readonly client: FalClient;
  readonly registry: ModelRegistry;
  readonly settings: FalaiSettings;
  readonly cost: SubmitCostOptions;
  readonly key: () => Promise<string>;
  readonly userAgent: string;
  readonly concurrency: number;
  readonly outDir?: string;
  readonly stallTimeoutMs?: number;
  readonly lostSubmitGraceMs?: number;
  readonly onRow?: (event: { readonly batch: string; readonly entry: BatchManifestEntry }) => void;
  readonly onError?: (error: Error) => void;
  /** Ctrl-C held back by a row's submit: the command stops (see startBatchWorker). */
  readonly onInterrupt?: (signal: DeferredSignal) => void;
}

/** Starts a batch worker with the command's store, client, prices, budgets and Platform API. */
export async function startCliWorker(options: CliWorkerOptions): Promise<BatchWorker> {
  const [{ startBatchWorker }, { platformClient }] = await Promise.all([
    import('@falai/batch-queue'),
    import('./cost.js'),
  ]);
  return startBatchWorker({
    connection: options.connection,
    store: options.store,
    client: options.client,
    registry: options.registry,
    platform: await platformClient({
      settings: options.settings,
      key: options.key,
      userAgent: options.userAgent,
    }),
    ...(options.cost.estimator ? { estimator: options.cost.estimator } : {}),
    ...(options.cost.budgets ? { budgets: options.cost.budgets } : {}),
    concurrency: options.concurrency,
    settings: options.settings,
    ...(options.outDir ? { outDir: options.outDir } : {}),
    cwd: process.cwd(),
    ...(options.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: options.stallTimeoutMs }),
    ...(options.lostSubmitGraceMs === undefined
      ? {}
      : { lostSubmitGraceMs: options.lostSubmitGraceMs }),
    ...(options.onRow ? { onRow: options.onRow } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.onInterrupt ? { onInterrupt: options.onInterrupt } : {}),
  });
}

/** Options of {@link runDistributed}. */
export interface RunDistributedOptions
  extends Omit<CliWorkerOptions, 'connection' | 'onRow' | 'concurrency'> {
  readonly plan: BatchPlan;
  /**
   * Rows in flight across all workers (the queue's limit). Unset: the queue's limit stays, or
   * becomes the default batch concurrency when it has none; this host's worker runs that many.
   */
  readonly concurrency?: number | undefined;
  readonly maxCostUsd?: number;
  readonly name?: string;
  readonly manifestPath: string;
  /** Also run rows here (a worker beside the watch). */
  readonly work: boolean;
  /** Enqueue and return at once. */
  readonly detach: boolean;
  readonly onProgress: (progress: DistributedBatchProgress) => void;
  readonly signal: AbortSignal;
}

/** What a distributed run reports. */
export interface DistributedRunResult {
  readonly batch: string;
  readonly endpointId: string;
  readonly total: number;
  readonly distributed: true;
  readonly queued: number;
  readonly counts?: DistributedBatchProgress['counts'];
  readonly lost?: number;
  readonly spentUsd?: number;
  readonly manifestPath?: string;
  /** Rows this host's worker finished. */
  readonly finishedHere?: number;
  /** True when the watch was stopped before the batch finished (the workers go on). */
  readonly detached: boolean;
}

/**
 * `batch run --distributed`: enqueues the plan on the store's Redis, optionally works rows
 * here too, and follows the batch until every row has finished, writing the manifest (JSONL,
 * in row order as rows finish anywhere) as it goes.
 */
export async function runDistributed(
  options: RunDistributedOptions,
): Promise<DistributedRunResult> {
  const [{ enqueueBatch, watchBatch }, { DEFAULT_BATCH_CONCURRENCY }] = await Promise.all([
    import('@falai/batch-queue'),
    import('@falai/core'),
  ]);
  const connection = await queueConnection(options.settings);
  const { plan } = options;
  const enqueued = await enqueueBatch({
    plan,
    connection,
    ...(options.concurrency === undefined
      ? { defaultConcurrency: DEFAULT_BATCH_CONCURRENCY }
      : { concurrency: options.concurrency }),
    ...(options.maxCostUsd === undefined ? {} : { maxCostUsd: options.maxCostUsd }),
    ...(options.outDir ? { outDir: options.outDir } : {}),
    ...(options.name ? { name: options.name } : {}),
  });
  const base = {
    batch: plan.hash,
    endpointId: plan.endpointId,
    total: plan.rows.length,
    distributed: true as const,
    queued: enqueued.queued,
  };
  if (options.detach) return { ...base, detached: true };
  const worker = options.work
    ? await startCliWorker({
        ...options,
        connection,
        concurrency: options.concurrency ?? DEFAULT_BATCH_CONCURRENCY,
      })
    : undefined;
  await mkdir(dirname(options.manifestPath), { recursive: true });
  await writeFile(options.manifestPath, '');
  let writes = Promise.resolve();
  try {
    const { progress } = await watchBatch({
      connection,
      batch: plan.hash,
      onProgress: options.onProgress,
      onEntry: (entry) => {
        writes = writes.then(() => appendFile(options.manifestPath, `${JSON.stringify(entry)}\n`));
      },
      signal: options.signal,
    });
    await writes;
    return {
      ...base,
      counts: progress.counts,
      lost: progress.lost,
      spentUsd: progress.spentUsd,
      manifestPath: options.manifestPath,
      ...(worker ? { finishedHere: worker.finished } : {}),
      detached: options.signal.aborted,
    };
  } finally {
    await worker?.close();
  }
}
