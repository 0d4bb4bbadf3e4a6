/**
 * Retries as data (fal-js `RetryOptions`, fal-api-reference.md §8). Each call kind has
 * its own policy; the HTTP layer reads it and never decides on its own.
 */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = never retry). */
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** Jitter as a fraction: 0.25 spreads each delay over ±25 %. */
  readonly jitter: number;
  /** HTTP statuses worth another attempt. */
  readonly statuses: readonly number[];
  /**
   * Statuses worth another attempt only when the answer carries no `x-fal-request-id`: such an
   * answer came from fal's ingress (gateway, load balancer) and never reached the app layer, so
   * nothing was enqueued. With the header, fal's app answered and the job may exist.
   * @default []
   */
  readonly statusesWithoutRequestId?: readonly number[];
  /**
   * Retry an attempt whose transfer made no progress for its idle timeout (a stalled upload
   * body or part). Only for idempotent transfers such as PUTs to pre-signed URLs.
   * @default false
   */
  readonly retryStalls?: boolean;
  /**
   * Which transport failures to retry: `true` any (the call is idempotent), `'unsent'`
   * only failures that prove the request never reached the server (connection refused,
   * DNS), `false` none.
   */
  readonly retryNetworkErrors: boolean | 'unsent';
  /** A `Retry-After` longer than this is not waited for; the error is raised instead. */
  readonly maxRetryAfterMs: number;
}

/** The call kinds with their own policy. */
export interface RetryPolicies {
  readonly submit: RetryPolicy;
  readonly status: RetryPolicy;
  readonly result: RetryPolicy;
  readonly cancel: RetryPolicy;
  readonly upload: RetryPolicy;
}

const TRANSIENT = [429, 500, 502, 503, 504] as const;

/**
 * A frozen policy with the shared backoff (500 ms doubling, ±25 % jitter, Retry-After up
 * to 60 s) that retries every transient status and any network error; the kinds differ
 * only in how often and how long, and submit narrows what it retries (`overrides`).
 */
function backoffPolicy(
  maxRetries: number,
  maxDelayMs: number,
  overrides: Partial<RetryPolicy> = {},
): RetryPolicy {
  return Object.freeze({
    maxRetries,
    baseDelayMs: 500,
    maxDelayMs,
    multiplier: 2,
    jitter: 0.25,
    statuses: Object.freeze([...TRANSIENT]),
    retryNetworkErrors: true,
    maxRetryAfterMs: 60_000,
    ...overrides,
  });
}

/**
 * Defaults. Reads (status, result) and the idempotent cancel PUT retry every transient
 * status and any network error.
 *
 * Submit is different: fal has no idempotency key, so a duplicate submit is a second
 * paid job. We retry a submit only when the answer proves nothing was enqueued, following
 * fal's own Python client (fal-api-reference.md §8, "ingress errors"):
 * - 429, honouring Retry-After: the gateway refused the request (rate or concurrency limit)
 *   before queueing;
 * - 502/503/504 only without an `x-fal-request-id` header: the answer came from fal's ingress
 *   and never reached the app layer; with the header fal's app answered, the job may exist;
 * - connection refused / DNS failures: the request never left this machine.
 * Never retried: 500, any 502/503/504 that carries a request id, connections that broke after
 * the body was sent (the job may exist and would run twice), and any timeout (same reason).
 *
 * Uploads retry a stalled PUT (body or part): pre-signed PUTs are idempotent.
 */
export const DEFAULT_RETRY_POLICIES: RetryPolicies = Object.freeze({
  submit: backoffPolicy(3, 15_000, {
    statuses: Object.freeze([429]),
    statusesWithoutRequestId: Object.freeze([502, 503, 504]),
    retryNetworkErrors: 'unsent',
  }),
  status: backoffPolicy(5, 15_000),
  result: backoffPolicy(4, 30_000),
  cancel: backoffPolicy(3, 10_000),
  upload: backoffPolicy(3, 10_000, { retryStalls: true }),
});

/**
 * Whether an HTTP status is worth another attempt under `policy`; `hasRequestId` says whether
 * the answer carried `x-fal-request-id` (see {@link RetryPolicy.statusesWithoutRequestId}).
 */
export function isRetryableStatus(
  policy: RetryPolicy,
  status: number,
  hasRequestId: boolean,
): boolean {
  if (policy.statuses.includes(status)) return true;
  return !hasRequestId && (policy.statusesWithoutRequestId ?? []).includes(status);
}

/** Merges partial overrides over the defaults, per call kind. */
export function mergeRetryPolicies(
  overrides: { readonly [K in keyof RetryPolicies]?: Partial<RetryPolicy> } = {},
): RetryPolicies {
  const merged = {} as Record<keyof RetryPolicies, RetryPolicy>;
  for (const kind of Object.keys(DEFAULT_RETRY_POLICIES) as (keyof RetryPolicies)[]) {
    merged[kind] = { ...DEFAULT_RETRY_POLICIES[kind], ...overrides[kind] };
  }
  return merged;
}

/**
 * Backoff before retry number `attempt` (0 = first retry):
 * `min(base × multiplier^attempt, max)` spread by ±jitter. `random` is injectable for tests.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const raw = Math.min(policy.baseDelayMs * policy.multiplier ** attempt, policy.maxDelayMs);
  const spread = 1 + policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(raw * spread));
}

/**
 * Parses `Retry-After`: delta seconds (`"2"`, `"0.5"`) or an HTTP date. Returns
 * milliseconds, or undefined when absent or unparseable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The wait before the next attempt, or undefined to stop: honours `Retry-After` when the
 * server sent one (never less than it asks), and gives up when it asks for longer than
 * the policy accepts.
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= policy.maxRetries) return undefined;
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > policy.maxRetryAfterMs) return undefined;
    return retryAfterMs;
  }
  return retryDelay(policy, attempt, random);
}

/** Transport error codes that prove the request was never delivered. */
export const UNSENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether a transport failure with `code` may be retried under `policy`. */
export function isRetryableNetworkError(policy: RetryPolicy, code: string | undefined): boolean {
  if (policy.retryNetworkErrors === true) return true;
  if (policy.retryNetworkErrors === 'unsent')
    return code !== undefined && UNSENT_NETWORK_CODES.has(code);
  return false;
}
