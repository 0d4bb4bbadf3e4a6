import { describe, expect, it } from 'vitest';
import {
  estimateFromHistory,
  formatUsd,
  planEstimate,
  roundUpUsd,
  type UnitPrice,
} from '../../src/cost/estimate.js';
import { parsePriceUnit } from '../../src/cost/units.js';
import type { ModelDefinition } from '../../src/models/definition.js';

/**
 * The estimate from an input and a unit price (pure): each unit kind measured from the input
 * (and the model's defaults), what was assumed said, and "history needed" where the input
 * cannot measure it.
 */
const price = (unit: string, unitPrice: number, currency = 'USD'): UnitPrice => ({
  endpointId: 'acme/model',
  unit,
  unitPrice,
  currency,
});

/** A minimal model definition whose inputs declare the given defaults. */
function model(
  defaults: Record<string, unknown>,
  limits?: ModelDefinition['limits'],
): ModelDefinition {
  return {
    endpointId: 'acme/model',
    name: 'Model',
    description: 'A model.',
    category: 'text-to-image',
    input: Object.fromEntries(
      Object.entries(defaults).map(([field, value]) => [
        field,
        { type: typeof value === 'number' ? 'number' : 'string', default: value },
      ]),
    ) as ModelDefinition['input'],
    output: { kind: 'images', schema: {} },
    example: {},
    ...(limits ? { limits } : {}),
  } as ModelDefinition;
}

/** The estimate of a plan that needs no history. */
function usd(result: ReturnType<typeof planEstimate>) {
  if ('history' in result) throw new Error(`needs history: ${result.why}`);
  if (result.estimate === null) throw new Error(`no estimate: ${result.reason}`);
  return result.estimate;
}

describe('parsePriceUnit', () => {
  it.each([
    ['images', 'image', 1],
    ['per image', 'image', 1],
    ['megapixels', 'megapixel', 1],
    ['MP', 'megapixel', 1],
    ['seconds', 'second', 1],
    ['video seconds', 'second', 1],
    ['minutes', 'minute', 1],
    ['videos', 'video', 1],
    ['requests', 'call', 1],
    ['1000 characters', 'character', 1000],
    ['1k characters', 'character', 1000],
    ['compute seconds', 'compute-second', 1],
    ['units', 'units', 1],
    ['tokens', 'other', 1],
  ])('%s → %s per %d', (text, kind, per) => {
    expect(parsePriceUnit(text)).toEqual({ kind, per, text });
  });
});

describe('planEstimate', () => {
  it('per image × num_images, given or the model default, else one (said)', () => {
    const given = usd(planEstimate(price('images', 0.15), { num_images: 3 }));
    expect(given.usd).toBe(0.45);
    expect(given.units).toBe(3);
    expect(given.basis).toBe('3 images (num_images 3) × $0.15/image = $0.45');
    expect(given.assumptions).toEqual([]);
    expect(given.method).toBe('input');

    const byDefault = usd(planEstimate(price('images', 0.15), {}, model({ num_images: 2 })));
    expect(byDefault.usd).toBe(0.3);
    expect(byDefault.basis).toContain('num_images 2, the model default');

    const none = usd(planEstimate(price('images', 0.15), {}));
    expect(none.usd).toBe(0.15);
    expect(none.assumptions).toEqual(['one output (the input names no num_images)']);
  });

  it('per megapixel × image_size presets and {width, height}, × images', () => {
    const preset = usd(
      planEstimate(price('megapixels', 0.025), { image_size: 'landscape_16_9', num_images: 2 }),
    );
    // 1024 × 576 = 0.589824 MP, two images.
    expect(preset.units).toBeCloseTo(1.179648, 6);
    expect(preset.usd).toBe(roundUpUsd(1.179648 * 0.025));
    expect(preset.basis).toContain('image_size landscape_16_9 (1024×576)');

    const custom = usd(
      planEstimate(price('megapixels', 0.02), { image_size: { width: 2000, height: 1000 } }),
    );
    expect(custom.units).toBe(2);
    expect(custom.usd).toBe(0.04);

    const fromDefault = usd(
      planEstimate(price('megapixels', 0.01), {}, model({ image_size: 'square' })),
    );
    expect(fromDefault.units).toBeCloseTo(0.262144, 6);
    // The size came from the model; only the count was assumed.
    expect(fromDefault.assumptions).toEqual(['one output (the input names no num_images)']);
  });

  it('per megapixel from width and height, aspect ratio with resolution, or an assumed 1024²', () => {
    const sides = usd(planEstimate(price('megapixels', 1), { width: 1000, height: 500 }));
    expect(sides.units).toBe(0.5);
    const aspect = usd(
      planEstimate(price('megapixels', 1), { aspect_ratio: '16:9', resolution: '2K' }),
    );
    // The area of a 2048² square at 16:9.
    expect(aspect.units).toBeCloseTo((2048 * 2048) / 1e6, 1);
    expect(aspect.assumptions.join(' ')).toContain('2K as the area of a 2048×2048 square');
    const assumed = usd(planEstimate(price('megapixels', 1), {}));
    expect(assumed.units).toBeCloseTo(1.048576, 6);
    expect(assumed.assumptions).toContain('1024×1024 per image (the input names no size)');
  });

  it('per second × the requested duration ("5", "5s", 5, the default, frames at fps)', () => {
    for (const duration of ['5', '5s', 5]) {
      const estimate = usd(planEstimate(price('seconds', 0.28), { duration }));
      expect(estimate.usd).toBe(1.4);
      expect(estimate.units).toBe(5);
    }
    expect(usd(planEstimate(price('seconds', 0.1), {}, model({ duration: '10' }))).usd).toBe(1);
    const frames = usd(
      planEstimate(price('seconds', 0.1), { num_frames: 120, frames_per_second: 24 }),
    );
    expect(frames.units).toBe(5);
    expect(frames.assumptions.join(' ')).toContain('output length');
  });

  it('a video-to-video price with no duration assumes the longest source the model accepts', () => {
    const definition = model({}, { video: { formats: ['mp4'], maxDurationSeconds: 15 } });
    const estimate = usd(planEstimate(price('seconds', 0.168), {}, definition));
    expect(estimate.usd).toBe(2.52);
    expect(estimate.assumptions.join(' ')).toContain('upper bound');
  });

  it('per minute, per video, per request, per 1000 characters', () => {
    expect(usd(planEstimate(price('minutes', 0.8), { duration: 90 })).usd).toBe(1.2);
    expect(usd(planEstimate(price('videos', 0.4), {})).usd).toBe(0.4);
    expect(usd(planEstimate(price('requests', 0.002), { anything: 1 })).usd).toBe(0.002);
    const text = usd(planEstimate(price('1000 characters', 0.1), { text: 'x'.repeat(2500) }));
    expect(text.units).toBe(2.5);
    expect(text.usd).toBe(0.25);
    // Characters are code points: an emoji is one.
    expect(usd(planEstimate(price('1000 characters', 1), { prompt: '🙂🙂' })).units).toBe(0.002);
  });

  it('says history is needed for units, compute seconds, unknown units, and an unknown duration', () => {
    for (const [unit, input] of [
      ['units', {}],
      ['compute seconds', {}],
      ['tokens', {}],
      ['seconds', { prompt: 'no duration here' }],
      ['1000 characters', { seed: 1 }],
    ] as const) {
      const plan = planEstimate(price(unit, 0.1), input);
      expect('history' in plan, unit).toBe(true);
    }
  });

  it('refuses a price in another currency, or one that is not a number', () => {
    const euro = planEstimate(price('images', 0.1, 'EUR'), {});
    expect(euro).toMatchObject({ estimate: null, reason: expect.stringContaining('EUR') });
    const broken = planEstimate(price('images', Number.NaN), {});
    expect(broken).toMatchObject({ estimate: null });
  });
});

describe('estimateFromHistory', () => {
  it('calibrates a units price with the historical cost of a call (units per call = cost ÷ price)', () => {
    const unitPrice = price('units', 0.124);
    const plan = planEstimate(unitPrice, { prompt: 'a wave' });
    if (!('history' in plan)) throw new Error('expected a history plan');
    const result = estimateFromHistory(unitPrice, plan, 0.62);
    if (result.estimate === null) throw new Error(result.reason);
    expect(result.estimate.usd).toBe(0.62);
    expect(result.estimate.units).toBe(5);
    expect(result.estimate.method).toBe('history');
    expect(result.estimate.basis).toContain('≈5 units per request');
    expect(result.estimate.assumptions[0]).toContain('does not say how many a call bills');
  });

  it('refuses a historical cost that is not a number', () => {
    const unitPrice = price('units', 0.1);
    const plan = planEstimate(unitPrice, {});
    if (!('history' in plan)) throw new Error('expected a history plan');
    expect(estimateFromHistory(unitPrice, plan, Number.NaN)).toMatchObject({ estimate: null });
  });
});

describe('money', () => {
  it('rounds up to the micro-dollar and prints cents or the digits that matter', () => {
    expect(roundUpUsd(0.1 + 0.2)).toBe(0.3);
    expect(roundUpUsd(0.0000011)).toBe(0.000002);
    expect(formatUsd(0.3)).toBe('$0.30');
    expect(formatUsd(0.0262)).toBe('$0.0262');
    expect(formatUsd(1.4)).toBe('$1.40');
    expect(formatUsd(12)).toBe('$12.00');
  });
});
