import type { ForgetOutput } from '@falai/core';
import { BaseCommand } from '../base-command.js';
import { requestIdArg } from '../flags.js';

/** Drops one request from the store (fal is not told; see `cancel`). */
export default class Forget extends BaseCommand<typeof Forget> {
  static override summary = 'Remove a request from the store.';
  static override description =
    'Stops tracking a request: it disappears from list and poll. The request itself keeps running at fal (use cancel to stop it). Forgetting an unknown id is not an error.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001',
  ];
  static override args = { 'request-id': requestIdArg() };

  async run(): Promise<ForgetOutput> {
    const store = await this.store();
    const requestId = this.args['request-id'];
    const removed = await store.remove(requestId);
    this.log(removed ? `Forgot ${requestId}.` : `${requestId} was not in the store.`);
    return { requestId, removed };
  }
}
