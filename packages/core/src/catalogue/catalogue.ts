import type { FalaiSettings } from '../config/settings.js';
import { AuthError, FalaiError, NetworkError, toFalaiError } from '../errors/falai-error.js';
import type { ModelDefinition } from '../models/definition.js';
import { convertPlatformModels } from '../models/openapi.js';
import type {
  DefinitionProvider,
  ProvidedDefinition,
  ProviderAnswer,
  ResolveOptions,
} from '../models/provider.js';
import type { PlatformClient } from '../platform/client.js';
import type { PlatformModel } from '../platform/schemas.js';
import type { RetryPolicy } from '../queue/retry.js';
import {
  type CachedPrice,
  CatalogueCache,
  type CatalogueIndex,
  type CatalogueModel,
  catalogueCacheFolder,
  type DefinitionEntry,
} from './cache.js';
import { catalogueModelOf, matchesSearch } from './search.js';
import { closestEndpointIds, looksLikeTypo } from './suggest.js';

/** How long a cached definition, the catalogue index and prices count as fresh. @default 24 h */
export const DEFAULT_CATALOGUE_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Catalogue models per page when falai lists the whole catalogue (for suggestions).
 * [?] fal's maximum page size for `GET /models` is not documented; the emulator allows 100.
 */
export const CATALOGUE_INDEX_PAGE_SIZE = 100;

/** More models than fal has ever listed: a listing that goes on past it stops there. */
const MAX_INDEX_MODELS = 50_000;

/**
 * Catalogue calls retry once: an unreachable catalogue falls back to the cache, and a command
 * should not wait through the queue client's full backoff to get there.
 */
const CATALOGUE_RETRY: Partial<RetryPolicy> = { maxRetries: 1, maxDelayMs: 2000 };

/** Options of {@link createModelCatalogue}. */
export interface ModelCatalogueOptions {
  /** falai's cache folder (the CLI's `config.cacheDir`); the catalogue keeps a folder in it. */
  readonly cacheDir: string;
  /** Resolved settings: `apiUrl`, and where the key is looked for. */
  readonly settings?: FalaiSettings;
  /** The Platform API base (`https://api.fal.ai/v1`), over `settings.apiUrl`. */
  readonly apiUrl?: string;
  /**
   * The key, or a function returning it, read only when a call is made. The catalogue is asked
   * without a key when there is none (or it is malformed); prices need one.
   * @default resolveCredentials({ settings })
   */
  readonly credentials?: string | (() => Promise<string> | string);
  /** @default DEFAULT_CATALOGUE_TTL_MS (24 h) */
  readonly ttlMs?: number;
  /** Per attempt. @default 15000 */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
  readonly fetch?: typeof fetch;
  /** A ready Platform client (tests, or to share one); then the options above are not used. */
  readonly platform?: PlatformClient;
  /** Test seam: the clock. @default Date.now */
  readonly now?: () => number;
}

/** A catalogue model with its price, when known. */
export interface CatalogueSearchHit extends CatalogueModel {
  readonly price?: CataloguePrice;
}

/** One unit price. */
export interface CataloguePrice {
  readonly endpointId: string;
  readonly unitPrice: number;
  /** fal's free text: `images`, `megapixels`, `seconds`, `1000 characters`, `units`, … */
  readonly unit: string;
  readonly currency: string;
}

/** Options of {@link ModelCatalogue.search}. */
export interface CatalogueSearchOptions {
  /** Free text: every word must appear in the id, name, category, description or tags. */
  readonly text?: string;
  /** e.g. `text-to-image`, `image-to-video`, `text-to-speech`. */
  readonly category?: string;
  /** Most models returned. @default 20 */
  readonly limit?: number;
  /** Models per catalogue page. @default min(limit, 50) */
  readonly pageSize?: number;
  /** Answer from the cache only (any age); never call fal. */
  readonly offline?: boolean;
  /** Ask fal even when the cached catalogue is fresh. */
  readonly refresh?: boolean;
  /** Attach unit prices (a key is needed for fresh ones). @default true */
  readonly prices?: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** What {@link ModelCatalogue.search} found. */
export interface CatalogueSearchResult {
  readonly models: readonly CatalogueSearchHit[];
  /** `catalogue`: fal answered now; `cache`: the cached catalogue answered. */
  readonly source: 'catalogue' | 'cache';
  /** More models match than were returned. */
  readonly hasMore: boolean;
  readonly notes: readonly string[];
}

/** Why a price is missing. */
export interface MissingPrice {
  readonly endpointId: string;
  /** `unknown`: fal's catalogue does not list the id; `unpriced`: no price; `uncached`: offline. */
  readonly reason: 'unknown' | 'unpriced' | 'uncached';
  readonly suggestions?: readonly string[];
}

/** What {@link ModelCatalogue.prices} found. */
export interface CataloguePricesResult {
  readonly prices: readonly CataloguePrice[];
  readonly missing: readonly MissingPrice[];
  readonly source: 'catalogue' | 'cache';
  readonly notes: readonly string[];
}

/** fal's catalogue with an on-disk cache: the registry's definition provider, search, prices. */
export interface ModelCatalogue extends DefinitionProvider {
  /** The Platform API base it asks. */
  readonly apiUrl: string;
  /** This API base's cache folder. */
  readonly cacheFolder: string;
  /** Catalogue models by text and category, with prices where known. */
  search(options?: CatalogueSearchOptions): Promise<CatalogueSearchResult>;
  /** Unit prices of endpoints; cached, and served from the cache when fal cannot be reached. */
  prices(
    endpointIds: readonly string[],
    options?: { readonly offline?: boolean; readonly signal?: AbortSignal | undefined },
  ): Promise<CataloguePricesResult>;
  /** The closest catalogue ids to one it does not list (lists the catalogue when needed). */
  suggest(
    endpointId: string,
    options?: { readonly signal?: AbortSignal | undefined },
  ): Promise<string[]>;
}

/** "4 min", "3 h", "2 d". */
export function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 1) return 'less than a minute';
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

/** The one-line reason of a failed catalogue call; aborts are not failures and are rethrown. */
function failureOf(error: unknown): string {
  const falai = toFalaiError(error);
  if (falai.code === 'ABORTED') throw falai;
  return falai.message.split('\n')[0] ?? falai.code;
}

/**
 * fal's catalogue behind a cache on disk (`<cacheDir>/catalogue/<api>/`). It gives the model
 * registry a definition of any endpoint (`getModel(id, {openapi})` converted with
 * `convertOpenApi`, cached for `ttlMs`; served stale with a warning when fal cannot be
 * reached), says which ids fal does not know and the closest ones it does, finds models by text
 * and category, and knows their prices.
 */
export function createModelCatalogue(options: ModelCatalogueOptions): ModelCatalogue {
  const ttl = options.ttlMs ?? DEFAULT_CATALOGUE_TTL_MS;
  const now = options.now ?? Date.now;
  const apiUrl = options.platform?.apiUrl ?? options.apiUrl ?? options.settings?.apiUrl;
  if (apiUrl === undefined) {
    throw new FalaiError(
      'CONFIG_INVALID',
      'createModelCatalogue needs the Platform API base: pass settings (resolveSettings()), apiUrl or platform.',
    );
  }
  const cache = new CatalogueCache(catalogueCacheFolder(options.cacheDir, apiUrl));
  const ageOf = (iso: string) => now() - Date.parse(iso);
  const isFresh = (iso: string | null | undefined) =>
    typeof iso === 'string' && Number.isFinite(Date.parse(iso)) && ageOf(iso) < ttl;
  const stamp = () => new Date(now()).toISOString();

  // Two clients: the catalogue is asked without a key when none is usable (it only raises
  // fal's rate limits); prices need the key, and a missing one is reported.
  let clients: Promise<{ open: PlatformClient; keyed: PlatformClient }> | undefined;
  const platform = () => {
    clients ??= (async () => {
      if (options.platform) return { open: options.platform, keyed: options.platform };
      const { createPlatformClient } = await import('../platform/client.js');
      const { resolveCredentials } = await import('../auth/credentials.js');
      const given = options.credentials;
      const lookUp = async (): Promise<string> => {
        if (typeof given === 'string') return given;
        if (typeof given === 'function') return given();
        return (await resolveCredentials(options.settings ? { settings: options.settings } : {}))
          .key;
      };
      // Looked up once for both clients and every call; a failed lookup is tried again.
      let looked: Promise<string> | undefined;
      const key = (): Promise<string> => {
        looked ??= lookUp();
        looked.catch(() => {
          looked = undefined;
        });
        return looked;
      };
      const common = {
        apiUrl,
        retry: CATALOGUE_RETRY,
        timeoutMs: options.timeoutMs ?? 15_000,
        ...(options.userAgent ? { userAgent: options.userAgent } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      };
      const anonymousOnAuthError = async () => {
        try {
          return await key();
        } catch (error) {
          if (!AuthError.isInstance(error)) throw error;
          throw new AuthError('AUTH_MISSING', 'no usable key: the catalogue is asked without one');
        }
      };
      return {
        open: createPlatformClient({ ...common, credentials: anonymousOnAuthError }),
        keyed: createPlatformClient({ ...common, credentials: key }),
      };
    })();
    return clients;
  };

  /** A cache entry from a catalogue answer: the definition converted from its OpenAPI. */
  const entryOf = (model: PlatformModel): DefinitionEntry => {
    const summary = catalogueModelOf(model);
    let definition: ModelDefinition | undefined;
    let schemaError: string | undefined;
    if (model.openapi) {
      try {
        [definition] = convertPlatformModels({
          models: [
            {
              endpoint_id: model.endpointId,
              metadata: {
                display_name: summary.name,
                category: summary.category,
                description: summary.description,
              },
              openapi: model.openapi,
            },
          ],
        });
      } catch (error) {
        schemaError = `falai could not convert its OpenAPI document (${failureOf(error)})`;
      }
    } else if (model.openapiError) {
      schemaError = `fal could not produce its OpenAPI document (${model.openapiError.code}: ${model.openapiError.message})`;
    } else {
      schemaError = 'fal sent no OpenAPI document';
    }
    return {
      version: 1,
      endpointId: model.endpointId,
      fetchedAt: stamp(),
      model: summary,
      ...(definition ? { definition } : {}),
      ...(schemaError ? { schemaError } : {}),
    };
  };

  const provided = (
    entry: DefinitionEntry,
    origin: 'catalogue' | 'cache',
    extraWarnings: readonly string[] = [],
  ): ProvidedDefinition => {
    const { endpointId, model } = entry;
    const stale = !isFresh(entry.fetchedAt);
    const deprecated = model.status === 'deprecated';
    const warnings = [...extraWarnings];
    if (deprecated) {
      warnings.push(
        `${endpointId} is deprecated in fal's catalogue: it may stop working; find a replacement with \`falai models search --category ${model.category}\``,
      );
    }
    if (!entry.definition) {
      warnings.push(
        `fal's catalogue lists ${endpointId} but has no usable schema for it (${entry.schemaError ?? 'none sent'}): the input is not validated`,
      );
    }
    const when =
      origin === 'catalogue' ? 'fetched now' : `cached ${formatAge(ageOf(entry.fetchedAt))} ago`;
    return {
      ...(entry.definition ? { definition: entry.definition } : {}),
      origin,
      deprecated,
      fetchedAt: entry.fetchedAt,
      ...(stale ? { stale: true } : {}),
      notes: entry.definition ? [`Definition of ${endpointId} from fal's catalogue (${when})`] : [],
      warnings,
    };
  };

  const listWholeCatalogue = async (signal?: AbortSignal): Promise<CatalogueIndex> => {
    const { open } = await platform();
    const models: CatalogueModel[] = [];
    for await (const model of open.iterateModels({
      limit: CATALOGUE_INDEX_PAGE_SIZE,
      signal,
    })) {
      models.push(catalogueModelOf(model));
      if (models.length >= MAX_INDEX_MODELS) break;
    }
    const index = { version: 1 as const, listedAt: stamp(), models };
    await cache.writeIndex(index);
    return index;
  };

  /** The whole catalogue: the fresh cached listing, a new one, or (unreachable) any cached. */
  const wholeCatalogue = async (signal?: AbortSignal): Promise<CatalogueIndex | undefined> => {
    const cached = await cache.readIndex();
    if (cached && isFresh(cached.listedAt)) return cached;
    try {
      return await listWholeCatalogue(signal);
    } catch (error) {
      failureOf(error);
      return cached;
    }
  };

  const unknownAnswer = async (
    endpointId: string,
    signal?: AbortSignal,
  ): Promise<ProviderAnswer> => {
    const index = await wholeCatalogue(signal);
    const ids = (index?.models ?? []).map((model) => model.endpointId);
    const suggestions = closestEndpointIds(endpointId, ids);
    const refuse = ids.length > 0 && looksLikeTypo(endpointId, ids);
    return {
      kind: 'unknown',
      suggestions,
      refuse,
      warnings: refuse
        ? []
        : [
            `fal's public catalogue does not list ${endpointId} (a private app, or a model newer than the catalogue?)`,
          ],
    };
  };

  const lookup = async (
    endpointId: string,
    lookupOptions: ResolveOptions = {},
  ): Promise<ProviderAnswer> => {
    const { signal } = lookupOptions;
    const cached = await cache.readModel(endpointId);
    if (cached && !lookupOptions.refresh && isFresh(cached.fetchedAt))
      return { kind: 'found', ...provided(cached, 'cache') };
    let model: PlatformModel | undefined;
    try {
      const { open } = await platform();
      model = await open.getModel(endpointId, { openapi: true, signal });
    } catch (error) {
      const reason = failureOf(error);
      if (cached) {
        const age = formatAge(ageOf(cached.fetchedAt));
        return {
          kind: 'found',
          ...provided(cached, 'cache', [
            `fal's catalogue could not be reached (${reason}); using the definition of ${endpointId} cached ${age} ago`,
          ]),
        };
      }
      return {
        kind: 'unavailable',
        message: `fal's catalogue could not be reached (${reason}) and nothing is cached for ${endpointId}: the endpoint id is not checked`,
      };
    }
    if (model) {
      const entry = entryOf(model);
      await Promise.all([cache.writeModel(entry), cache.mergeIndex([entry.model])]);
      return { kind: 'found', ...provided(entry, 'catalogue') };
    }
    // Listed before, gone now: the cached definition must not keep it alive.
    if (cached) await cache.removeModel(endpointId);
    return unknownAnswer(endpointId, signal);
  };

  const cachedPriceList = (
    ids: readonly string[],
    cached: Readonly<Record<string, CachedPrice>>,
  ): CataloguePrice[] =>
    ids.flatMap((id) => {
      const price = Object.hasOwn(cached, id) ? cached[id] : undefined;
      return price
        ? [
            {
              endpointId: id,
              unitPrice: price.unitPrice,
              unit: price.unit,
              currency: price.currency,
            },
          ]
        : [];
    });

  const prices: ModelCatalogue['prices'] = async (endpointIds, priceOptions = {}) => {
    const ids = [...new Set(endpointIds)];
    const cached = await cache.readPrices();
    const fromCache = (note?: string): CataloguePricesResult => {
      const found = cachedPriceList(ids, cached);
      const have = new Set(found.map((price) => price.endpointId));
      return {
        prices: found,
        missing: ids
          .filter((id) => !have.has(id))
          .map((endpointId) => ({ endpointId, reason: 'uncached' as const })),
        source: 'cache',
        notes: note ? [note] : [],
      };
    };
    if (priceOptions.offline || ids.length === 0) return fromCache();
    const { keyed } = await platform();
    const signalOption = priceOptions.signal ? { signal: priceOptions.signal } : {};
    const fetched = new Map<string, CataloguePrice>();
    const unknown: string[] = [];
    try {
      try {
        for (const price of await keyed.getPrices(ids, signalOption))
          fetched.set(price.endpointId, price);
      } catch (error) {
        // [?] fal's answer for an id it does not know is not documented; the emulator answers
        // 404 for the whole call. Then each id is asked alone, to tell which one it was.
        if (!(FalaiError.isInstance(error) && error.code === 'NOT_FOUND')) throw error;
        for (const id of ids) {
          try {
            for (const price of await keyed.getPrices([id], signalOption))
              fetched.set(price.endpointId, price);
          } catch (single) {
            if (!(FalaiError.isInstance(single) && single.code === 'NOT_FOUND')) throw single;
            unknown.push(id);
          }
        }
      }
    } catch (error) {
      const reason = failureOf(error);
      const fix =
        AuthError.isInstance(error) && error.code === 'AUTH_MISSING'
          ? 'prices need a fal key: set FAL_KEY'
          : `fal could not be asked (${reason})`;
      return fromCache(`${fix}; prices shown are the cached ones`);
    }
    const at = stamp();
    await cache.mergePrices(
      Object.fromEntries(
        [...fetched.values()].map((price) => [
          price.endpointId,
          { unitPrice: price.unitPrice, unit: price.unit, currency: price.currency, fetchedAt: at },
        ]),
      ),
    );
    const missing: MissingPrice[] = [];
    // Listed once for every unknown id (the listing may be a whole-catalogue walk).
    const known =
      unknown.length > 0
        ? ((await wholeCatalogue(priceOptions.signal))?.models ?? []).map(
            (model) => model.endpointId,
          )
        : [];
    for (const id of ids) {
      if (fetched.has(id)) continue;
      if (unknown.includes(id)) {
        const suggestions = closestEndpointIds(id, known);
        missing.push({
          endpointId: id,
          reason: 'unknown',
          ...(suggestions.length ? { suggestions } : {}),
        });
      } else missing.push({ endpointId: id, reason: 'unpriced' });
    }
    return {
      prices: ids.flatMap((id) => {
        const price = fetched.get(id);
        return price ? [price] : [];
      }),
      missing,
      source: 'catalogue',
      notes: [],
    };
  };

  const withPrices = async (
    models: readonly CatalogueModel[],
    want: boolean,
    offline: boolean,
    signal?: AbortSignal,
  ): Promise<{ hits: CatalogueSearchHit[]; notes: readonly string[] }> => {
    if (!want || models.length === 0) return { hits: [...models], notes: [] };
    const found = await prices(
      models.map((model) => model.endpointId),
      { offline, signal },
    );
    const byId = new Map(found.prices.map((price) => [price.endpointId, price]));
    return {
      hits: models.map((model) => {
        const price = byId.get(model.endpointId);
        return price ? { ...model, price } : { ...model };
      }),
      notes: found.notes,
    };
  };

  const searchCache = async (
    index: CatalogueIndex,
    search: CatalogueSearchOptions,
    limit: number,
    note?: string,
  ): Promise<CatalogueSearchResult> => {
    const matching = index.models.filter((model) =>
      matchesSearch(model, search.text, search.category),
    );
    const shown = matching.slice(0, limit);
    const { hits, notes } = await withPrices(shown, search.prices !== false, true);
    const what = index.listedAt
      ? `fal's catalogue as cached ${formatAge(ageOf(index.listedAt))} ago (${index.models.length} models)`
      : `the ${index.models.length} catalogue models cached from earlier answers (not the whole catalogue)`;
    return {
      models: hits,
      source: 'cache',
      hasMore: matching.length > shown.length,
      notes: [...(note ? [note] : []), `Searched ${what}`, ...notes],
    };
  };

  const search: ModelCatalogue['search'] = async (searchOptions = {}) => {
    const limit = Math.max(1, Math.floor(searchOptions.limit ?? 20));
    const index = await cache.readIndex();
    if (searchOptions.offline) {
      if (!index) {
        throw new NetworkError(
          `No copy of fal's catalogue is cached for ${apiUrl} yet: run \`falai models search\` once without --offline.`,
        );
      }
      return searchCache(index, searchOptions, limit);
    }
    if (index && !searchOptions.refresh && isFresh(index.listedAt))
      return searchCache(index, searchOptions, limit);
    const { signal } = searchOptions;
    const pageSize = Math.max(1, Math.min(searchOptions.pageSize ?? Math.min(limit, 50), 100));
    const found: CatalogueModel[] = [];
    let hasMore = false;
    try {
      const { open } = await platform();
      let cursor: string | undefined;
      const seen = new Set<string>();
      for (;;) {
        const page = await open.listModels({
          limit: pageSize,
          ...(searchOptions.text?.trim() ? { query: searchOptions.text.trim() } : {}),
          ...(searchOptions.category ? { category: searchOptions.category } : {}),
          ...(cursor ? { cursor } : {}),
          signal,
        });
        const room = limit - found.length;
        found.push(...page.items.slice(0, room).map(catalogueModelOf));
        const next = page.hasMore ? page.nextCursor : null;
        if (page.items.length > room || found.length >= limit) {
          hasMore = page.items.length > room || next !== null;
          break;
        }
        // A cursor fal repeats would page forever.
        if (next === null || seen.has(next)) break;
        seen.add(next);
        cursor = next;
      }
    } catch (error) {
      const reason = failureOf(error);
      if (!index) throw error;
      return searchCache(
        index,
        searchOptions,
        limit,
        `fal's catalogue could not be reached (${reason})`,
      );
    }
    await cache.mergeIndex(found);
    const { hits, notes } = await withPrices(found, searchOptions.prices !== false, false, signal);
    return { models: hits, source: 'catalogue', hasMore, notes };
  };

  return {
    apiUrl,
    cacheFolder: cache.dir,
    lookup,
    peek(endpointId) {
      const entry = cache.readModelSync(endpointId);
      return entry?.definition ? provided(entry, 'cache') : undefined;
    },
    search,
    prices,
    async suggest(endpointId, suggestOptions = {}) {
      const index = await wholeCatalogue(suggestOptions.signal);
      return closestEndpointIds(
        endpointId,
        (index?.models ?? []).map((model) => model.endpointId),
      );
    },
  };
}
