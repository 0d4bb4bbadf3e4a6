import type { ConfigListOutput } from '@falai/core';
import { maskKey } from '@falai/core';
import { readConfigFile } from '@falai/core/internal';
import { BaseCommand } from '../../base-command.js';
import { maskUrlPassword, table } from '../../output.js';

/** Shows the config file and the settings falai actually uses, with their sources. */
export default class ConfigList extends BaseCommand<typeof ConfigList> {
  static override summary = 'Show the config file and the effective settings with their sources.';
  static override description =
    'Lists the values in the falai config file (the key and URL passwords masked) and what falai will actually use — flags > environment > config file > defaults — naming where each value came from.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
  ];

  async run(): Promise<ConfigListOutput> {
    const settings = await this.settings();
    const file = await readConfigFile(settings.configPath);
    const values: Record<string, unknown> = { ...file };
    if (typeof values.key === 'string') values.key = maskKey(values.key);
    // A store URL may carry a password (redis://user:secret@host): never shown.
    for (const [name, value] of Object.entries(values)) {
      if (typeof value === 'string') values[name] = maskUrlPassword(value);
    }
    const label = (name: string) => settings.sources[name]?.label ?? 'default';
    const effective: ConfigListOutput['effective'] = {
      store: {
        value: maskUrlPassword(settings.store ?? `file:${settings.paths.pendingFile}`),
        source: label('store'),
      },
      outputDir: { value: settings.outputDir, source: label('outputDir') },
      modelsDir: { value: settings.modelsDir ?? null, source: label('modelsDir') },
      baseUrl: { value: settings.baseUrls.queue, source: label('baseUrls.queue') },
    };
    this.log(`config file: ${settings.configPath}`);
    this.log(
      table(
        ['SETTING', 'VALUE', 'SOURCE'],
        Object.entries(effective).map(([name, entry]) => [
          name,
          String(entry.value ?? ''),
          entry.source,
        ]),
      ),
    );
    return { path: settings.configPath, values, effective };
  }
}
