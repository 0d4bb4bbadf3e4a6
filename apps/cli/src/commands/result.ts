import type { ResultOutput } from '@falai/core';
import { ApiError } from '@falai/core';
import { BaseCommand, jsonText } from '../base-command.js';
import { TARGET_USAGE, targetArgs } from '../flags.js';
import { finalise, outcomeError, resolveTarget } from '../requests.js';

/** Seed command: fetch a finished request's output, `result [endpoint] <request-id>`. */
export default class Result extends BaseCommand<typeof Result> {
  static override summary = "Fetch a finished request's result.";
  static override description =
    'Prints the output JSON of a completed request and records it in the store. A request that failed exits with its error (a 422 lists the offending fields); one still running says how to wait for it.';
  static override usage = TARGET_USAGE;
  static override examples = [
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001',
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro 00000000-0000-4000-8000-000000000001 --json',
  ];
  static override args = targetArgs();

  async run(): Promise<ResultOutput> {
    const store = await this.store();
    const target = await resolveTarget(
      store,
      this.args.endpoint,
      this.args['request-id'],
      'result',
    );
    const stored = target.record;
    if (stored?.status === 'completed' && stored.result !== undefined) {
      this.log(jsonText(stored.result));
      return {
        requestId: target.requestId,
        endpointId: target.endpointId,
        status: 'completed',
        result: stored.result,
        ...(stored.outputs ? { outputs: stored.outputs } : {}),
        recorded: true,
      };
    }
    const client = await this.client();
    let outcome: Awaited<ReturnType<typeof client.result>>;
    try {
      outcome = await client.result(target.endpointId, target.requestId);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        throw new ApiError(
          `Request ${target.requestId} has not finished yet; wait for it with: falai wait ${target.requestId}`,
          { status: 400, requestId: target.requestId, detail: error.detail },
        );
      }
      throw error;
    }
    if (target.record) await finalise(store, target.requestId, outcome);
    const failure = outcomeError(outcome);
    if (failure || outcome.state !== 'completed') throw failure;
    this.log(jsonText(outcome.output));
    return {
      requestId: target.requestId,
      endpointId: target.endpointId,
      status: 'completed',
      result: outcome.output,
      recorded: target.record !== undefined,
    };
  }
}
