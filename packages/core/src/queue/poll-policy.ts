/**
 * How often to poll status when the SSE stream is unavailable. Starts quick (short
 * jobs finish soon), grows geometrically so a long job costs few requests, and drops
 * back when the state changes (a job that just started running is likely to finish).
 */
export interface PollPolicy {
  readonly initialDelayMs: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
  /** Delay right after the state changed (queued → running). */
  readonly afterChangeDelayMs: number;
  /** ±fraction, so thousands of waiters do not poll in lockstep. */
  readonly jitter: number;
}

/** ~7 requests for a 3 s job, ~25 for 1 minute, then one every 5 s. */
export const DEFAULT_POLL_POLICY: PollPolicy = Object.freeze({
  initialDelayMs: 200,
  multiplier: 1.5,
  maxDelayMs: 5_000,
  afterChangeDelayMs: 250,
  jitter: 0.1,
});

/** Where a poller is: the last delay it used (undefined before the first poll). */
export interface PollState {
  readonly previousDelayMs?: number | undefined;
  /** True when the last poll saw a different state than the one before. */
  readonly changed: boolean;
}

/** The delay before the next status poll. `random` is injectable for tests. */
export function nextPollDelay(
  policy: PollPolicy,
  state: PollState,
  random: () => number = Math.random,
): number {
  let base: number;
  if (state.previousDelayMs === undefined) base = policy.initialDelayMs;
  else if (state.changed) base = Math.min(policy.afterChangeDelayMs, policy.maxDelayMs);
  else base = Math.min(state.previousDelayMs * policy.multiplier, policy.maxDelayMs);
  const spread = 1 + policy.jitter * (2 * random() - 1);
  return Math.max(1, Math.round(base * spread));
}
