import type { CancelOutput, RequestStatus } from '@falai/core';
import { ACTIVE_STATUSES } from '@falai/core';
import { BaseCommand } from '../base-command.js';
import { TARGET_USAGE, targetArgs } from '../flags.js';
import { resolveTarget } from '../requests.js';

/** Asks fal to cancel a queued or running request. */
export default class Cancel extends BaseCommand<typeof Cancel> {
  static override summary = 'Cancel a queued or running request.';
  static override description =
    'Asks fal to cancel the request and marks it cancelled in the store. A request that already completed stays as it is (fetch it with result). The endpoint may be left out when the store knows the request.';
  static override usage = TARGET_USAGE;
  static override examples = [
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001',
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro 00000000-0000-4000-8000-000000000001 --json',
  ];
  static override args = targetArgs();

  async run(): Promise<CancelOutput> {
    const store = await this.store();
    const target = await resolveTarget(store, this.args.first, this.args.second, 'cancel');
    const client = await this.client();
    const { outcome } = await client.cancel(target.endpointId, target.requestId);
    let status: RequestStatus | undefined = target.record?.status;
    if (target.record && (outcome === 'cancellation-requested' || outcome === 'ok')) {
      const updated = await store.update(
        target.requestId,
        {
          status: 'cancelled',
          error: { code: 'REQUEST_CANCELLED', message: 'Cancelled with falai cancel.' },
          queuePosition: null,
        },
        { status: ACTIVE_STATUSES },
      );
      if (updated.kind === 'updated') status = 'cancelled';
    }
    const messages: Record<CancelOutput['outcome'], string> = {
      'cancellation-requested': `Cancellation requested for ${target.requestId}.`,
      ok: `Cancelled ${target.requestId}.`,
      'already-completed': `${target.requestId} had already completed; fetch it with: falai result ${target.requestId}`,
      'not-found': `fal does not know ${target.requestId} (wrong endpoint, or too old).`,
    };
    this.log(messages[outcome]);
    return {
      requestId: target.requestId,
      endpointId: target.endpointId,
      outcome,
      ...(status ? { status } : {}),
    };
  }
}
