import type { ForgetOutput } from '@falai/core';
import { forgetRequest } from '@falai/core/internal';
import { BaseCommand } from '../base-command.js';
import { requestIdArg } from '../flags.js';

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
    const forgot = await forgetRequest(store, this.args['request-id']);
    // A warning about money is not a note: --quiet does not hide it (--json carries it).
    if (forgot.warning && !this.jsonEnabled()) process.stderr.write(`Warning: ${forgot.warning}\n`);
    this.log(
      forgot.removed ? `Forgot ${forgot.requestId}.` : `${forgot.requestId} was not in the store.`,
    );
    return forgot;
  }
}
