import { CatalogueCache, catalogueCacheFolder } from '../catalogue/cache.js';
import { type FalaiError, toFalaiError } from '../errors/falai-error.js';
import type { ModelDefinition } from '../models/definition.js';
import type { PlatformClient } from '../platform/client.js';
import {
  type EstimateResult,
  estimateFromHistory,
  planEstimate,
  type UnitPrice,
} from './estimate.js';

/** How long a cached price (and a historical cost per call) counts as fresh. @default 24 h */
export const DEFAULT_PRICE_TTL_MS = 24 * 60 * 60 * 1000;

/** Options of {@link createCostEstimator}. */
export interface CostEstimatorOptions {
  /** The Platform API base the prices come from (one cache folder per base). */
  readonly apiUrl: string;
  /**
   * The Platform client, or a function making it: called only when a price is not cached
   * fresh, so an estimate from the cache needs no key and no network.
   */
  readonly platform: PlatformClient | (() => PlatformClient | Promise<PlatformClient>);
  /**
   * falai's cache folder (the CLI's `config.cacheDir`): prices are kept beside the catalogue's
   * (`<cacheDir>/catalogue/<api>/prices.json`, shared with `falai pricing`), historical costs
   * per call in `history-costs.json`. Without it, prices are kept in memory only.
   */
  readonly cacheDir?: string;
  /** @default DEFAULT_PRICE_TTL_MS (24 h) */
  readonly ttlMs?: number | undefined;
  /** Test seam: the clock. @default Date.now */
  readonly now?: () => number;
}

/** A price lookup: the price (fresh, or cached when fal cannot be asked), or why there is none. */
export type PriceLookup =
  | {
      readonly price: UnitPrice;
      /** `fal`: asked now; `cache`: from the cache (fresh, or stale with a note). */
      readonly source: 'fal' | 'cache';
      readonly notes: readonly string[];
    }
  | { readonly price: null; readonly reason: string };

/** What {@link CostEstimator.estimate} is asked. */
export interface CostEstimateRequest {
  readonly endpointId: string;
  /** The input as validated (before files are uploaded: only sizes and counts matter). */
  readonly input: Record<string, unknown>;
  /** The model's definition, for the defaults of fields the input leaves out. */
  readonly definition?: ModelDefinition;
  readonly signal?: AbortSignal | undefined;
}

/** Estimates the cost of requests from fal's unit prices, cached on disk with a TTL. */
export interface CostEstimator {
  readonly apiUrl: string;
  /** The endpoint's unit price: fresh from the cache, else from fal (then cached). */
  price(
    endpointId: string,
    options?: { readonly signal?: AbortSignal | undefined },
  ): Promise<PriceLookup>;
  /** The cost of one request, or why it cannot be estimated (never a guess). */
  estimate(request: CostEstimateRequest): Promise<EstimateResult>;
}

/** The one-line reason of a failed call; an abort is not a failure and is rethrown. */
function why(error: unknown): FalaiError {
  const falai = toFalaiError(error);
  if (falai.code === 'ABORTED') throw falai;
  return falai;
}

function firstLine(error: FalaiError): string {
  return error.message.split('\n')[0] ?? error.code;
}

/**
 * The cost estimator behind every paid submit: unit prices from fal's pricing (cached on disk
 * for `ttlMs`, like the catalogue, and served stale with a note when fal cannot be asked),
 * estimates from the input (see `planEstimate`), and fal's historical cost per call for `units`
 * and whatever the input cannot measure (cached the same way).
 */
export function createCostEstimator(options: CostEstimatorOptions): CostEstimator {
  const ttl = options.ttlMs ?? DEFAULT_PRICE_TTL_MS;
  const now = options.now ?? Date.now;
  const cache = options.cacheDir
    ? new CatalogueCache(catalogueCacheFolder(options.cacheDir, options.apiUrl))
    : undefined;
  const memory = new Map<string, UnitPrice & { fetchedAt: string }>();
  const memoryHistory = new Map<string, { costPerCall: number; fetchedAt: string }>();
  const fresh = (iso: string) => {
    const at = Date.parse(iso);
    return Number.isFinite(at) && now() - at < ttl && at <= now() + 60_000;
  };
  let client: Promise<PlatformClient> | undefined;
  const platform = () => {
    client ??= Promise.resolve(
      typeof options.platform === 'function' ? options.platform() : options.platform,
    );
    client.catch(() => {
      client = undefined;
    });
    return client;
  };

  const cachedPrice = async (endpointId: string) => {
    const held = memory.get(endpointId);
    if (held) return held;
    if (!cache) return undefined;
    const prices = await cache.readPrices();
    const price = Object.hasOwn(prices, endpointId) ? prices[endpointId] : undefined;
    if (!price) return undefined;
    // Kept in memory too: a batch prices thousands of rows, and the file is read once.
    const entry = { endpointId, ...price };
    memory.set(endpointId, entry);
    return entry;
  };

  const price: CostEstimator['price'] = async (endpointId, priceOptions = {}) => {
    const cached = await cachedPrice(endpointId);
    if (cached && fresh(cached.fetchedAt)) {
      const { fetchedAt: _, ...unitPrice } = cached;
      return { price: unitPrice, source: 'cache', notes: [] };
    }
    let found: UnitPrice | undefined;
    try {
      const prices = await (await platform()).getPrices(
        [endpointId],
        priceOptions.signal ? { signal: priceOptions.signal } : {},
      );
      found = prices.find((item) => item.endpointId === endpointId);
    } catch (error) {
      const failure = why(error);
      if (failure.code === 'NOT_FOUND') {
        return { price: null, reason: `fal's pricing does not know ${endpointId}` };
      }
      const reason =
        failure.code === 'AUTH_MISSING'
          ? 'prices need a fal key (set FAL_KEY or `falai config set key …`)'
          : `fal's pricing could not be asked (${firstLine(failure)})`;
      if (cached) {
        const { fetchedAt, ...unitPrice } = cached;
        return {
          price: unitPrice,
          source: 'cache',
          notes: [`${reason}; using the price of ${endpointId} cached at ${fetchedAt}`],
        };
      }
      return { price: null, reason };
    }
    if (!found) return { price: null, reason: `fal lists no price for ${endpointId}` };
    const entry = {
      endpointId,
      unitPrice: found.unitPrice,
      unit: found.unit,
      currency: found.currency,
      fetchedAt: new Date(now()).toISOString(),
    };
    memory.set(endpointId, entry);
    await cache?.mergePrices({
      [endpointId]: {
        unitPrice: entry.unitPrice,
        unit: entry.unit,
        currency: entry.currency,
        fetchedAt: entry.fetchedAt,
      },
    });
    const { fetchedAt: _, ...unitPrice } = entry;
    return { price: unitPrice, source: 'fal', notes: [] };
  };

  /** fal's historical cost of one call: cached fresh, else asked (then cached), else stale. */
  const historicalCost = async (
    endpointId: string,
    signal?: AbortSignal,
  ): Promise<{ cost: number; notes: string[] } | { cost: null; reason: string }> => {
    let held = memoryHistory.get(endpointId);
    if (!held && cache) {
      held = (await cache.readHistoryCosts())[endpointId];
      if (held) memoryHistory.set(endpointId, held);
    }
    if (held && fresh(held.fetchedAt)) return { cost: held.costPerCall, notes: [] };
    try {
      const answer = await (await platform()).estimateCost(
        { estimateType: 'historical_api_price', endpoints: { [endpointId]: 1 } },
        signal ? { signal } : {},
      );
      if (
        answer.currency.toUpperCase() !== 'USD' ||
        !Number.isFinite(answer.totalCost) ||
        answer.totalCost < 0
      ) {
        return { cost: null, reason: `fal's historical estimate is not in US dollars` };
      }
      const entry = { costPerCall: answer.totalCost, fetchedAt: new Date(now()).toISOString() };
      memoryHistory.set(endpointId, entry);
      await cache?.mergeHistoryCosts({ [endpointId]: entry });
      return { cost: entry.costPerCall, notes: [] };
    } catch (error) {
      const failure = why(error);
      const reason = `fal's historical estimate could not be asked (${firstLine(failure)})`;
      if (held) {
        return {
          cost: held.costPerCall,
          notes: [`${reason}; using the one cached at ${held.fetchedAt}`],
        };
      }
      return { cost: null, reason };
    }
  };

  return {
    apiUrl: options.apiUrl,
    price,
    async estimate(request) {
      const found = await price(
        request.endpointId,
        request.signal ? { signal: request.signal } : {},
      );
      if (found.price === null) return { estimate: null, reason: found.reason };
      const plan = planEstimate(found.price, request.input, request.definition);
      if (!('history' in plan)) {
        return found.notes.length > 0 ? { ...plan, notes: found.notes } : plan;
      }
      const history = await historicalCost(request.endpointId, request.signal);
      if (history.cost === null) {
        return {
          estimate: null,
          reason: `${plan.why}, and ${history.reason}`,
          ...(found.notes.length > 0 ? { notes: found.notes } : {}),
        };
      }
      const done = estimateFromHistory(found.price, plan, history.cost);
      const notes = [...found.notes, ...history.notes];
      return notes.length > 0 ? { ...done, notes } : done;
    },
  };
}

/** Options of {@link costEstimatorFor}. */
export interface SettingsEstimatorOptions {
  /** falai's cache folder (`defaultCacheDir()`, the CLI's `config.cacheDir`). */
  readonly cacheDir?: string;
  /** The key, or a function returning it; read only when fal must be asked. */
  readonly credentials: string | (() => Promise<string> | string);
  readonly userAgent?: string;
  readonly fetch?: typeof fetch;
  /** Per attempt. @default 15000 */
  readonly timeoutMs?: number;
  /** @default DEFAULT_PRICE_TTL_MS */
  readonly ttlMs?: number;
}

/**
 * The cost estimator for resolved settings: prices from the Platform API the settings name
 * (`<FALAI_BASE_URL>/v1` for the emulator), cached in `cacheDir`. Pricing calls retry once and
 * time out after 15 s: an estimate that cannot be made is said, not waited for.
 */
export function costEstimatorFor(
  settings: { readonly apiUrl: string },
  options: SettingsEstimatorOptions,
): CostEstimator {
  return createCostEstimator({
    apiUrl: settings.apiUrl,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ttlMs: options.ttlMs,
    platform: async () => {
      const { createPlatformClient } = await import('../platform/client.js');
      return createPlatformClient({
        apiUrl: settings.apiUrl,
        credentials: options.credentials,
        retry: { maxRetries: 1, maxDelayMs: 2000 },
        timeoutMs: options.timeoutMs ?? 15_000,
        ...(options.userAgent ? { userAgent: options.userAgent } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
    },
  });
}
