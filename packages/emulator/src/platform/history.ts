import type { Job } from '../jobs.js';
import type { PriceEntry } from './catalogue.js';
import { bucketStart, iso, type SeriesParams } from './params.js';
import { roundMoney } from './pricing.js';

/** One request as fal's request history sees it, derived from an emulator job. */
export interface ServedRequest {
  requestId: string;
  endpointId: string;
  /** Account id of the key that submitted it (`user-<hash of the key id>`). */
  userId: string;
  /** Epoch ms: received (submit), sent to a runner, ended. */
  receivedAt: number;
  sentAt?: number;
  endedAt?: number;
  statusCode?: number;
  /** Runner seconds; null when the request never ran. */
  duration?: number | null;
  /** Queue (prepare) seconds, from receipt to the runner. */
  prepare?: number;
  input: unknown;
  output?: unknown;
  /** `x-fal-billable-units` of its result, as a number. */
  units?: number;
}

/** The request-history view of a job. */
export function servedRequest(job: Job): ServedRequest {
  const info = job.info;
  const units = Number(job.result?.headers['x-fal-billable-units']);
  return {
    requestId: info.requestId,
    endpointId: info.endpointId,
    userId: info.userId,
    receivedAt: info.submittedAt,
    ...(info.startedAt !== undefined
      ? { sentAt: info.startedAt, prepare: (info.startedAt - info.submittedAt) / 1000 }
      : {}),
    ...(info.completedAt !== undefined ? { endedAt: info.completedAt } : {}),
    ...(job.result ? { statusCode: job.result.status, output: job.result.body } : {}),
    ...(job.inferenceTime !== undefined ? { duration: job.inferenceTime } : {}),
    input: info.input,
    ...(job.result && Number.isFinite(units) ? { units } : {}),
  };
}

/** `status=success|error|user_error`: 2xx, 5xx, 4xx. */
export function statusClass(code: number | undefined): 'success' | 'error' | 'user_error' | 'none' {
  if (code === undefined) return 'none';
  if (code >= 200 && code < 300) return 'success';
  if (code >= 500) return 'error';
  return 'user_error';
}

/**
 * One item of `GET /models/requests/by-endpoint` and `/search`. [?] Which of `started_at` and
 * `sent_at` is the arrival and which the hand-over to a runner is not documented: here
 * `started_at` is when fal received the request and `sent_at` when a runner took it (the
 * arrival time while it still waits).
 */
export function requestItem(request: ServedRequest, payloads: boolean): Record<string, unknown> {
  return {
    request_id: request.requestId,
    endpoint_id: request.endpointId,
    started_at: iso(request.receivedAt),
    sent_at: iso(request.sentAt ?? request.receivedAt),
    ...(request.endedAt !== undefined ? { ended_at: iso(request.endedAt) } : {}),
    ...(request.statusCode !== undefined ? { status_code: request.statusCode } : {}),
    ...(request.duration !== undefined && request.duration !== null
      ? { duration: request.duration }
      : {}),
    ...(payloads ? { json_input: request.input, json_output: request.output ?? null } : {}),
  };
}

/** Words of a text for the emulator's stand-in of semantic search. */
function words(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((word) => word.length > 1),
  );
}

/** Every string inside a JSON value. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (typeof value === 'object' && value !== null)
    for (const item of Object.values(value)) strings(item, out);
  return out;
}

/**
 * Similarity of a request to a search. [?] fal's search is semantic (embeddings); the emulator
 * scores the share of the query's words found in the request's input, and 1 or 0 for whether
 * an `image_url`/`video_url` appears in its input or output.
 */
export function similarity(
  request: ServedRequest,
  search: { query?: string; url?: string | undefined },
): number {
  if (search.url !== undefined) {
    return strings([request.input, request.output]).includes(search.url) ? 1 : 0;
  }
  const query = words(search.query ?? '');
  if (query.size === 0) return 0;
  const text = words(strings(request.input).join(' '));
  let found = 0;
  for (const word of query) if (text.has(word)) found += 1;
  return Math.round((found / query.size) * 1000) / 1000;
}

/** One billing event of a completed request (fal-platform-api.md §2). */
export function billingEvent(
  request: ServedRequest,
  price: PriceEntry | undefined,
): Record<string, unknown> {
  const units = request.units ?? null;
  const subtotal = units !== null && price ? roundMoney(units * price.unit_price) : 0;
  return {
    request_id: request.requestId,
    endpoint_id: request.endpointId,
    timestamp: iso(request.endedAt ?? request.receivedAt),
    output_units: units,
    unit_price: price?.unit_price ?? null,
    // [?] Discounts depend on the account; the emulator's account has none.
    percent_discount: price ? 0 : null,
    cost_subtotal: subtotal,
    cost_discount: 0,
    cost_total: subtotal,
    cost_estimate_nano_usd: Math.round(subtotal * 1e9),
  };
}

/**
 * Whether fal charges a request: only successful results are billed here. fal never charges
 * 5xx; [?] a 422 "may be charged if GPU time was spent", which the emulator never does.
 */
export const isBilled = (request: ServedRequest): boolean =>
  statusClass(request.statusCode) === 'success' && request.units !== undefined;

/** Nearest-rank percentile of sorted values; null when there are none. [?] fal's method. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** The analytics metrics fal documents (fal-platform-api.md §4). */
export const ANALYTICS_METRICS = [
  'request_count',
  'success_count',
  'user_error_count',
  'error_count',
  'p25_duration',
  'p50_duration',
  'p75_duration',
  'p90_duration',
  'p95_duration',
  'p99_duration',
  'p50_prepare_duration',
  'p75_prepare_duration',
  'p90_prepare_duration',
  'p95_prepare_duration',
  'p99_prepare_duration',
  'cold_boot_count',
  'total_billable_duration',
] as const;

/** The requested metrics of a group of requests; durations in seconds. */
export function analyticsRecord(
  endpointId: string,
  requests: readonly ServedRequest[],
  metrics: ReadonlySet<string>,
  coldBoots: ReadonlySet<string>,
): Record<string, unknown> {
  const completed = requests.filter((request) => request.statusCode !== undefined);
  const durations = completed
    .map((request) => request.duration)
    .filter((value): value is number => typeof value === 'number')
    .sort((a, b) => a - b);
  const prepares = requests
    .map((request) => request.prepare)
    .filter((value): value is number => typeof value === 'number')
    .sort((a, b) => a - b);
  const count = (kind: string) =>
    completed.filter((request) => statusClass(request.statusCode) === kind).length;
  const record: Record<string, unknown> = { endpoint_id: endpointId };
  for (const metric of ANALYTICS_METRICS) {
    if (!metrics.has(metric)) continue;
    const duration = /^p(\d+)_duration$/.exec(metric);
    const prepare = /^p(\d+)_prepare_duration$/.exec(metric);
    if (metric === 'request_count') record[metric] = requests.length;
    else if (metric === 'success_count') record[metric] = count('success');
    else if (metric === 'user_error_count') record[metric] = count('user_error');
    else if (metric === 'error_count') record[metric] = count('error');
    else if (metric === 'cold_boot_count')
      record[metric] = requests.filter((request) => coldBoots.has(request.requestId)).length;
    else if (metric === 'total_billable_duration')
      record[metric] = Math.round(durations.reduce((sum, value) => sum + value, 0) * 1000) / 1000;
    else if (duration) record[metric] = percentile(durations, Number(duration[1]));
    else if (prepare) record[metric] = percentile(prepares, Number(prepare[1]));
  }
  return record;
}

/**
 * Groups requests into time buckets of the series' timeframe (only buckets that hold requests).
 * [?] Bucket labels are the bucket's start as a UTC ISO-8601 instant.
 */
export function buckets<T>(
  items: readonly T[],
  timeOf: (item: T) => number,
  series: SeriesParams,
): Array<{ bucket: string; items: T[] }> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const time = timeOf(item);
    if (time < series.start || time >= series.end) continue;
    const start = bucketStart(time, series.timeframe, series.timezone);
    const group = groups.get(start) ?? [];
    group.push(item);
    groups.set(start, group);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, group]) => ({ bucket: iso(start), items: group }));
}

/** Usage lines (fal-platform-api.md §2 `Line`) of billed requests, one per endpoint. */
export function usageLines(
  requests: readonly ServedRequest[],
  prices: Map<string, PriceEntry>,
): Array<Record<string, unknown>> {
  const byEndpoint = new Map<string, ServedRequest[]>();
  for (const request of requests) {
    const group = byEndpoint.get(request.endpointId) ?? [];
    group.push(request);
    byEndpoint.set(request.endpointId, group);
  }
  return [...byEndpoint.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([endpointId, group]) => {
      const price = prices.get(endpointId);
      const quantity = group.reduce((sum, request) => sum + (request.units ?? 0), 0);
      const cost = price ? roundMoney(quantity * price.unit_price) : 0;
      return {
        endpoint_id: endpointId,
        unit: price?.unit ?? 'units',
        quantity: Math.round(quantity * 1e6) / 1e6,
        unit_price: price?.unit_price ?? 0,
        percent_discount: 0,
        cost_subtotal: cost,
        cost_discount: 0,
        cost_total: cost,
        cost,
        currency: 'USD',
      };
    });
}
