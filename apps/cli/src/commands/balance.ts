import type { BalanceOutput } from '@falai/core';
import { AuthError } from '@falai/core';
import { BaseCommand } from '../base-command.js';
import { platformClient, usdText } from '../cost.js';

/** The account's credits, from fal's account billing (an ADMIN key). */
export default class Balance extends BaseCommand<typeof Balance> {
  static override summary = "Show your fal account's credit balance (needs an ADMIN key).";
  static override description =
    "Asks fal's Platform API for the account's current credits. fal shows them to ADMIN keys only: with an ordinary API key this fails with exit 3 and says how to get one. What falai recorded as spent is in `falai usage` (any key).";
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'FAL_KEY=$FAL_ADMIN_KEY <%= config.bin %> <%= command.id %> --json',
  ];

  async run(): Promise<BalanceOutput> {
    const platform = await platformClient({
      settings: await this.settings(),
      key: () => this.key(),
      userAgent: `${this.config.name}/${this.config.version}`,
    });
    let billing: Awaited<ReturnType<typeof platform.getAccountBilling>>;
    try {
      billing = await platform.getAccountBilling({ credits: true });
    } catch (error) {
      const admin = (error as { details?: { adminRequired?: unknown } }).details?.adminRequired;
      if (AuthError.isInstance(error) && error.code === 'AUTH_REJECTED' && admin === true) {
        throw new AuthError(
          'AUTH_REJECTED',
          "falai balance needs an ADMIN key: fal shows the account's credits only to keys with the ADMIN scope, and this key was refused (HTTP 403). Create one at https://fal.ai/dashboard/keys and use it for this command (FAL_KEY=<admin key> falai balance, or --key). What falai recorded as spent: falai usage.",
          { status: 403, cause: error, details: { adminRequired: true } },
        );
      }
      throw error;
    }
    const credits = billing.credits;
    if (!credits) {
      throw new AuthError(
        'AUTH_REJECTED',
        `fal answered for account ${billing.username} without its credits; only an ADMIN key sees them. Check the key's scope at https://fal.ai/dashboard/keys.`,
        { details: { username: billing.username, adminRequired: true } },
      );
    }
    this.log(
      `${billing.username}: ${credits.currency === 'USD' ? usdText(credits.currentBalance) : `${credits.currentBalance} ${credits.currency}`} in credits`,
    );
    return {
      username: billing.username,
      balance: credits.currentBalance,
      currency: credits.currency,
    };
  }
}
