import type { StatusOutput } from '@falai/core';
import { checkStatus, resolveTarget } from '@falai/core/internal';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { TARGET_USAGE, targetArgs } from '../flags.js';
import { sanitise } from '../output.js';

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
    const report = await checkStatus(await this.client(), store, target, {
      logs: this.flags.logs,
    });
    const logs = report.logs.map((line) => ({
      message: line.message,
      ...(line.level ? { level: line.level } : {}),
      ...(line.timestamp ? { timestamp: line.timestamp } : {}),
    }));
    const { requestId } = report;
    const position =
      report.queuePosition === undefined ? '' : ` (queue position ${report.queuePosition})`;
    this.log(`${requestId}  ${report.status}${position}`);
    for (const line of logs)
      this.log(`  ${sanitise(line.message, this.redactor, { singleLine: true })}`);
    if (report.status === 'cancelled')
      this.note(`The request was cancelled (${report.error?.message ?? 'no reason given'}).`);
    else if (report.status === 'failed')
      this.note(`Error: ${report.error?.message ?? 'unknown'}. See: falai result ${requestId}`);
    else if (report.status === 'expired')
      this.note(`${report.error?.message ?? 'fal no longer holds this request.'}`);
    else if (report.status === 'completed') this.note(`Next: falai result ${requestId}`);
    return {
      requestId,
      endpointId: report.endpointId,
      status: report.status,
      ...(report.queuePosition === undefined ? {} : { queuePosition: report.queuePosition }),
      logs,
      ...(report.error ? { error: report.error } : {}),
      recorded: report.recorded,
    };
  }
}
