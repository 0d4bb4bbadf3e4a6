import { createPublicKey, type KeyObject } from 'node:crypto';
import type { WebhookFetch } from './types.js';

/** fal's JWKS host for webhook signing keys (see the fal API reference §0 and §7). */
export const DEFAULT_WEBHOOK_JWKS_URL = 'https://rest.fal.ai/.well-known/jwks.json';

/** fal's advice: cache the JWKS for at most 24 h, so rotated keys are picked up. */
export const MAX_JWKS_CACHE_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The JWKS URL under a REST base URL (`settings.baseUrls.rest`, or the emulator's URL), so
 * a receiver pointed at the emulator trusts the emulator's key and nothing else.
 */
export function webhookJwksUrl(restBaseUrl: string): string {
  return `${restBaseUrl.replace(/\/+$/, '')}/.well-known/jwks.json`;
}

/** One usable verification key from the JWKS. */
export interface WebhookKey {
  readonly key: KeyObject;
  readonly keyId?: string;
}

/** Why fetching the key set failed; turned into a `jwks-unavailable` or `no-keys` rejection. */
export class JwksUnavailableError extends Error {
  constructor(
    readonly reason: 'jwks-unavailable' | 'no-keys',
    message: string,
  ) {
    super(message);
    this.name = 'JwksUnavailableError';
  }
}

/**
 * Turns a JWKS document into Ed25519 public keys. Keys of other types are skipped (a JWKS
 * may legitimately carry keys for other purposes); a document with none usable is an error.
 */
export function parseJwks(document: unknown): WebhookKey[] {
  const list =
    typeof document === 'object' && document !== null && 'keys' in document
      ? (document as { keys: unknown }).keys
      : undefined;
  if (!Array.isArray(list)) {
    throw new JwksUnavailableError('no-keys', 'The JWKS has no "keys" array.');
  }
  const keys: WebhookKey[] = [];
  for (const jwk of list) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const { kty, crv, x, kid } = jwk as Record<string, unknown>;
    if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string') continue;
    try {
      const key = createPublicKey({ key: { kty, crv, x }, format: 'jwk' });
      keys.push(typeof kid === 'string' ? { key, keyId: kid } : { key });
    } catch {
      // A malformed key is skipped; the others may still verify.
    }
  }
  if (keys.length === 0) {
    throw new JwksUnavailableError('no-keys', 'The JWKS holds no usable Ed25519 (OKP) key.');
  }
  return keys;
}

/** Options of {@link createJwksCache}. */
export interface JwksCacheOptions {
  readonly url: string;
  readonly fetch: WebhookFetch;
  /** How long a fetched key set is used before it is fetched again. */
  readonly ttlMs: number;
  /** The least time between two fetches that were not due to expiry (refreshes and retries after a failure). */
  readonly minRefreshIntervalMs: number;
  /** Per-fetch timeout. */
  readonly timeoutMs: number;
}

/** The cached key set with the refresh rule of {@link createJwksCache}. */
export interface JwksCache {
  /** The cached keys, fetching them when there are none yet or they expired. */
  keys(now: number): Promise<WebhookKey[]>;
  /**
   * Fetches the keys again if the last fetch started at least `minRefreshIntervalMs` ago;
   * resolves to the new keys, or `undefined` when the rate limit refused a fetch.
   */
  refresh(now: number): Promise<WebhookKey[] | undefined>;
  /** How many HTTP fetches were started (for diagnostics and tests). */
  readonly fetchCount: number;
}

/**
 * A JWKS cache with an explicit refresh rule:
 * 1. the first call fetches; the result is reused for `ttlMs`, then fetched again;
 * 2. a refresh (asked for when no cached key verifies a signature) or a retry after a failed
 *    fetch happens only when the previous fetch started at least `minRefreshIntervalMs` ago,
 *    so a flood of forged deliveries costs at most one fetch per interval;
 * 3. concurrent callers share one in-flight fetch.
 */
export function createJwksCache(options: JwksCacheOptions): JwksCache {
  let cached: { keys: WebhookKey[]; fetchedAt: number } | undefined;
  let lastAttemptAt: number | undefined;
  let lastFailure: JwksUnavailableError | undefined;
  let inFlight: Promise<WebhookKey[]> | undefined;
  let fetchCount = 0;

  const load = async (): Promise<WebhookKey[]> => {
    fetchCount += 1;
    let response: Response;
    try {
      response = await options.fetch(options.url, {
        signal: AbortSignal.timeout(options.timeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new JwksUnavailableError(
        'jwks-unavailable',
        `Could not fetch the webhook JWKS from ${options.url}: ${why}.`,
      );
    }
    if (!response.ok) {
      throw new JwksUnavailableError(
        'jwks-unavailable',
        `The webhook JWKS at ${options.url} answered HTTP ${response.status}.`,
      );
    }
    let document: unknown;
    try {
      document = await response.json();
    } catch {
      throw new JwksUnavailableError(
        'jwks-unavailable',
        `The webhook JWKS at ${options.url} is not valid JSON.`,
      );
    }
    return parseJwks(document);
  };

  const start = (now: number): Promise<WebhookKey[]> => {
    if (inFlight) return inFlight;
    lastAttemptAt = now;
    inFlight = load()
      .then(
        (keys) => {
          cached = { keys, fetchedAt: now };
          lastFailure = undefined;
          return keys;
        },
        (error: unknown) => {
          lastFailure =
            error instanceof JwksUnavailableError
              ? error
              : new JwksUnavailableError('jwks-unavailable', String(error));
          throw lastFailure;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  const mayFetch = (now: number): boolean =>
    lastAttemptAt === undefined || now - lastAttemptAt >= options.minRefreshIntervalMs;

  return {
    async keys(now) {
      if (inFlight) return inFlight;
      if (cached && now - cached.fetchedAt < options.ttlMs) return cached.keys;
      // Missing or expired keys are fetched at once; after a failed fetch, only once the
      // interval has passed (a JWKS outage must not turn every delivery into a fetch).
      if (lastFailure && !mayFetch(now)) throw lastFailure;
      return start(now);
    },
    async refresh(now) {
      if (inFlight) return inFlight;
      if (!mayFetch(now)) return undefined;
      return start(now);
    },
    get fetchCount() {
      return fetchCount;
    },
  };
}
