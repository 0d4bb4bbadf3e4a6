import type { ModelsOutput } from '@falai/core';
import { BaseCommand } from '../base-command.js';
import { table } from '../output.js';

/** Seed command: the models falai knows (built in and from the user's model folders). */
export default class Models extends BaseCommand<typeof Models> {
  static override summary = 'List the models falai can validate.';
  static override description =
    'Lists the model definitions falai ships with plus those in FALAI_MODELS_DIR and <config dir>/models. Other endpoints still work, unvalidated. See model-info for one model.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
  ];

  async run(): Promise<ModelsOutput> {
    const registry = await this.registry();
    const models = registry.list().map((model) => ({
      endpointId: model.endpointId,
      ...(model.name ? { name: model.name } : {}),
      ...(model.category ? { category: model.category } : {}),
      ...(model.description ? { description: model.description } : {}),
      ...(model.source ? { source: String(model.source) } : {}),
    }));
    this.log(
      table(
        ['ENDPOINT', 'CATEGORY', 'NAME'],
        models.map((model) => [model.endpointId, model.category ?? '', model.name ?? '']),
      ),
    );
    this.note('Details: falai model-info <endpoint>');
    return { models, count: models.length };
  }
}
