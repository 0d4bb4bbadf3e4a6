export {
  createPlatformClient,
  MAX_PLATFORM_IDS,
  type PlatformClient,
} from './client.js';
export { type PlatformErrorContext, platformError } from './errors.js';
export {
  DEFAULT_PLATFORM_MAX_BYTES,
  DEFAULT_PLATFORM_OPENAPI_MAX_BYTES,
  DEFAULT_PLATFORM_RETRY_POLICY,
  DEFAULT_PLATFORM_TIMEOUT_MS,
} from './http.js';
export { type PlatformPage, paginate } from './paginate.js';
export type {
  PlatformAccountBilling,
  PlatformAnalytics,
  PlatformAnalyticsRecord,
  PlatformBillingEvent,
  PlatformEstimate,
  PlatformMeta,
  PlatformModel,
  PlatformModelMetadata,
  PlatformPrice,
  PlatformRequest,
  PlatformUsage,
  PlatformUsageLine,
} from './schemas.js';
export type {
  AnalyticsMetric,
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
