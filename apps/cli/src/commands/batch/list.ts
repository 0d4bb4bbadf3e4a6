import { BaseCommand } from '../../base-command.js';

/** `falai batch list`: the batches the store has requests of. */
export default class BatchList extends BaseCommand<typeof BatchList> {
  static override summary = 'List the batches in the store, with their rows by status.';
  static override examples = ['<%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<{ batches: Record<string, unknown>[] }> {
    const { summariseBatches } = await import('../../batch-summary.js');
    const batches = summariseBatches(await (await this.store()).list());
    for (const batch of batches) {
      this.log(
        `${String(batch.batch).slice(0, 12)}  ${batch.endpointId}  ${JSON.stringify(batch.statuses)}  ${batch.requests} requests`,
      );
    }
    if (batches.length === 0) this.log('No batches.');
    return { batches };
  }
}
