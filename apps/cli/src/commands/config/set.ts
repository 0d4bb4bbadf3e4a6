import type { ConfigSetOutput } from '@falai/core';
import { maskKey } from '@falai/core';
import { BUDGET_CONFIG_KEYS, CONFIG_KEYS, setConfigValue } from '@falai/core/internal';
import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { checkConfigKey } from '../../flags.js';
import { maskUrlPassword } from '../../output.js';

/** Writes one key of falai's config file (atomically, mode 0600). */
export default class ConfigSet extends BaseCommand<typeof ConfigSet> {
  static override summary = 'Set one value in the falai config file.';
  static override description =
    `Keys: store (file:<path>, sqlite:<path>, redis://…), outputDir, modelsDir, baseUrl, key (your FAL_KEY; stored with mode 0600, env FAL_KEY still wins). Valid keys: ${CONFIG_KEYS.join(', ')}. Spending caps (US dollars, hard: a submit that would pass one is refused, exit 4): budget.daily (per UTC day through the store in use), budget.key.<key id>.daily (one key; the id is the part of the key before ":"), budget.store.<store spec>.daily (one store, instead of budget.daily).`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> store sqlite:~/.local/state/falai/pending.db',
    '<%= config.bin %> <%= command.id %> outputDir ~/Pictures/falai',
    '<%= config.bin %> <%= command.id %> baseUrl http://127.0.0.1:8787',
    '<%= config.bin %> <%= command.id %> budget.daily 5',
  ];
  static override args = {
    key: Args.string({
      required: true,
      description: `Config key: ${[...CONFIG_KEYS, ...BUDGET_CONFIG_KEYS].join(', ')}.`,
    }),
    value: Args.string({ required: true, description: 'New value.' }),
  };

  async run(): Promise<ConfigSetOutput> {
    await checkConfigKey(this.args.key);
    const { configPath } = await this.settings();
    const key = this.args.key;
    await setConfigValue(key, this.args.value, configPath);
    const shown = key === 'key' ? maskKey(this.args.value) : maskUrlPassword(this.args.value);
    this.log(`${key} = ${shown}  (${configPath})`);
    return { key, value: shown, path: configPath };
  }
}
