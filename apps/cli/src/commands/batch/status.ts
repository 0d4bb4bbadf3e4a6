import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';

/** `falai batch status <batch>`: one batch's requests by status. */
export default class BatchStatus extends BaseCommand<typeof BatchStatus> {
  static override summary =
    "Show a batch's requests by status (a unique prefix of its hash works).";
  static override examples = ['<%= config.bin %> <%= command.id %> 3f2a9c1b'];
  static override args = {
    batch: Args.string({ required: true, description: 'The batch hash or a unique prefix.' }),
  };

  async run(): Promise<Record<string, unknown>> {
    const [{ summariseBatches }, { InputError }] = await Promise.all([
      import('../../batch-summary.js'),
      import('@falai/core'),
    ]);
    const all = summariseBatches(await (await this.store()).list());
    const found = all.filter((batch) => String(batch.batch).startsWith(this.args.batch));
    if (found.length !== 1) {
      throw new InputError(
        found.length === 0
          ? `No batch ${this.args.batch} in the store; see falai batch list.`
          : `${this.args.batch} matches ${found.length} batches; give more of the hash.`,
        [{ path: ['batch'], message: 'no unique batch', kind: 'reference' }],
      );
    }
    const batch = found[0] as Record<string, unknown>;
    this.log(`${batch.batch} ${batch.endpointId}: ${JSON.stringify(batch.statuses)}`);
    return batch;
  }
}
