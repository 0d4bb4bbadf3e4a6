import type { ForgetOutput } from '@falai/core';
import { ACTIVE_STATUSES } from '@falai/core';
import { BaseCommand } from '../base-command.js';
import { requestIdArg } from '../flags.js';
import { findRecord } from '../requests.js';

/** Drops one request from the store (fal is not told; see `cancel`). */
export default class Forget extends BaseCommand<typeof Forget> {
  static override summary = 'Remove a request from the store.';
  static override description =
    'Stops tracking a request: it disappears from list and poll. The request itself keeps running at fal, and fal bills it, so forgetting a queued or running request warns (use cancel to stop it). The id may be a unique prefix. Forgetting an unknown id is not an error.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001',
    '<%= config.bin %> <%= command.id %> 00000000',
  ];
  static override args = { 'request-id': requestIdArg() };

  async run(): Promise<ForgetOutput> {
    const store = await this.store();
    const given = this.args['request-id'];
    const record = await findRecord(store, given, 'forget');
    const requestId = record?.requestId ?? given;
    const warning =
      record && ACTIVE_STATUSES.includes(record.status)
        ? `${requestId} is still ${record.status} at fal: forgetting it only stops falai tracking it. fal still runs it and bills it, and its result will not be fetched. To stop it: falai cancel ${requestId}`
        : undefined;
    // A warning about money is not a note: --quiet does not hide it (--json carries it).
    if (warning && !this.jsonEnabled()) process.stderr.write(`Warning: ${warning}\n`);
    const removed = record ? await store.remove(requestId) : false;
    this.log(removed ? `Forgot ${requestId}.` : `${requestId} was not in the store.`);
    return {
      requestId,
      removed,
      ...(record ? { status: record.status } : {}),
      ...(warning ? { warning } : {}),
    };
  }
}
