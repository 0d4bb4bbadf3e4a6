import type { ModelDefinition } from '../models/definition.js';
import { MAX_REQUEST_USD } from '../platform/money.js';
import {
  type Reading,
  requestedCharacters,
  requestedCount,
  requestedMegapixels,
  requestedSeconds,
} from './request-size.js';
import { type PriceUnit, parsePriceUnit, unitLabel } from './units.js';

/**
 * The estimate of one request's cost, from its input and the endpoint's unit price (pure). Per
 * image × `num_images`, per megapixel × requested size, per second × requested duration, per
 * call, per characters of text; `units` (and anything the input cannot measure) from what
 * calls have cost on average (fal's historical estimate). When nothing sound can be said the
 * answer is "no estimate" with the reason, never a guess.
 */

/** One endpoint's unit price, as fal's pricing states it. */
export interface UnitPrice {
  readonly endpointId: string;
  readonly unitPrice: number;
  /** fal's free text: `images`, `megapixels`, `seconds`, `1000 characters`, `units`, … */
  readonly unit: string;
  /** ISO 4217, e.g. `USD`. */
  readonly currency: string;
}

/** An estimate that could be made. */
export interface CostEstimate {
  /** US dollars, rounded up to the micro-dollar. */
  readonly usd: number;
  readonly currency: 'USD';
  /** How it was computed, e.g. `2 images × $0.15/image`. */
  readonly basis: string;
  /** What was assumed (empty when the input said everything). */
  readonly assumptions: readonly string[];
  /** `input`: measured from the input; `history`: what calls have cost on average. */
  readonly method: 'input' | 'history';
  /** Billable units expected (in fal's unit). */
  readonly units: number;
  /** fal's unit text and price per unit. */
  readonly unit: string;
  readonly unitPrice: number;
}

/** An estimate, or why there is none. */
export type EstimateResult =
  | { readonly estimate: CostEstimate; readonly notes?: readonly string[] }
  | { readonly estimate: null; readonly reason: string; readonly notes?: readonly string[] };

/** What {@link planEstimate} needs to finish: fal's historical cost of one call. */
export interface NeedsHistory {
  readonly history: true;
  /** Why the input cannot measure it (said in the basis). */
  readonly why: string;
  readonly unit: PriceUnit;
}

/** Rounds dollars up to the micro-dollar, so a cap is never under-reserved by rounding. */
export function roundUpUsd(usd: number): number {
  return Math.ceil(usd * 1e6 - 1e-6) / 1e6;
}

/** `$0.30`, `$0.0262`, `$1.40`: at least cents, more digits only when they matter. */
export function formatUsd(usd: number): string {
  const text = usd.toFixed(6).replace(/0+$/, '');
  const [whole, fraction = ''] = text.split('.');
  return `$${whole}.${fraction.padEnd(2, '0')}`;
}

const amount = (value: number) => String(Math.round(value * 1e6) / 1e6);

function plural(count: number, label: string): string {
  return count === 1 ? label : `${label}s`;
}

function result(
  price: UnitPrice,
  units: number,
  basis: string,
  assumptions: readonly string[],
  method: 'input' | 'history',
): EstimateResult {
  const usd = roundUpUsd(units * price.unitPrice);
  if (!Number.isFinite(usd) || usd < 0 || usd > MAX_REQUEST_USD) {
    return {
      estimate: null,
      reason: `the estimate of ${price.endpointId} came to ${String(usd)} USD, which is not a cost falai trusts (${basis})`,
    };
  }
  return {
    estimate: {
      usd,
      currency: 'USD',
      basis: `${basis} = ${formatUsd(usd)}`,
      assumptions,
      method,
      units: Math.round(units * 1e6) / 1e6,
      unit: price.unit,
      unitPrice: price.unitPrice,
    },
  };
}

/** `× $0.15/image`. */
function per(price: UnitPrice, unit: PriceUnit): string {
  return `× ${formatUsd(price.unitPrice)}/${unitLabel(unit)}`;
}

function usable(price: UnitPrice): string | undefined {
  if (price.currency.toUpperCase() !== 'USD') {
    return `fal prices ${price.endpointId} in ${price.currency}; falai's estimates and caps are in US dollars`;
  }
  if (!Number.isFinite(price.unitPrice) || price.unitPrice < 0) {
    return `fal's price for ${price.endpointId} is not a number falai can use (${String(price.unitPrice)})`;
  }
  return undefined;
}

/**
 * Estimates from the input where the unit allows it (images, megapixels, seconds, minutes,
 * videos, calls, characters), or says the historical cost of a call is needed (`units`,
 * compute seconds, unknown units, a duration the input does not give).
 */
export function planEstimate(
  price: UnitPrice,
  input: Record<string, unknown>,
  definition?: ModelDefinition,
): EstimateResult | NeedsHistory {
  const unusable = usable(price);
  if (unusable) return { estimate: null, reason: unusable };
  const unit = parsePriceUnit(price.unit);
  const scaled = (reading: Reading) => reading.value / unit.per;
  switch (unit.kind) {
    case 'image': {
      const count = requestedCount(input, definition);
      const units = scaled(count);
      return result(
        price,
        units,
        `${amount(count.value)} ${plural(count.value, 'image')} (${count.from}) ${per(price, unit)}`,
        count.assumptions,
        'input',
      );
    }
    case 'megapixel': {
      const count = requestedCount(input, definition);
      const size = requestedMegapixels(input, definition);
      const units = scaled({ ...size, value: size.value * count.value });
      return result(
        price,
        units,
        `${amount(count.value)} × ${amount(size.value)} MP (${size.from}) ${per(price, unit)}`,
        [...count.assumptions, ...size.assumptions],
        'input',
      );
    }
    case 'second':
    case 'minute': {
      const seconds = requestedSeconds(input, definition);
      if (!seconds) {
        return {
          history: true,
          why: 'the input names no duration',
          unit,
        };
      }
      const inUnits = unit.kind === 'minute' ? seconds.value / 60 : seconds.value;
      const units = inUnits / unit.per;
      return result(
        price,
        units,
        `${amount(inUnits)} ${plural(inUnits, unit.kind)} (${seconds.from}) ${per(price, unit)}`,
        [
          ...seconds.assumptions,
          'fal bills the output length, which may differ slightly from the requested one',
        ],
        'input',
      );
    }
    case 'video': {
      const count = requestedCount(input, definition, ['num_videos', 'num_outputs']);
      return result(
        price,
        scaled(count),
        `${amount(count.value)} ${plural(count.value, 'video')} ${per(price, unit)}`,
        count.assumptions,
        'input',
      );
    }
    case 'call':
      return result(price, 1 / unit.per, `1 request ${per(price, unit)}`, [], 'input');
    case 'character': {
      const text = requestedCharacters(input);
      if (!text) return { history: true, why: 'the input has no text to count', unit };
      return result(price, scaled(text), `${text.from} ${per(price, unit)}`, [], 'input');
    }
    case 'compute-second':
      return { history: true, why: 'run time is only known once the request has run', unit };
    case 'units':
      return {
        history: true,
        why: `fal's "${price.unit}" does not say how many a call bills`,
        unit,
      };
    case 'other':
      return {
        history: true,
        why: `falai cannot measure "${price.unit}" from the input`,
        unit,
      };
  }
}

/**
 * Finishes a {@link NeedsHistory} plan with fal's historical cost of one call (its
 * `historical_api_price` estimate): units per call = cost per call ÷ unit price, so a `units`
 * price billing several units per call is not under-estimated (the 4.5× case of §2).
 */
export function estimateFromHistory(
  price: UnitPrice,
  plan: NeedsHistory,
  costPerCall: number,
): EstimateResult {
  if (!Number.isFinite(costPerCall) || costPerCall < 0) {
    return {
      estimate: null,
      reason: `fal's historical cost of a call to ${price.endpointId} is not a number falai can use`,
    };
  }
  const unitsPerCall = price.unitPrice > 0 ? costPerCall / price.unitPrice : 0;
  const usd = roundUpUsd(costPerCall);
  if (usd > MAX_REQUEST_USD) {
    return {
      estimate: null,
      reason: `fal's historical cost of ${price.endpointId} is implausible`,
    };
  }
  return {
    estimate: {
      usd,
      currency: 'USD',
      basis: `≈${amount(unitsPerCall)} ${plural(unitsPerCall, unitLabel(plan.unit))} per request (fal's average for ${price.endpointId}) ${per(price, plan.unit)} = ${formatUsd(usd)}`,
      assumptions: [
        `${plan.why}: the cost of an average request to this endpoint (fal's historical estimate)`,
      ],
      method: 'history',
      units: Math.round(unitsPerCall * 1e6) / 1e6,
      unit: price.unit,
      unitPrice: price.unitPrice,
    },
  };
}
