import type { ConfigGetOutput } from '@falai/core';
import { maskKey } from '@falai/core';
import { BUDGET_CONFIG_KEYS, CONFIG_KEYS, configValue, readConfigFile } from '@falai/core/internal';
import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { checkConfigKey } from '../../flags.js';
import { maskUrlPassword } from '../../output.js';

/** Reads one key of falai's config file. */
export default class ConfigGet extends BaseCommand<typeof ConfigGet> {
  static override summary = 'Print one value from the falai config file.';
  static override description =
    `Keys: ${CONFIG_KEYS.join(', ')}. The key value and URL passwords are shown masked.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> store',
    '<%= config.bin %> <%= command.id %> outputDir --json',
  ];
  static override args = {
    key: Args.string({
      required: true,
      description: `Config key: ${[...CONFIG_KEYS, ...BUDGET_CONFIG_KEYS].join(', ')}.`,
    }),
  };

  async run(): Promise<ConfigGetOutput> {
    await checkConfigKey(this.args.key);
    const { configPath } = await this.settings();
    const file = await readConfigFile(configPath);
    const key = this.args.key;
    const raw = configValue(file, key);
    const value =
      raw === undefined
        ? raw
        : key === 'key'
          ? maskKey(String(raw))
          : typeof raw === 'string'
            ? maskUrlPassword(raw)
            : raw;
    if (value === undefined) this.note(`${key} is not set in ${configPath}`);
    else this.log(String(value));
    return {
      key,
      ...(value === undefined ? {} : { value }),
      set: value !== undefined,
      path: configPath,
    };
  }
}
