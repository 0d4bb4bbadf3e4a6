import { keyGetter } from '../auth/credentials.js';
import { apiUrlUnder, normaliseBaseUrl, resolveApiUrl } from '../config/settings.js';
import { InputError } from '../errors/index.js';
import { falaiUserAgent, positiveLimit } from '../queue/client.js';
import { sleep } from '../queue/http.js';
import {
  DEFAULT_PLATFORM_MAX_BYTES,
  DEFAULT_PLATFORM_OPENAPI_MAX_BYTES,
  DEFAULT_PLATFORM_RETRY_POLICY,
  DEFAULT_PLATFORM_TIMEOUT_MS,
  type PlatformCall,
  type PlatformHttpContext,
  platformCall,
} from './http.js';
import { type PlatformPage, paginate } from './paginate.js';
import {
  AccountBillingSchema,
  AnalyticsPageSchema,
  BillingEventsPageSchema,
  EstimateSchema,
  MetaSchema,
  ModelsPageSchema,
  type PlatformAccountBilling,
  type PlatformAnalytics,
  type PlatformBillingEvent,
  type PlatformEstimate,
  type PlatformMeta,
  type PlatformModel,
  type PlatformPrice,
  type PlatformRequest,
  type PlatformUsage,
  PricesPageSchema,
  RequestsPageSchema,
  SearchPageSchema,
  UsagePageSchema,
} from './schemas.js';
import type {
  AnalyticsQuery,
  BillingEventsQuery,
  EstimateRequest,
  ModelQuery,
  PageQuery,
  PlatformClientOptions,
  RequestsByEndpointQuery,
  SearchRequestsQuery,
  SeriesQuery,
  TimeInput,
  UsageQuery,
} from './types.js';

/** fal's limit on id filters (fal-platform-api.md §0). */
export const MAX_PLATFORM_IDS = 50;

/** A client of fal's Platform API (`https://api.fal.ai/v1`). */
export interface PlatformClient {
  /** The Platform API base the client calls. */
  readonly apiUrl: string;
  /** One page of the catalogue. A key is optional (it raises fal's rate limits). */
  listModels(query?: ModelQuery): Promise<PlatformPage<PlatformModel>>;
  /** Every catalogue model matching the query, page after page. */
  iterateModels(query?: ModelQuery): AsyncGenerator<PlatformModel, void, undefined>;
  /**
   * One model by endpoint id, with its OpenAPI document when `openapi` is true; undefined when
   * fal's catalogue does not list it.
   */
  getModel(
    endpointId: string,
    options?: { readonly openapi?: boolean; readonly signal?: AbortSignal | undefined },
  ): Promise<PlatformModel | undefined>;
  /** Unit prices of any number of endpoints (asked 50 at a time); unpriced ones are absent. */
  getPrices(
    endpointIds: readonly string[],
    options?: { readonly signal?: AbortSignal | undefined },
  ): Promise<PlatformPrice[]>;
  /** `POST /models/pricing/estimate`: units × price, or calls × historical cost per call. */
  estimateCost(
    request: EstimateRequest,
    options?: { readonly signal?: AbortSignal | undefined },
  ): Promise<PlatformEstimate>;
  /** One page of an endpoint's request history (newest first). */
  listRequestsByEndpoint(query: RequestsByEndpointQuery): Promise<PlatformPage<PlatformRequest>>;
  iterateRequestsByEndpoint(
    query: RequestsByEndpointQuery,
  ): AsyncGenerator<PlatformRequest, void, undefined>;
  /** One page of a request search (by text, image or video URL, or a filtered browse). */
  searchRequests(query?: SearchRequestsQuery): Promise<PlatformPage<PlatformRequest>>;
  iterateSearchRequests(
    query?: SearchRequestsQuery,
  ): AsyncGenerator<PlatformRequest, void, undefined>;
  /** One page of billing events: the actual cost of each request (ADMIN key). */
  listBillingEvents(query?: BillingEventsQuery): Promise<PlatformPage<PlatformBillingEvent>>;
  iterateBillingEvents(
    query?: BillingEventsQuery,
  ): AsyncGenerator<PlatformBillingEvent, void, undefined>;
  /** The account's username and, with `credits`, its balance (ADMIN key). */
  getAccountBilling(options?: {
    readonly credits?: boolean;
    readonly signal?: AbortSignal | undefined;
  }): Promise<PlatformAccountBilling>;
  /** Request counts and queue/run percentiles (API key). */
  getAnalytics(query: AnalyticsQuery): Promise<PlatformAnalytics>;
  /** Billed quantity and cost per endpoint (ADMIN key). */
  getUsage(query?: UsageQuery): Promise<PlatformUsage>;
  /** `GET /meta`: the ranges fal's webhooks come from (no key). */
  getMeta(options?: { readonly signal?: AbortSignal | undefined }): Promise<PlatformMeta>;
}

/** The Platform API base: `apiUrl` > `baseUrl` + `/v1` > settings > FALAI_API_URL/FALAI_BASE_URL. */
function apiUrlOf(options: PlatformClientOptions): string {
  if (options.apiUrl !== undefined)
    return normaliseBaseUrl(options.apiUrl, 'apiUrl', 'option apiUrl');
  if (options.baseUrl !== undefined)
    return apiUrlUnder(normaliseBaseUrl(options.baseUrl, 'baseUrl', 'option baseUrl'));
  if (options.settings) return options.settings.apiUrl;
  return resolveApiUrl().value;
}

const timeText = (value: TimeInput): string =>
  value instanceof Date ? value.toISOString() : value;

/** Builds query strings; id lists are repeated parameters, refused beyond 50 values. */
class Query {
  readonly params = new URLSearchParams();
  set(name: string, value: string | number | boolean | undefined): this {
    if (value !== undefined) this.params.set(name, String(value));
    return this;
  }
  time(name: string, value: TimeInput | undefined): this {
    return this.set(name, value === undefined ? undefined : timeText(value));
  }
  ids(name: string, values: readonly string[] | undefined, required = false): this {
    if (values === undefined || values.length === 0) {
      if (required)
        throw new InputError(`Pass at least one ${name} (up to ${MAX_PLATFORM_IDS}).`, [
          { path: [name], message: 'required', kind: 'required' },
        ]);
      return this;
    }
    if (values.length > MAX_PLATFORM_IDS)
      throw new InputError(
        `fal accepts at most ${MAX_PLATFORM_IDS} values of ${name} per call, got ${values.length}; split them.`,
        [{ path: [name], message: `at most ${MAX_PLATFORM_IDS}`, kind: 'range' }],
      );
    for (const value of values) this.params.append(name, value);
    return this;
  }
  expand(values: readonly (string | false | undefined)[]): this {
    for (const value of values) if (value) this.params.append('expand', value);
    return this;
  }
  page(query: PageQuery | undefined): this {
    return this.set('limit', query?.limit).set('cursor', query?.cursor);
  }
  series(query: SeriesQuery): this {
    return this.time('start', query.start)
      .time('end', query.end)
      .set('timezone', query.timezone)
      .set('timeframe', query.timeframe)
      .set('bound_to_timeframe', query.boundToTimeframe);
  }
}

/**
 * A client of fal's Platform API: the catalogue (search, filters, OpenAPI documents), prices and
 * estimates, request history (by endpoint, search), billing events, account billing, usage and
 * analytics. Typed answers, the error envelope mapped to falai's codes, retries as policy data,
 * pagination as async iterators. The base follows FALAI_BASE_URL (`<base>/v1`) like every fal
 * host; FALAI_API_URL overrides it alone.
 */
export function createPlatformClient(options: PlatformClientOptions = {}): PlatformClient {
  const apiUrl = apiUrlOf(options);
  const maxBody = positiveLimit(options.maxBodyBytes, DEFAULT_PLATFORM_MAX_BYTES, 'maxBodyBytes');
  const maxOpenApiBody = positiveLimit(
    options.maxOpenApiBodyBytes,
    DEFAULT_PLATFORM_OPENAPI_MAX_BYTES,
    'maxOpenApiBodyBytes',
  );
  const ctx: PlatformHttpContext = {
    apiUrl,
    fetch: options.fetch ?? globalThis.fetch,
    getKey: keyGetter(options.credentials, options.settings, 'the Platform client credentials'),
    userAgent: options.userAgent ?? falaiUserAgent(),
    policy: { ...DEFAULT_PLATFORM_RETRY_POLICY, ...options.retry },
    timeoutMs: positiveLimit(options.timeoutMs, DEFAULT_PLATFORM_TIMEOUT_MS, 'timeoutMs'),
    sleep: options._internal?.sleep ?? sleep,
    ...(options._internal?.random ? { random: options._internal.random } : {}),
  };
  const call = <T>(spec: Omit<PlatformCall<T>, 'maxBodyBytes'> & { maxBodyBytes?: number }) =>
    platformCall(ctx, { maxBodyBytes: maxBody, ...spec });

  const listModels = async (query: ModelQuery = {}) => {
    const params = new Query()
      .set('q', query.query)
      .set('category', query.category)
      .set('status', query.status)
      .ids('endpoint_id', query.endpointIds)
      .expand([query.openapi && 'openapi-3.0', query.enterpriseStatus && 'enterprise_status'])
      .page(query).params;
    return call({
      method: 'GET',
      path: '/models',
      query: params,
      auth: 'optional',
      schema: ModelsPageSchema,
      ...(query.openapi ? { maxBodyBytes: maxOpenApiBody } : {}),
      signal: query.signal,
    });
  };

  const listRequestsByEndpoint = async (query: RequestsByEndpointQuery) => {
    const params = new Query()
      .ids('endpoint_id', query.endpointIds, true)
      .ids('request_id', query.requestIds)
      .time('start', query.start)
      .time('end', query.end)
      .set('status', query.status)
      .set('sort_by', query.sortBy)
      .expand([query.payloads && 'payloads'])
      .page(query).params;
    return call({
      method: 'GET',
      path: '/models/requests/by-endpoint',
      query: params,
      auth: 'required',
      schema: RequestsPageSchema,
      signal: query.signal,
    });
  };

  const searchRequests = async (query: SearchRequestsQuery = {}) => {
    const given = [query.query, query.imageUrl, query.videoUrl].filter((x) => x !== undefined);
    if (given.length > 1)
      throw new InputError('Search by one of query, imageUrl and videoUrl, not several.', [
        { path: [], message: 'at most one of query, imageUrl, videoUrl', kind: 'exclusive' },
      ]);
    const params = new Query()
      .set('query', query.query)
      .set('image_url', query.imageUrl)
      .set('video_url', query.videoUrl)
      .set('min_similarity', query.minSimilarity)
      .ids('endpoint_id', query.endpointIds)
      .set('only_api_requests', query.onlyApiRequests)
      .set('exclude_api_requests', query.excludeApiRequests)
      .expand([query.payloads && 'payloads'])
      .page(query).params;
    return call({
      method: 'GET',
      path: '/models/requests/search',
      query: params,
      auth: 'required',
      schema: SearchPageSchema,
      signal: query.signal,
    });
  };

  const listBillingEvents = async (query: BillingEventsQuery = {}) => {
    const params = new Query()
      .time('start', query.start)
      .time('end', query.end)
      .ids('endpoint_id', query.endpointIds)
      .ids('request_id', query.requestIds)
      .ids('api_key_id', query.apiKeyIds)
      .ids('login_username', query.loginUsernames)
      .page(query).params;
    return call({
      method: 'GET',
      path: '/models/billing-events',
      query: params,
      auth: 'required',
      admin: true,
      schema: BillingEventsPageSchema,
      signal: query.signal,
    });
  };

  /** Every item of a list call, page after page from `query.cursor` on. */
  const listing = <Q extends PageQuery, T>(
    list: (query: Q) => Promise<PlatformPage<T>>,
    query: Q,
  ): AsyncGenerator<T, void, undefined> =>
    paginate((cursor) => list(cursor === undefined ? query : { ...query, cursor }), query.cursor);

  return {
    apiUrl,
    listModels,
    iterateModels: (query = {}) => listing(listModels, query),
    async getModel(endpointId, getOptions = {}) {
      const page = await listModels({
        endpointIds: [endpointId],
        ...(getOptions.openapi ? { openapi: true } : {}),
        signal: getOptions.signal,
      });
      return page.items.find((model) => model.endpointId === endpointId);
    },
    async getPrices(endpointIds, priceOptions = {}) {
      const unique = [...new Set(endpointIds)];
      const prices: PlatformPrice[] = [];
      for (let start = 0; start < unique.length; start += MAX_PLATFORM_IDS) {
        const chunk = unique.slice(start, start + MAX_PLATFORM_IDS);
        const pages = paginate(async (cursor) => {
          const params = new Query().ids('endpoint_id', chunk, true).set('cursor', cursor).params;
          return call({
            method: 'GET',
            path: '/models/pricing',
            query: params,
            auth: 'required',
            schema: PricesPageSchema,
            signal: priceOptions.signal,
          });
        });
        for await (const price of pages) prices.push(price);
      }
      return prices;
    },
    async estimateCost(request, estimateOptions = {}) {
      const ids = Object.keys(request.endpoints);
      if (ids.length === 0 || ids.length > MAX_PLATFORM_IDS)
        throw new InputError(
          `An estimate covers 1 to ${MAX_PLATFORM_IDS} endpoints, got ${ids.length}.`,
          [{ path: ['endpoints'], message: `1 to ${MAX_PLATFORM_IDS} endpoints`, kind: 'range' }],
        );
      const field = request.estimateType === 'unit_price' ? 'unit_quantity' : 'call_quantity';
      const endpoints = Object.fromEntries(
        Object.entries(request.endpoints).map(([id, quantity]) => [id, { [field]: quantity }]),
      );
      return call({
        method: 'POST',
        path: '/models/pricing/estimate',
        json: { estimate_type: request.estimateType, endpoints },
        auth: 'required',
        schema: EstimateSchema,
        signal: estimateOptions.signal,
      });
    },
    listRequestsByEndpoint,
    iterateRequestsByEndpoint: (query) => listing(listRequestsByEndpoint, query),
    searchRequests,
    iterateSearchRequests: (query = {}) => listing(searchRequests, query),
    listBillingEvents,
    iterateBillingEvents: (query = {}) => listing(listBillingEvents, query),
    getAccountBilling(billingOptions = {}) {
      return call({
        method: 'GET',
        path: '/account/billing',
        query: new Query().expand([billingOptions.credits && 'credits']).params,
        auth: 'required',
        admin: true,
        schema: AccountBillingSchema,
        signal: billingOptions.signal,
      });
    },
    getAnalytics(query) {
      const params = new Query()
        .ids('endpoint_id', query.endpointIds, true)
        .series(query)
        .expand([query.timeSeries && 'time_series', query.summary && 'summary', ...query.metrics])
        .page(query).params;
      return call({
        method: 'GET',
        path: '/models/analytics',
        query: params,
        auth: 'required',
        schema: AnalyticsPageSchema,
        signal: query.signal,
      });
    },
    getUsage(query = {}) {
      const params = new Query()
        .ids('endpoint_id', query.endpointIds)
        .ids('api_key_id', query.apiKeyIds)
        .series(query)
        .expand([query.timeSeries && 'time_series', query.summary && 'summary'])
        .page(query).params;
      return call({
        method: 'GET',
        path: '/models/usage',
        query: params,
        auth: 'required',
        admin: true,
        schema: UsagePageSchema,
        signal: query.signal,
      });
    },
    getMeta(metaOptions = {}) {
      return call({
        method: 'GET',
        path: '/meta',
        auth: 'none',
        schema: MetaSchema,
        signal: metaOptions.signal,
      });
    },
  };
}
