import type { PricingOutput } from '@falai/core';
import { InputError } from '@falai/core';
import { didYouMean } from '@falai/core/internal';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { priceText } from '../catalogue.js';
import { table } from '../output.js';

/** Unit prices of endpoints, from fal's Platform API. */
export default class Pricing extends BaseCommand<typeof Pricing> {
  static override summary = 'Show the unit price of fal endpoints.';
  static override description =
    "Asks fal's Platform API for the unit price, unit and currency of each endpoint (a key is needed). The unit is fal's own words: images, megapixels, seconds (of video), 1000 characters, requests, units (a call may bill several). fal may apply custom prices or discounts to your account. Prices are cached: offline, or with --offline, the cached ones are shown.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro',
    '<%= config.bin %> <%= command.id %> fal-ai/flux/dev fal-ai/kling-video/v2.1/master/text-to-video --json',
  ];
  static override strict = false;
  static override args = {
    endpoint: Args.string({
      description: 'Endpoint ids (one or more), e.g. fal-ai/nano-banana-pro.',
      required: true,
    }),
  };
  static override flags = {
    offline: Flags.boolean({ description: 'Show cached prices only; never call fal.' }),
  };

  async run(): Promise<PricingOutput> {
    const ctor = this.ctor as typeof Pricing;
    const { argv } = await this.parse({
      flags: ctor.flags,
      baseFlags: ctor.baseFlags,
      enableJsonFlag: ctor.enableJsonFlag,
      args: ctor.args,
      strict: false,
    });
    const ids = [...new Set(argv.map(String))];
    const catalogue = await this.catalogue();
    const found = await catalogue.prices(ids, { offline: this.flags.offline });
    const unknown = found.missing.filter((missing) => missing.reason === 'unknown');
    if (found.prices.length === 0 && unknown.length > 0) {
      const [first] = unknown;
      const hint = didYouMean(first?.suggestions ?? []);
      throw new InputError(
        `fal's catalogue does not list ${unknown.map((missing) => missing.endpointId).join(', ')}${hint ? `; ${hint}` : '.'} Find ids with \`falai models search <words>\`.`,
        unknown.map((missing) => ({
          path: [missing.endpointId],
          message: 'not in fal catalogue',
          kind: 'unknown-model',
        })),
        { code: 'MODEL_UNKNOWN', details: { missing: found.missing } },
      );
    }
    if (found.prices.length > 0) {
      this.log(
        table(
          ['ENDPOINT', 'UNIT PRICE', 'UNIT', 'CURRENCY'],
          found.prices.map((price) => [
            price.endpointId,
            String(price.unitPrice),
            price.unit,
            price.currency,
          ]),
        ),
      );
    }
    for (const missing of found.missing) {
      const why =
        missing.reason === 'unknown'
          ? `fal's catalogue does not list it${missing.suggestions?.length ? ` (${didYouMean(missing.suggestions)})` : ''}`
          : missing.reason === 'unpriced'
            ? 'fal has no price for it'
            : 'no cached price (run without --offline, with a key)';
      this.log(`${missing.endpointId}: ${why}`);
    }
    for (const note of found.notes) this.note(note);
    const units = found.prices.find((price) => price.unit === 'units');
    if (units) {
      this.note(
        `${units.endpointId} is priced per "unit" (${priceText(units)}): one call may bill several units.`,
      );
    }
    return {
      prices: found.prices.map((price) => ({ ...price })),
      missing: found.missing.map((missing) => ({
        endpointId: missing.endpointId,
        reason: missing.reason,
        ...(missing.suggestions ? { suggestions: [...missing.suggestions] } : {}),
      })),
      source: found.source,
      notes: [...found.notes],
    };
  }
}
