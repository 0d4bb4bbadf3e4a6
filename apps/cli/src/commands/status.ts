import type { StatusOutput } from '@falai/core';
import { ACTIVE_STATUSES, CANCEL_ERROR_TYPES } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { TARGET_USAGE, targetArgs } from '../flags.js';
import { sanitise } from '../output.js';
import { resolveTarget } from '../requests.js';

/** Seed command: one status check, `status [endpoint] <request-id>`. */
export default class Status extends BaseCommand<typeof Status> {
  static override summary = "Show a request's queue status.";
  static override description =
    'Asks fal where a request is (queued with its position, running, completed, failed or cancelled). The endpoint may be left out when the store knows the request, and the request id may be a unique prefix of a stored one. Updates the stored record.';
  static override usage = TARGET_USAGE;
  static override examples = [
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001',
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro 00000000-0000-4000-8000-000000000001 --logs',
  ];
  static override args = targetArgs();
  static override flags = {
    logs: Flags.boolean({ description: 'Include log lines.', default: false }),
  };

  async run(): Promise<StatusOutput> {
    const store = await this.store();
    const target = await resolveTarget(
      store,
      this.args.endpoint,
      this.args['request-id'],
      'status',
    );
    const client = await this.client();
    const status = await client.status(target.endpointId, target.requestId, {
      logs: this.flags.logs,
    });
    // fal has no FAILED/CANCELLED status: both are COMPLETED with an error. A cancel shows as
    // a client error type, or (when fal sends none) as what the store already recorded.
    const errored = status.state === 'completed' && status.error !== undefined;
    const cancelled =
      errored &&
      (CANCEL_ERROR_TYPES.has(status.errorType ?? '') || target.record?.status === 'cancelled');
    const failed = errored && !cancelled;
    const state = cancelled ? 'cancelled' : failed ? 'failed' : status.state;
    if (target.record && (status.state === 'queued' || status.state === 'running')) {
      await store.update(
        target.requestId,
        {
          status: status.state,
          queuePosition: status.queuePosition ?? null,
        },
        { status: ACTIVE_STATUSES },
      );
    }
    const logs = (status.logs ?? []).map((line) => ({
      message: line.message,
      ...(line.level ? { level: line.level } : {}),
      ...(line.timestamp ? { timestamp: line.timestamp } : {}),
    }));
    const position =
      status.queuePosition === undefined ? '' : ` (queue position ${status.queuePosition})`;
    this.log(`${target.requestId}  ${state}${position}`);
    for (const line of logs) this.log(`  ${sanitise(line.message, { singleLine: true })}`);
    if (cancelled) this.note(`The request was cancelled (${String(status.error)}).`);
    else if (failed)
      this.note(`Error: ${String(status.error)}. See: falai result ${target.requestId}`);
    else if (state === 'completed') this.note(`Next: falai result ${target.requestId}`);
    return {
      requestId: target.requestId,
      endpointId: target.endpointId,
      status: state,
      ...(status.queuePosition === undefined ? {} : { queuePosition: status.queuePosition }),
      logs,
      ...(errored
        ? {
            error: {
              code: cancelled ? 'REQUEST_CANCELLED' : 'REQUEST_FAILED',
              message: String(status.error),
              ...(status.errorType ? { details: { errorType: status.errorType } } : {}),
            },
          }
        : {}),
      recorded: target.record !== undefined,
    };
  }
}
