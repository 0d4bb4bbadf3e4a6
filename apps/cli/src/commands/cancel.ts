import type { CancelOutput } from '@falai/core';
import { requestCancel, resolveTarget } from '@falai/core/internal';
import { BaseCommand } from '../base-command.js';
import { TARGET_USAGE, targetArgs } from '../flags.js';

/** Asks fal to cancel a queued or running request. */
export default class Cancel extends BaseCommand<typeof Cancel> {
  static override summary = 'Cancel a queued or running request.';
  static override description =
    'Asks fal to cancel the request. A queued request is removed at once and marked cancelled in the store. A running app may ignore the cancel and still deliver its result, so such a request stays pending (tagged cancelRequestedAt) and poll, wait or webhook serve records what fal finally reports: cancelled, or completed with its output. A request that already completed stays as it is (fetch it with result). An id fal does not know is an error (NOT_FOUND, exit 5). The endpoint may be left out when the store knows the request.';
  static override usage = TARGET_USAGE;
  static override examples = [
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001',
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro 00000000-0000-4000-8000-000000000001 --json',
  ];
  static override args = targetArgs();

  async run(): Promise<CancelOutput> {
    const store = await this.store();
    const target = await resolveTarget(
      store,
      this.args.endpoint,
      this.args['request-id'],
      'cancel',
    );
    const client = await this.client();
    const { outcome, status, cancelRequestedAt } = await requestCancel(client, store, target);
    const { requestId } = target;
    if (outcome === 'already-completed') {
      this.log(
        `${requestId} had already completed; nothing was cancelled. Fetch it with: falai result ${requestId}`,
      );
    } else if (status === 'cancelled') {
      this.log(`Cancelled ${requestId}.`);
    } else if (status === 'completed' || status === 'failed') {
      this.log(
        `${requestId} finished before the cancel took effect (${status}); see it with: falai result ${requestId}`,
      );
    } else if (status) {
      this.log(
        `Cancellation requested for ${requestId}; it is still ${status} at fal (the app may finish it anyway). falai poll or falai wait ${requestId} records the outcome.`,
      );
    } else {
      this.log(
        `Cancellation requested for ${requestId} (not in the store; check it with: falai status ${target.endpointId} ${requestId}).`,
      );
    }
    return {
      requestId,
      endpointId: target.endpointId,
      outcome,
      ...(status ? { status } : {}),
      ...(cancelRequestedAt ? { cancelRequestedAt } : {}),
    };
  }
}
