import type { ModelSearchOutput } from '@falai/core';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { priceText } from '../../catalogue.js';
import { table } from '../../output.js';

/** fal's catalogue by text and category, with prices where known. */
export default class ModelsSearch extends BaseCommand<typeof ModelsSearch> {
  static override summary = "Search fal's model catalogue.";
  static override description =
    "Finds fal models by text (every word must appear in the id, name, category, description or tags) and category, with each one's status (active or deprecated) and unit price where known (prices need a key). fal is asked page by page up to --limit; its answers are cached, so --offline searches the cached catalogue without the network, and once the whole catalogue has been listed (falai does so to suggest ids for unknown ones) searches answer from the cache until it is a day old. Any listed model works with run, submit and model-info.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> flux',
    '<%= config.bin %> <%= command.id %> upscale --category image-to-image --json',
    "<%= config.bin %> <%= command.id %> '' --category text-to-speech --limit 50",
    '<%= config.bin %> <%= command.id %> kling --offline',
  ];
  static override args = {
    text: Args.string({
      description: 'Words to look for (quote several); empty lists a whole category.',
      required: false,
    }),
  };
  static override flags = {
    category: Flags.string({
      char: 'c',
      description:
        'Only this category, e.g. text-to-image, image-to-image, text-to-video, image-to-video, video-to-video, text-to-speech, text-to-audio.',
    }),
    limit: Flags.integer({
      char: 'n',
      description: 'Show at most this many models.',
      default: 20,
      min: 1,
      max: 1000,
    }),
    offline: Flags.boolean({
      description: "Search falai's cached copy of the catalogue only; never call fal.",
      exclusive: ['refresh'],
    }),
    refresh: Flags.boolean({ description: 'Ask fal even when the cached catalogue is fresh.' }),
    'page-size': Flags.integer({
      hidden: true,
      min: 1,
      max: 100,
      description: "Models per catalogue page (fal's answer size).",
    }),
  };

  async run(): Promise<ModelSearchOutput> {
    const catalogue = await this.catalogue();
    const text = this.args.text?.trim();
    const found = await catalogue.search({
      ...(text ? { text } : {}),
      ...(this.flags.category ? { category: this.flags.category } : {}),
      limit: this.flags.limit,
      ...(this.flags['page-size'] ? { pageSize: this.flags['page-size'] } : {}),
      offline: this.flags.offline,
      refresh: this.flags.refresh,
    });
    const models = found.models.map((model) => ({
      endpointId: model.endpointId,
      name: model.name,
      category: model.category,
      status: model.status,
      ...(model.description ? { description: model.description } : {}),
      ...(model.tags.length > 0 ? { tags: [...model.tags] } : {}),
      ...(model.durationEstimate === undefined ? {} : { durationEstimate: model.durationEstimate }),
      ...(model.price
        ? {
            price: {
              endpointId: model.price.endpointId,
              unitPrice: model.price.unitPrice,
              unit: model.price.unit,
              currency: model.price.currency,
            },
          }
        : {}),
    }));
    if (models.length === 0) {
      this.log('No catalogue model matches.');
    } else {
      this.log(
        table(
          ['ENDPOINT', 'CATEGORY', 'STATUS', 'PRICE', 'NAME'],
          models.map((model) => [
            model.endpointId,
            model.category,
            model.status,
            model.price ? priceText(model.price) : '',
            model.name,
          ]),
        ),
      );
    }
    for (const note of found.notes) this.note(note);
    if (found.hasMore) this.note(`More models match: raise --limit (now ${this.flags.limit}).`);
    this.note('Details: falai model-info <endpoint>');
    return {
      models,
      count: models.length,
      hasMore: found.hasMore,
      source: found.source,
      notes: [...found.notes],
    };
  }
}
