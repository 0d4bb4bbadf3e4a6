import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';

/** `falai batch status <batch>`: one batch's requests by status (and its queue, on Redis). */
export default class BatchStatus extends BaseCommand<typeof BatchStatus> {
  static override summary =
    "Show a batch's requests by status (a unique prefix of its hash works).";
  static override description =
    'On a Redis store, a batch run with --distributed also shows where its rows are across all workers: finished by status, running, queued, lost, spent.';
  static override examples = ['<%= config.bin %> <%= command.id %> 3f2a9c1b'];
  static override args = {
    batch: Args.string({ required: true, description: 'The batch hash or a unique prefix.' }),
  };

  async run(): Promise<Record<string, unknown>> {
    const [{ summariseBatches }, { InputError }] = await Promise.all([
      import('../../batch-summary.js'),
      import('@falai/core'),
    ]);
    const store = await this.store();
    const all = summariseBatches(await store.list());
    const found = all.filter((batch) => String(batch.batch).startsWith(this.args.batch));
    const distributed = store.kind === 'redis' ? await this.distributed(found) : undefined;
    if (found.length > 1 || (found.length === 0 && !distributed)) {
      throw new InputError(
        found.length === 0
          ? `No batch ${this.args.batch} in the store; see falai batch list.`
          : `${this.args.batch} matches ${found.length} batches; give more of the hash.`,
        [{ path: ['batch'], message: 'no unique batch', kind: 'reference' }],
      );
    }
    const batch: Record<string, unknown> = {
      ...(found[0] ?? { batch: distributed?.batch, endpointId: distributed?.endpointId }),
      ...(distributed ? { distributed } : {}),
    };
    this.log(`${batch.batch} ${batch.endpointId}: ${JSON.stringify(batch.statuses ?? {})}`);
    if (distributed) {
      const { counts } = distributed;
      this.log(
        `rows (all workers): ${counts.completed} completed, ${counts.failed} failed, ${counts.unknown} unknown, ${counts['over-budget']} over budget, ${distributed.running} running, ${distributed.queued} queued${distributed.lost ? `, ${distributed.lost} lost` : ''} of ${distributed.total}; $${distributed.spentUsd} spent${distributed.globalConcurrency ? `; at most ${distributed.globalConcurrency} in flight` : ''}`,
      );
    }
    return batch;
  }

  /** The queue's view of the batch (`--distributed` runs), when it was queued. */
  private async distributed(found: readonly Record<string, unknown>[]) {
    const [{ queueConnection }, queue] = await Promise.all([
      import('../../batch-distributed.js'),
      import('@falai/batch-queue'),
    ]);
    const connection = await queueConnection(await this.settings());
    const redis = queue.openRedis(connection);
    let hash: string | undefined;
    try {
      hash =
        found.length === 1
          ? String(found[0]?.batch)
          : await queue.resolveBatchHash(redis, connection, this.args.batch);
      if (!hash || !(await redis.exists(queue.batchKeys(connection, hash).plan))) return undefined;
    } finally {
      redis.disconnect();
    }
    const { entries: _entries, ...progress } = await queue.readBatchProgress(connection, hash);
    return progress;
  }
}
