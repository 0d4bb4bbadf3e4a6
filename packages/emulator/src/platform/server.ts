import type { IncomingMessage, ServerResponse } from 'node:http';
import { type KeyPolicy, keyAccepted, parseKey } from '../auth.js';
import { BodyError, parseJson, readBody, sendJson } from '../http-util.js';
import type { Job } from '../jobs.js';
import { loggable } from '../json.js';
import type { ModelDefinition } from '../models.js';
import type { OutputContext } from '../outputs.js';
import { createRateLimiter } from '../rate-limit.js';
import type { LoggedRequest } from '../types.js';
import { userIdFor } from '../webhooks.js';
import {
  type CatalogueModel,
  definitionOf,
  loadCatalogueData,
  matchesQuery,
  openApiDocument,
  outputKind,
} from './catalogue.js';
import { invalid, notFound, PlatformError } from './errors.js';
import {
  ANALYTICS_METRICS,
  analyticsRecord,
  billingEvent,
  buckets,
  isBilled,
  requestItem,
  type ServedRequest,
  servedRequest,
  similarity,
  statusClass,
  usageLines,
} from './history.js';
import { generateCatalogueOutput } from './outputs.js';
import {
  boolParam,
  enumParam,
  expandParam,
  idList,
  limitParam,
  numberParam,
  paginate,
  seriesParams,
  stringParam,
  windowParams,
} from './params.js';
import { billableUnits, estimate, priceIndex, roundMoney } from './pricing.js';
import type { PlatformOptions } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What the Platform API reads from the rest of the emulator. */
export interface PlatformDeps {
  /** Every job the emulator has accepted, in submission order. */
  jobs(): Iterable<Job>;
  /** The queue side's key policy; it accepts the ADMIN keys too (`startEmulator` adds them). */
  keyPolicy: KeyPolicy;
  /** Epoch ms. */
  now(): number;
}

/** The emulator's fal Platform API (`/v1/...`) and the hooks the queue side calls. */
export interface Platform {
  /** Answers one request under `/v1/`. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, entry: LoggedRequest): Promise<void>;
  /** Whether fal's catalogue (the emulator's data file) lists the endpoint. */
  knows(endpointId: string): boolean;
  /** Validation and output definition of a catalogue model, from its input/output schemas. */
  definition(endpointId: string): ModelDefinition | undefined;
  /**
   * The output of catalogue models the built-in generator cannot make (one image, audio);
   * undefined for every other model.
   */
  generateOutput(context: OutputContext): Promise<unknown> | undefined;
  /** `x-fal-billable-units` of a successful result under the model's price rule. */
  billableUnits(job: Job, output: unknown): Promise<string | undefined>;
}

type Access = 'none' | 'optional' | 'key' | 'admin';

interface Caller {
  keyId?: string;
  admin: boolean;
}

/** Creates the Platform API over the catalogue and price data files. */
export function createPlatform(options: PlatformOptions, deps: PlatformDeps): Platform {
  const data = loadCatalogueData();
  const catalogue = new Map<string, CatalogueModel>(
    data.models.map((model) => [model.endpoint_id, model]),
  );
  const prices = priceIndex(data);
  const adminKeys = new Set(options.adminKeys ?? []);
  const username = options.username ?? 'emulator';
  // [?] fal's credits of a new account are not documented; 100 USD is the emulator's choice.
  const initialCredits = options.credits ?? 100;
  const audioSeconds = new Map<string, number>();
  const rateLimiter = options.rateLimit ? createRateLimiter(options.rateLimit) : undefined;
  /** The first request of each endpoint starts its app: a cold boot. [?] */
  const coldBoots = new Set<string>();
  const booted = new Set<string>();

  const served = (): ServedRequest[] => {
    const out: ServedRequest[] = [];
    for (const job of deps.jobs()) {
      if (!booted.has(job.info.endpointId)) {
        booted.add(job.info.endpointId);
        coldBoots.add(job.info.requestId);
      }
      out.push(servedRequest(job));
    }
    return out;
  };

  const authenticate = (req: IncomingMessage, access: Access): Caller => {
    if (access === 'none') return { admin: false };
    const header = req.headers.authorization;
    if (!header) {
      if (access === 'optional') return { admin: false };
      throw new PlatformError(401, 'authorization_error', 'Authentication required');
    }
    const key = parseKey(header);
    if (!key || !keyAccepted(key, deps.keyPolicy)) {
      // [?] The text for a key fal does not know is not documented; the 401 and type are.
      throw new PlatformError(401, 'authorization_error', 'Authentication required: invalid key');
    }
    const admin = adminKeys.has(key.key);
    if (access === 'admin' && !admin) {
      throw new PlatformError(403, 'authorization_error', 'Access denied');
    }
    return { keyId: key.id, admin };
  };

  const rateLimit = (caller: Caller): void => {
    const retryAfter = rateLimiter?.hit(caller.keyId ?? 'anonymous');
    if (!rateLimiter || retryAfter === undefined) return;
    throw new PlatformError(429, 'rate_limited', rateLimiter.message(retryAfter), {
      'retry-after': String(retryAfter),
    });
  };

  const page = <T>(url: URL, items: readonly T[], fallback: number, max: number) =>
    paginate(url, items, limitParam(url, fallback, max));

  /** Total billed cost so far, for the balance. */
  const spent = (): number =>
    served()
      .filter(isBilled)
      .reduce((sum, request) => {
        const price = prices.get(request.endpointId);
        return sum + (price ? (request.units ?? 0) * price.unit_price : 0);
      }, 0);

  const routes: Record<string, { method: string; access: Access; run: RouteHandler }> = {
    '/v1/models': { method: 'GET', access: 'optional', run: listModels },
    '/v1/models/pricing': { method: 'GET', access: 'key', run: listPrices },
    '/v1/models/pricing/estimate': { method: 'POST', access: 'key', run: estimateCost },
    '/v1/models/requests/by-endpoint': { method: 'GET', access: 'key', run: requestsByEndpoint },
    '/v1/models/requests/search': { method: 'GET', access: 'key', run: searchRequests },
    '/v1/models/billing-events': { method: 'GET', access: 'admin', run: billingEvents },
    '/v1/models/usage': { method: 'GET', access: 'admin', run: usage },
    '/v1/models/analytics': { method: 'GET', access: 'key', run: analytics },
    '/v1/account/billing': { method: 'GET', access: 'admin', run: accountBilling },
    '/v1/meta': { method: 'GET', access: 'none', run: meta },
  };

  type RouteHandler = (url: URL, body: unknown, caller: Caller) => unknown;

  function listModels(url: URL): unknown {
    const ids = idList(url, 'endpoint_id');
    const query = stringParam(url, 'q');
    const category = stringParam(url, 'category');
    const status = enumParam(url, 'status', ['active', 'deprecated'] as const);
    const expand = expandParam(url);
    for (const value of expand) {
      if (value !== 'openapi-3.0' && value !== 'enterprise_status') {
        throw invalid(`expand accepts openapi-3.0 and enterprise_status, got "${value}"`);
      }
    }
    const matching = data.models.filter(
      (model) =>
        (!ids || ids.includes(model.endpoint_id)) &&
        (!query || matchesQuery(model, query)) &&
        (!category || model.metadata.category === category) &&
        (!status || model.metadata.status === status),
    );
    // [?] fal's default and maximum page sizes for /models are not documented.
    const { page: models, ...rest } = page(url, matching, 50, 100);
    return {
      models: models.map((model) => {
        const entry: Record<string, unknown> = {
          endpoint_id: model.endpoint_id,
          metadata: model.metadata,
        };
        if (expand.has('openapi-3.0')) {
          entry.openapi = model.openapi_error
            ? { error: model.openapi_error }
            : openApiDocument(model, data.schemas);
        }
        // [?] The shape of enterprise_status is not documented; the emulator has none.
        if (expand.has('enterprise_status')) entry.enterprise_status = null;
        return entry;
      }),
      ...rest,
    };
  }

  function listPrices(url: URL): unknown {
    const ids = idList(url, 'endpoint_id', true) ?? [];
    const unknown = ids.filter((id) => !catalogue.has(id));
    if (unknown.length > 0) {
      // [?] fal's answer for an endpoint id it does not know is not documented.
      throw notFound(`Endpoint not found: ${unknown.join(', ')}`);
    }
    // Known endpoints without a price are left out of the list [?].
    const listed = ids.flatMap((id) => {
      const price = prices.get(id);
      return price
        ? [
            {
              endpoint_id: id,
              unit_price: price.unit_price,
              unit: price.unit,
              currency: price.currency,
            },
          ]
        : [];
    });
    const { page: list, ...rest } = page(url, listed, 50, 50);
    return { prices: list, ...rest };
  }

  function estimateCost(_url: URL, body: unknown): unknown {
    return estimate(body, prices, (id) => catalogue.has(id));
  }

  function requestsByEndpoint(url: URL): unknown {
    const ids = idList(url, 'endpoint_id', true) ?? [];
    const requestIds = idList(url, 'request_id');
    // The window is the last 24 h, or 90 days when looking for request ids.
    const window = windowParams(url, deps.now(), requestIds ? 90 * DAY_MS : DAY_MS);
    const status = enumParam(url, 'status', ['success', 'error', 'user_error'] as const);
    const sortBy = enumParam(url, 'sort_by', ['ended_at', 'duration'] as const);
    const payloads = expandParam(url).has('payloads');
    const matching = served().filter(
      (request) =>
        ids.includes(request.endpointId) &&
        (!requestIds || requestIds.includes(request.requestId)) &&
        request.receivedAt >= window.start &&
        request.receivedAt < window.end &&
        (!status || statusClass(request.statusCode) === status),
    );
    // Newest first; [?] fal's default order and the direction of sort_by are not documented.
    const key = (request: ServedRequest): number =>
      sortBy === 'ended_at'
        ? (request.endedAt ?? Number.NEGATIVE_INFINITY)
        : sortBy === 'duration'
          ? (request.duration ?? Number.NEGATIVE_INFINITY)
          : request.receivedAt;
    matching.sort((a, b) => key(b) - key(a) || b.receivedAt - a.receivedAt);
    const { page: items, ...rest } = page(url, matching, 50, 100);
    return { items: items.map((request) => requestItem(request, payloads)), ...rest };
  }

  function searchRequests(url: URL): unknown {
    const query = stringParam(url, 'query');
    const imageUrl = stringParam(url, 'image_url');
    const videoUrl = stringParam(url, 'video_url');
    const given = [query, imageUrl, videoUrl].filter((value) => value !== undefined);
    if (given.length > 1) throw invalid('Pass at most one of query, image_url and video_url');
    const minSimilarity = numberParam(url, 'min_similarity', 0, 1) ?? 0;
    const ids = idList(url, 'endpoint_id');
    const onlyApi = boolParam(url, 'only_api_requests', false);
    const excludeApi = boolParam(url, 'exclude_api_requests', false);
    if (onlyApi && excludeApi) {
      throw invalid('only_api_requests and exclude_api_requests cannot both be true');
    }
    const payloads = expandParam(url).has('payloads');
    // Every request the emulator serves came through the API; none from the playground.
    let matching = excludeApi
      ? []
      : served().filter((request) => !ids || ids.includes(request.endpointId));
    let scores = new Map<string, number>();
    if (given.length === 1) {
      const search = query !== undefined ? { query } : { url: imageUrl ?? videoUrl };
      scores = new Map(matching.map((request) => [request.requestId, similarity(request, search)]));
      matching = matching.filter((request) => {
        const score = scores.get(request.requestId) ?? 0;
        return score > 0 && score >= minSimilarity;
      });
      matching.sort(
        (a, b) =>
          (scores.get(b.requestId) ?? 0) - (scores.get(a.requestId) ?? 0) ||
          b.receivedAt - a.receivedAt,
      );
    } else {
      matching.sort((a, b) => b.receivedAt - a.receivedAt);
    }
    // [?] The default and maximum page sizes of search are not documented.
    const { page: results, ...rest } = page(url, matching, 50, 100);
    return {
      results: results.map((request) => ({
        ...requestItem(request, payloads),
        ...(scores.has(request.requestId) ? { similarity: scores.get(request.requestId) } : {}),
      })),
      ...rest,
    };
  }

  function keyFilter(url: URL): (request: ServedRequest) => boolean {
    const keyIds = idList(url, 'api_key_id');
    const users = idList(url, 'login_username');
    const accounts = keyIds ? new Set(keyIds.map((id) => userIdFor(id))) : undefined;
    return (request) =>
      (!accounts || accounts.has(request.userId)) && (!users || users.includes(username));
  }

  function billingEvents(url: URL): unknown {
    const window = windowParams(url, deps.now(), DAY_MS, 90 * DAY_MS);
    const ids = idList(url, 'endpoint_id');
    const requestIds = idList(url, 'request_id');
    const byKey = keyFilter(url);
    const events = served()
      .filter(
        (request) =>
          isBilled(request) &&
          (request.endedAt ?? 0) >= window.start &&
          (request.endedAt ?? 0) < window.end &&
          (!ids || ids.includes(request.endpointId)) &&
          (!requestIds || requestIds.includes(request.requestId)) &&
          byKey(request),
      )
      .sort((a, b) => (b.endedAt ?? 0) - (a.endedAt ?? 0));
    // [?] The default page size of billing events is not documented; the maximum is 10,000.
    const { page: list, ...rest } = page(url, events, 100, 10_000);
    return {
      billing_events: list.map((request) => billingEvent(request, prices.get(request.endpointId))),
      ...rest,
    };
  }

  function seriesExpand(
    url: URL,
    extra: readonly string[],
  ): { kinds: Set<string>; metrics: Set<string> } {
    const expand = expandParam(url);
    const kinds = new Set<string>();
    const metrics = new Set<string>();
    for (const value of expand) {
      if (value === 'time_series' || value === 'summary') kinds.add(value);
      else if (extra.includes(value)) metrics.add(value);
      else throw invalid(`expand does not accept "${value}"`);
    }
    // [?] Without time_series or summary, the time series is returned (as fal's SDKs assume).
    if (kinds.size === 0) kinds.add('time_series');
    return { kinds, metrics };
  }

  function analytics(url: URL): unknown {
    const ids = idList(url, 'endpoint_id', true) ?? [];
    const series = seriesParams(url, deps.now());
    const { kinds, metrics } = seriesExpand(url, ANALYTICS_METRICS);
    const all = served();
    const requests = all.filter((request) => ids.includes(request.endpointId));
    const inWindow = requests.filter(
      (request) => request.receivedAt >= series.start && request.receivedAt < series.end,
    );
    const perEndpoint = (group: readonly ServedRequest[]) =>
      ids
        .map((id) => [id, group.filter((request) => request.endpointId === id)] as const)
        .filter(([, list]) => list.length > 0)
        .map(([id, list]) => analyticsRecord(id, list, metrics, coldBoots));
    const answer: Record<string, unknown> = {};
    let rest: { next_cursor: string | null; has_more: boolean } = {
      next_cursor: null,
      has_more: false,
    };
    if (kinds.has('time_series')) {
      const grouped = buckets(inWindow, (request) => request.receivedAt, series);
      const paged = page(url, grouped, 100, 1000);
      answer.time_series = paged.page.map((bucket) => ({
        bucket: bucket.bucket,
        results: perEndpoint(bucket.items),
      }));
      rest = { next_cursor: paged.next_cursor, has_more: paged.has_more };
    }
    if (kinds.has('summary')) answer.summary = perEndpoint(inWindow);
    return { ...answer, ...rest };
  }

  function usage(url: URL): unknown {
    const series = seriesParams(url, deps.now());
    const ids = idList(url, 'endpoint_id');
    const { kinds } = seriesExpand(url, []);
    const byKey = keyFilter(url);
    const billed = served().filter(
      (request) =>
        isBilled(request) &&
        (!ids || ids.includes(request.endpointId)) &&
        byKey(request) &&
        (request.endedAt ?? 0) >= series.start &&
        (request.endedAt ?? 0) < series.end,
    );
    const answer: Record<string, unknown> = {};
    let rest: { next_cursor: string | null; has_more: boolean } = {
      next_cursor: null,
      has_more: false,
    };
    if (kinds.has('time_series')) {
      const grouped = buckets(billed, (request) => request.endedAt ?? 0, series);
      const paged = page(url, grouped, 100, 1000);
      answer.time_series = paged.page.map((bucket) => ({
        bucket: bucket.bucket,
        results: usageLines(bucket.items, prices),
      }));
      rest = { next_cursor: paged.next_cursor, has_more: paged.has_more };
    }
    if (kinds.has('summary')) answer.summary = usageLines(billed, prices);
    return { ...answer, ...rest };
  }

  function accountBilling(url: URL): unknown {
    const expand = expandParam(url);
    return {
      username,
      ...(expand.has('credits')
        ? {
            credits: {
              current_balance: Math.max(0, roundMoney(initialCredits - spent())),
              currency: 'USD',
            },
          }
        : {}),
    };
  }

  function meta(): unknown {
    // The emulator delivers webhooks from this machine only.
    return { webhook_ip_ranges: ['127.0.0.1/32', '::1/128'] };
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    entry: LoggedRequest,
  ): Promise<void> {
    try {
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
      const route = routes[path];
      if (!route) {
        req.resume();
        throw notFound(`Not found: ${req.method ?? 'GET'} ${url.pathname}`);
      }
      if ((req.method ?? 'GET').toUpperCase() !== route.method) {
        req.resume();
        // [?] fal's Platform API answer to a wrong method is not documented.
        throw new PlatformError(405, 'validation_error', `Method not allowed; use ${route.method}`);
      }
      let body: unknown;
      if (route.method === 'POST') {
        const raw = await readBody(req, 1024 * 1024).catch((error: unknown) => {
          if (error instanceof BodyError) throw invalid(error.message);
          throw error;
        });
        try {
          body = parseJson(raw);
        } catch {
          throw invalid('The body is not valid JSON');
        }
        entry.body = loggable(body);
      } else req.resume();
      const caller = authenticate(req, route.access);
      rateLimit(caller);
      sendJson(res, 200, route.run(url, body, caller));
    } catch (error) {
      if (error instanceof PlatformError) {
        sendJson(res, error.status, error.body, error.headers);
        return;
      }
      throw error;
    }
  }

  return {
    handle,
    knows: (endpointId) => catalogue.has(endpointId),
    definition(endpointId) {
      const model = catalogue.get(endpointId);
      return model ? definitionOf(model) : undefined;
    },
    generateOutput(context) {
      const model = catalogue.get(context.endpointId);
      if (!model) return undefined;
      const kind = outputKind(model);
      if (kind.kind !== 'image' && kind.kind !== 'audio') return undefined;
      return generateCatalogueOutput(context, model, kind).then(({ output, audioSeconds: s }) => {
        if (s !== undefined) audioSeconds.set(context.requestId, s);
        return output;
      });
    },
    async billableUnits(job, output) {
      const price = prices.get(job.info.endpointId);
      if (!price) return undefined;
      return billableUnits(
        price.billing,
        {
          job,
          output,
          model: catalogue.get(job.info.endpointId),
          audioSeconds: audioSeconds.get(job.info.requestId),
        },
        data.imageSizePresets,
      );
    },
  };
}
