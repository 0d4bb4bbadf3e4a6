/** A per-key limit: at most `requests` calls in each window of `windowMs` (default 1 s). */
export interface RateLimit {
  requests: number;
  windowMs?: number;
}

/** Counts calls per key in fixed windows. */
export interface RateLimiter {
  /** Counts one call of `key`: undefined within the limit, else the seconds to `Retry-After`. */
  hit(key: string): number | undefined;
  /** The 429 text for a call refused with `retryAfter` seconds. */
  message(retryAfter: number): string;
}

/**
 * A fixed-window rate limiter, shared by the queue side and the Platform API. [?] fal publishes
 * no such limit and its windows are not known; a window starts at a key's first call after the
 * previous one ended.
 */
export function createRateLimiter({ requests, windowMs = 1000 }: RateLimit): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key) {
      const now = Date.now();
      let window = windows.get(key);
      if (!window || now - window.start >= windowMs) {
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      if (window.count <= requests) return undefined;
      return Math.max(1, Math.ceil((window.start + windowMs - now) / 1000));
    },
    message: (retryAfter) =>
      `Rate limit exceeded: at most ${requests} requests per ${windowMs} ms. Retry after ${retryAfter} s.`,
  };
}
