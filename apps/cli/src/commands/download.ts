import type { DownloadOutput } from '@falai/core';
import { ApiError, InputError } from '@falai/core';
import { BaseCommand } from '../base-command.js';
import { forceFlag, outFlag, requestIdArg } from '../flags.js';
import { finalise, outcomeError } from '../requests.js';
import { saveOutputs } from '../waiting.js';

/** Saves a finished request's output files. */
export default class Download extends BaseCommand<typeof Download> {
  static override summary = "Save a finished request's output files.";
  static override description =
    'Saves every output file (images, video) of a completed request as <out>/<request-id>-<index>.<ext> and records the paths in the store. Existing files are never replaced without --force. The result is fetched from fal if the store does not have it yet.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001',
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001 --out ./renders --force',
  ];
  static override args = { 'request-id': requestIdArg() };
  static override flags = { out: outFlag(), force: forceFlag() };

  async run(): Promise<DownloadOutput> {
    const store = await this.store();
    const requestId = this.args['request-id'];
    const record = await store.get(requestId);
    if (!record) {
      throw new InputError(
        `Request ${requestId} is not in the store (${store.location}); fetch it with falai result <endpoint> ${requestId} first.`,
        [{ path: ['request-id'], message: 'unknown request id', kind: 'reference' }],
      );
    }
    let result = record.result;
    if (result === undefined) {
      const client = await this.client();
      let outcome: Awaited<ReturnType<typeof client.result>>;
      try {
        outcome = await client.result(record.endpointId, requestId);
      } catch (error) {
        if (error instanceof ApiError && error.status === 400) {
          throw new ApiError(
            `Request ${requestId} has not finished yet; wait for it with: falai wait ${requestId} --download`,
            { status: 400, requestId },
          );
        }
        throw error;
      }
      await finalise(store, requestId, outcome);
      const failure = outcomeError(outcome);
      if (failure) throw failure;
      if (outcome.state === 'completed') result = outcome.output;
    }
    const outputs = await saveOutputs({
      store,
      requestId,
      result,
      outDir: this.flags.out ?? (await this.settings()).outputDir,
      force: this.flags.force,
      recorded: true,
    });
    if (outputs.length === 0) this.log(`${requestId} has no output files.`);
    for (const file of outputs) this.log(file.path);
    return { requestId, outputs };
  }
}
