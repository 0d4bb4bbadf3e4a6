import type { ConfigSetOutput } from '@falai/core';
import { BUDGET_CONFIG_KEYS, CONFIG_KEYS, unsetConfigValue } from '@falai/core/internal';
import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { checkConfigKey } from '../../flags.js';

/** Removes one key from falai's config file. */
export default class ConfigUnset extends BaseCommand<typeof ConfigUnset> {
  static override summary = 'Remove one value from the falai config file.';
  static override description =
    `Keys: ${CONFIG_KEYS.join(', ')}. Removing an unset key is not an error.`;
  static override examples = ['<%= config.bin %> <%= command.id %> baseUrl'];
  static override args = {
    key: Args.string({
      required: true,
      description: `Config key: ${[...CONFIG_KEYS, ...BUDGET_CONFIG_KEYS].join(', ')}.`,
    }),
  };

  async run(): Promise<ConfigSetOutput> {
    await checkConfigKey(this.args.key);
    const { configPath } = await this.settings();
    const removed = await unsetConfigValue(this.args.key, configPath);
    this.log(
      removed ? `Removed ${this.args.key} (${configPath})` : `${this.args.key} was not set.`,
    );
    return { key: this.args.key, path: configPath };
  }
}
