import type { ResultOutput } from '@falai/core';
import { fetchResult, resolveTarget } from '@falai/core/internal';
import { BaseCommand, jsonText } from '../base-command.js';
import { TARGET_USAGE, targetArgs } from '../flags.js';

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
    const fetched = await fetchResult({
      client: await this.client(),
      store,
      endpointId: target.endpointId,
      requestId: target.requestId,
      ...(target.record ? { record: target.record } : {}),
    });
    this.log(jsonText(fetched.output, this.redactor));
    const outputs = fetched.fromStore ? target.record?.outputs : undefined;
    return {
      requestId: target.requestId,
      endpointId: target.endpointId,
      status: 'completed',
      result: fetched.output,
      ...(outputs ? { outputs } : {}),
      recorded: target.record !== undefined,
    };
  }
}
