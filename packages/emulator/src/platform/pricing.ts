import type { Job } from '../jobs.js';
import { videoSeconds } from '../outputs.js';
import type { BillingRule, CatalogueData, CatalogueModel, PriceEntry } from './catalogue.js';
import { invalid, notFound } from './errors.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Rounds money to nano-dollars, the precision of `cost_estimate_nano_usd`. */
export const roundMoney = (value: number): number => Math.round(value * 1e9) / 1e9;

/** A default from the model's input schema. */
function schemaDefault(model: CatalogueModel | undefined, field: string): unknown {
  const properties = isRecord(model?.input.properties) ? model.input.properties : {};
  const schema = properties[field];
  return isRecord(schema) ? schema.default : undefined;
}

/**
 * Megapixels of one requested image: `image_size` as a preset name or `{width, height}`, else
 * the schema's default size. [?] Models sized by the input image (image-to-image) bill 1 MP
 * here, and fal's rounding of megapixels is not documented (none is applied).
 */
export function requestedMegapixels(
  input: Record<string, unknown>,
  model: CatalogueModel | undefined,
  presets: Record<string, [number, number]>,
): number {
  const size = input.image_size ?? schemaDefault(model, 'image_size');
  if (typeof size === 'string' && presets[size]) {
    const [width, height] = presets[size];
    return (width * height) / 1e6;
  }
  if (isRecord(size) && typeof size.width === 'number' && typeof size.height === 'number') {
    return (size.width * size.height) / 1e6;
  }
  return 1;
}

function count(value: unknown, fallback: number): number {
  const number = typeof value === 'string' ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 1 ? number : fallback;
}

/** What the billing rules need about one finished job. */
export interface BillingContext {
  job: Job;
  output: unknown;
  model: CatalogueModel | undefined;
  /** Seconds of the audio the emulator generated for this request, when it made audio. */
  audioSeconds?: number | undefined;
}

/**
 * `x-fal-billable-units` of a successful result under a model's billing rule (prices.json):
 * output images, requested megapixels, requested video seconds [?], output audio seconds, input
 * characters, one call, the run time, or a fixed number of `units` per call.
 */
export async function billableUnits(
  rule: BillingRule,
  context: BillingContext,
  presets: Record<string, [number, number]>,
): Promise<string> {
  const input = isRecord(context.job.info.input) ? context.job.info.input : {};
  const output = isRecord(context.output) ? context.output : {};
  const per = rule.per ?? 1;
  const plain = (value: number) => String(Number(value.toFixed(6)));
  switch (rule.measure) {
    case 'images':
      return String(Array.isArray(output.images) ? output.images.length : 1);
    case 'megapixels': {
      const images = Array.isArray(output.images)
        ? output.images.length
        : count(input.num_images ?? schemaDefault(context.model, 'num_images'), 1);
      return plain(images * requestedMegapixels(input, context.model, presets));
    }
    case 'video_seconds':
      // [?] The requested duration (else the schema default): fal bills the output's length
      // (a 3 s request billed 3.008 s, platform §2), and the emulator's sample video is 1 s.
      return plain(await videoSeconds(input.duration, schemaDefault(context.model, 'duration')));
    case 'audio_seconds':
      return plain((context.audioSeconds ?? 0) / per);
    case 'characters': {
      const text = input[rule.field ?? 'text'];
      return plain((typeof text === 'string' ? [...text].length : 0) / per);
    }
    case 'calls':
      return '1';
    case 'run_seconds':
      return plain(context.job.runMs / 1000);
    case 'units':
      return plain(rule.units_per_call ?? 1);
  }
}

/** Prices by endpoint id. */
export function priceIndex(data: CatalogueData): Map<string, PriceEntry> {
  return new Map(data.prices.map((price) => [price.endpoint_id, price]));
}

/** The body of `POST /models/pricing/estimate`, checked as fal's schema describes it. */
export function estimate(
  body: unknown,
  prices: Map<string, PriceEntry>,
  known: (endpointId: string) => boolean,
): { estimate_type: string; total_cost: number; currency: string } {
  if (!isRecord(body)) throw invalid('The body must be a JSON object');
  const type = body.estimate_type;
  if (type !== 'historical_api_price' && type !== 'unit_price') {
    throw invalid('estimate_type must be "historical_api_price" or "unit_price"');
  }
  const endpoints = body.endpoints;
  if (!isRecord(endpoints) || Object.keys(endpoints).length === 0) {
    throw invalid('endpoints must be an object of at least one endpoint id');
  }
  if (Object.keys(endpoints).length > 50) throw invalid('endpoints accepts at most 50 ids');
  let total = 0;
  const missing: string[] = [];
  for (const [endpointId, spec] of Object.entries(endpoints)) {
    if (!isRecord(spec)) throw invalid(`endpoints.${endpointId} must be an object`);
    const price = prices.get(endpointId);
    if (!price) {
      missing.push(endpointId);
      continue;
    }
    if (type === 'historical_api_price') {
      const calls = spec.call_quantity;
      if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 1) {
        throw invalid(`endpoints.${endpointId}.call_quantity must be an integer ≥ 1`);
      }
      total += calls * price.historical_cost_per_call;
    } else {
      const units = spec.unit_quantity;
      if (typeof units !== 'number' || !Number.isFinite(units) || units < 1e-6) {
        throw invalid(`endpoints.${endpointId}.unit_quantity must be a number ≥ 0.000001`);
      }
      total += units * price.unit_price;
    }
  }
  if (missing.length > 0) {
    // [?] fal's answer for an endpoint without a price is not documented; 404 names them.
    throw notFound(
      `No price for ${missing.join(', ')}${missing.some((id) => !known(id)) ? ' (unknown endpoint)' : ''}`,
    );
  }
  return { estimate_type: type, total_cost: roundMoney(total), currency: 'USD' };
}
