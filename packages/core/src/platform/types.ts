import type { FalaiSettings } from '../config/settings.js';
import type { RetryPolicy } from '../queue/retry.js';

/** Options of {@link createPlatformClient}. */
export interface PlatformClientOptions {
  /**
   * The FAL_KEY (an API key; billing events, usage and account billing need an ADMIN key), or
   * a function returning it. Resolved lazily on the first call that needs it.
   * @default resolveCredentials({ settings }) on first use
   */
  readonly credentials?: string | (() => Promise<string> | string);
  /** Resolved settings; `settings.apiUrl` applies unless `apiUrl`/`baseUrl` is given. */
  readonly settings?: FalaiSettings;
  /** The Platform API base, version included (`https://api.fal.ai/v1`). */
  readonly apiUrl?: string;
  /** A fal base URL (the emulator's): the Platform API is then `<baseUrl>/v1`. */
  readonly baseUrl?: string;
  /** Overrides of {@link DEFAULT_PLATFORM_RETRY_POLICY}. */
  readonly retry?: Partial<RetryPolicy>;
  /** Per attempt, until the whole answer is read. @default 30000 */
  readonly timeoutMs?: number;
  /** Largest answer read; past it the call fails with API_ERROR. @default 4 MiB */
  readonly maxBodyBytes?: number;
  /** Largest catalogue page with OpenAPI documents (`openapi: true`). @default 32 MiB */
  readonly maxOpenApiBodyBytes?: number;
  /** @default `falai/<version>` */
  readonly userAgent?: string;
  /** A fetch implementation (ofetch runs on it). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Test seams: `sleep` between retries, `random` for jitter. */
  readonly _internal?: {
    readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    readonly random?: () => number;
  };
}

/** Paging of a list call. */
export interface PageQuery {
  /** Items per page (fal's maximum depends on the call). */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
  readonly signal?: AbortSignal | undefined;
}

/** A point in time: a Date, or an ISO-8601 string. */
export type TimeInput = Date | string;

/** `GET /models` filters. */
export interface ModelQuery extends PageQuery {
  /** Free text. */
  readonly query?: string;
  /** e.g. `text-to-image`, `image-to-video`, `text-to-speech`. */
  readonly category?: string;
  readonly status?: 'active' | 'deprecated';
  /** 1–50 ids. */
  readonly endpointIds?: readonly string[];
  /** Attach each model's OpenAPI 3.0 document (`expand=openapi-3.0`). */
  readonly openapi?: boolean;
  /** `expand=enterprise_status`. */
  readonly enterpriseStatus?: boolean;
}

/** The two estimate kinds (fal-platform-api.md §2). */
export type EstimateRequest =
  | {
      /** What calls like these have cost on average: `calls` per endpoint (integers ≥ 1). */
      readonly estimateType: 'historical_api_price';
      readonly endpoints: Readonly<Record<string, number>>;
    }
  | {
      /** Units × unit price: `units` per endpoint (≥ 0.000001). */
      readonly estimateType: 'unit_price';
      readonly endpoints: Readonly<Record<string, number>>;
    };

/** `GET /models/requests/by-endpoint` filters. */
export interface RequestsByEndpointQuery extends PageQuery {
  /** 1–50 endpoint ids (required). */
  readonly endpointIds: readonly string[];
  /** Window start; fal's default window is the last 24 h, 90 days with `requestIds`. */
  readonly start?: TimeInput;
  /** Window end (exclusive). */
  readonly end?: TimeInput;
  readonly status?: 'success' | 'error' | 'user_error';
  /** 1–50 request ids. */
  readonly requestIds?: readonly string[];
  /** Include each request's input and output (`expand=payloads`). */
  readonly payloads?: boolean;
  readonly sortBy?: 'ended_at' | 'duration';
}

/** `GET /models/requests/search` filters: at most one of `query`, `imageUrl`, `videoUrl`. */
export interface SearchRequestsQuery extends PageQuery {
  readonly query?: string;
  readonly imageUrl?: string;
  readonly videoUrl?: string;
  /** 0–1. */
  readonly minSimilarity?: number;
  readonly endpointIds?: readonly string[];
  /** Only requests made with API keys (not the playground). */
  readonly onlyApiRequests?: boolean;
  /** Only playground requests. */
  readonly excludeApiRequests?: boolean;
  readonly payloads?: boolean;
}

/** `GET /models/billing-events` filters (ADMIN key). */
export interface BillingEventsQuery extends PageQuery {
  readonly start?: TimeInput;
  /** At most 90 days after `start`. */
  readonly end?: TimeInput;
  readonly endpointIds?: readonly string[];
  readonly requestIds?: readonly string[];
  readonly apiKeyIds?: readonly string[];
  readonly loginUsernames?: readonly string[];
}

/** Time-series parameters of usage and analytics. */
export interface SeriesQuery extends PageQuery {
  readonly start?: TimeInput;
  readonly end?: TimeInput;
  /** IANA zone. @default 'UTC' */
  readonly timezone?: string;
  /** @default automatic from the window's span */
  readonly timeframe?: 'minute' | 'hour' | 'day' | 'week' | 'month';
  /** @default true */
  readonly boundToTimeframe?: boolean;
  /** Buckets over time (`expand=time_series`). */
  readonly timeSeries?: boolean;
  /** One total per endpoint (`expand=summary`). */
  readonly summary?: boolean;
}

/** Metric names of `GET /models/analytics`. */
export type AnalyticsMetric =
  | 'request_count'
  | 'success_count'
  | 'user_error_count'
  | 'error_count'
  | 'p25_duration'
  | 'p50_duration'
  | 'p75_duration'
  | 'p90_duration'
  | 'p95_duration'
  | 'p99_duration'
  | 'p50_prepare_duration'
  | 'p75_prepare_duration'
  | 'p90_prepare_duration'
  | 'p95_prepare_duration'
  | 'p99_prepare_duration'
  | 'cold_boot_count'
  | 'total_billable_duration';

/** `GET /models/analytics` (API key). */
export interface AnalyticsQuery extends SeriesQuery {
  /** 1–50 endpoint ids (required). */
  readonly endpointIds: readonly string[];
  /** Only these are filled in. */
  readonly metrics: readonly AnalyticsMetric[];
}

/** `GET /models/usage` (ADMIN key). */
export interface UsageQuery extends SeriesQuery {
  readonly endpointIds?: readonly string[];
  readonly apiKeyIds?: readonly string[];
}
