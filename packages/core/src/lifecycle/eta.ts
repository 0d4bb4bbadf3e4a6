import { CatalogueCache, catalogueCacheFolder } from '../catalogue/cache.js';
import type { PlatformClient } from '../platform/client.js';

/**
 * Honest ETAs while waiting: what fal expects a request of this model to take (the catalogue's
 * `duration_estimate`, the endpoint's analytics percentiles of queue and run time), and what
 * the queue position has done so far — still moving (with a rate), moving slowly or backwards
 * ("fal's queue for this model is congested"), or not at all for minutes ("likely stalled").
 * fal-platform-api.md §6.4: a queue that grew from 8,663 to 12,654 in 17 minutes looked like a
 * hang; it was a busy queue.
 */

/** One queue position seen while waiting, at `atMs` (any clock, the same for all samples). */
export interface QueueSample {
  readonly atMs: number;
  readonly position: number;
}

/** What the queue position's history says. */
export type QueueTrend =
  | { readonly kind: 'unknown' }
  /** Moving at `perMinute` places a minute; `etaMs` until the front at that rate. */
  | { readonly kind: 'moving'; readonly perMinute: number; readonly etaMs: number }
  /**
   * Moving slowly (the front is more than `congestedAfterMs` away at the current rate), or
   * moving backwards (requests are put ahead): fal's queue is busy, the request is alive.
   */
  | { readonly kind: 'congested'; readonly perMinute: number; readonly etaMs?: number }
  /** Not one place in `forMs`: likely stalled (an account limit, a stuck runner). */
  | { readonly kind: 'stalled'; readonly forMs: number };

/** Thresholds of {@link assessQueue}. */
export interface QueueTrendOptions {
  /** No movement this long is a stall. @default 300000 (5 minutes) */
  readonly stallAfterMs?: number;
  /** The rate is measured over this much recent history. @default 300000 (5 minutes) */
  readonly windowMs?: number;
  /** Less history than this says nothing about a rate. @default 20000 */
  readonly minSpanMs?: number;
  /** A front further away than this at the current rate is congestion. @default 900000 (15 min) */
  readonly congestedAfterMs?: number;
}

/**
 * Reads the queue position's history (pure): `stalled` when it has not changed for
 * `stallAfterMs`; `moving` with a rate and an ETA to the front; `congested` when that front is
 * far away, or the position went up; `unknown` with too little history. Position 0 (next) is
 * never a stall: the request is about to start.
 */
export function assessQueue(
  samples: readonly QueueSample[],
  nowMs: number,
  options: QueueTrendOptions = {},
): QueueTrend {
  const stallAfter = options.stallAfterMs ?? 5 * 60_000;
  const window = options.windowMs ?? 5 * 60_000;
  const minSpan = options.minSpanMs ?? 20_000;
  const congestedAfter = options.congestedAfterMs ?? 15 * 60_000;
  const ordered = [...samples]
    .filter((sample) => Number.isFinite(sample.atMs) && Number.isFinite(sample.position))
    .sort((a, b) => a.atMs - b.atMs);
  const last = ordered[ordered.length - 1];
  const first = ordered[0];
  if (!last || !first) return { kind: 'unknown' };
  // When the position last changed (or since when it has been what it is).
  let since = first.atMs;
  for (let index = 1; index < ordered.length; index++) {
    const sample = ordered[index] as QueueSample;
    if (sample.position !== (ordered[index - 1] as QueueSample).position) since = sample.atMs;
  }
  if (last.position > 0 && nowMs - since >= stallAfter) {
    return { kind: 'stalled', forMs: nowMs - since };
  }
  const start = ordered.find((sample) => sample.atMs >= nowMs - window) ?? last;
  const span = Math.max(nowMs, last.atMs) - start.atMs;
  if (span < minSpan) return { kind: 'unknown' };
  const moved = start.position - last.position;
  const perMinute = Math.round((moved / (span / 60_000)) * 100) / 100;
  if (moved < 0) return { kind: 'congested', perMinute };
  if (moved === 0) return { kind: 'unknown' };
  const etaMs = Math.round((last.position / moved) * span);
  return etaMs > congestedAfter
    ? { kind: 'congested', perMinute, etaMs }
    : { kind: 'moving', perMinute, etaMs };
}

/** What fal expects of a request to one endpoint, in seconds. */
export interface RequestExpectation {
  /** The catalogue's `duration_estimate`. */
  readonly durationEstimateS?: number;
  /** Analytics: run time (p50, p90) over the last day. */
  readonly runP50S?: number;
  readonly runP90S?: number;
  /** Analytics: time before running (queue and start-up; p50, p90). */
  readonly queueP50S?: number;
  readonly queueP90S?: number;
}

/** Where a request is while waiting, for {@link progressEstimate}. */
export interface WaitState {
  readonly state: 'submitted' | 'queued' | 'running' | 'completed';
  readonly queuePosition?: number | undefined;
  /** Since it was first seen running (ms), while running. */
  readonly runningForMs?: number | undefined;
  /** Since the wait began (ms). */
  readonly waitedMs: number;
}

/** An ETA and the one line that says it. */
export interface ProgressEstimate {
  /** Milliseconds until the result, when it can be said. */
  readonly etaMs?: number;
  readonly trend: QueueTrend['kind'];
  /** `ETA ~40s`, `fal's queue for this model is congested (…)`, `likely stalled (…)`, or ``. */
  readonly text: string;
}

/** `40s`, `3m 20s`, `1h 5m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes}m ${seconds % 60}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
}

/**
 * The ETA of a waiting request (pure): queued, the time to the front at the position's current
 * rate (else fal's p50 queue time) plus the usual run time (p50, else `duration_estimate`);
 * running, the usual run time less what has run, or "taking longer than usual" past p90. Says
 * congested or likely stalled from the queue's trend.
 */
export function progressEstimate(
  wait: WaitState,
  trend: QueueTrend,
  expectation: RequestExpectation = {},
): ProgressEstimate {
  const runS = expectation.runP50S ?? expectation.durationEstimateS;
  const run = runS === undefined ? undefined : runS * 1000;
  if (wait.state === 'completed') return { trend: trend.kind, text: '' };
  if (wait.state === 'running') {
    const ran = wait.runningForMs ?? 0;
    if (run === undefined) return { trend: 'unknown', text: '' };
    const slow = (expectation.runP90S ?? runS ?? 0) * 1000;
    if (ran > Math.max(run, slow)) {
      return {
        trend: 'unknown',
        text: `taking longer than usual (usually ${formatDuration(run)}${expectation.runP90S !== undefined ? `, 9 in 10 within ${formatDuration(slow)}` : ''})`,
      };
    }
    const etaMs = Math.max(1000, run - ran);
    return { etaMs, trend: 'unknown', text: `ETA ~${formatDuration(etaMs)}` };
  }
  const position = wait.queuePosition;
  if (trend.kind === 'stalled') {
    return {
      trend: 'stalled',
      text: `likely stalled: queue position ${position ?? '?'} unchanged for ${formatDuration(trend.forMs)} (an account concurrency limit or a stuck runner; the request is still queued at fal)`,
    };
  }
  if (trend.kind === 'congested') {
    const rate =
      trend.perMinute < 0
        ? 'requests are being put ahead of it'
        : `${trend.perMinute} places a minute`;
    const eta = trend.etaMs === undefined ? undefined : trend.etaMs + (run ?? 0);
    return {
      ...(eta === undefined ? {} : { etaMs: eta }),
      trend: 'congested',
      text: `fal's queue for this model is congested (position ${position ?? '?'}, ${rate}${eta === undefined ? '' : `, ETA ~${formatDuration(eta)}`})`,
    };
  }
  const queue =
    trend.kind === 'moving'
      ? trend.etaMs
      : position === 0 || position === undefined
        ? expectation.queueP50S === undefined
          ? undefined
          : expectation.queueP50S * 1000
        : undefined;
  if (run === undefined && queue === undefined) return { trend: trend.kind, text: '' };
  if (queue === undefined) {
    return { trend: trend.kind, text: `runs ~${formatDuration(run ?? 0)} once it starts` };
  }
  const etaMs = Math.max(1000, queue + (run ?? 0));
  return { etaMs, trend: trend.kind, text: `ETA ~${formatDuration(etaMs)}` };
}

/**
 * Follows one wait's progress events and says where it stands at any moment (a spinner asks
 * on every frame, so a stall shows without a new event).
 */
export class ProgressTracker {
  readonly #samples: QueueSample[] = [];
  #state: WaitState['state'] = 'submitted';
  #position: number | undefined;
  #runningSince: number | undefined;
  readonly #started: number;
  #expectation: RequestExpectation;

  constructor(
    expectation: RequestExpectation = {},
    private readonly now: () => number = Date.now,
    private readonly options: QueueTrendOptions = {},
  ) {
    this.#expectation = expectation;
    this.#started = now();
  }

  /** Sets what fal expects (it may arrive after the wait began). */
  expect(expectation: RequestExpectation): void {
    this.#expectation = expectation;
  }

  /** Feeds one progress event (state and queue position). */
  update(event: {
    readonly state: 'queued' | 'running' | 'completed';
    readonly queuePosition?: number;
  }): void {
    const at = this.now();
    this.#state = event.state;
    if (event.state === 'running') this.#runningSince ??= at;
    if (event.state === 'queued' && event.queuePosition !== undefined) {
      this.#position = event.queuePosition;
      this.#samples.push({ atMs: at, position: event.queuePosition });
      // Bounded: the trend reads the last minutes only.
      if (this.#samples.length > 2000) this.#samples.splice(0, this.#samples.length - 1000);
    }
  }

  /** The estimate now. */
  estimate(): ProgressEstimate {
    const at = this.now();
    const trend =
      this.#state === 'queued'
        ? assessQueue(this.#samples, at, this.options)
        : ({ kind: 'unknown' } as const);
    return progressEstimate(
      {
        state: this.#state,
        queuePosition: this.#position,
        runningForMs: this.#runningSince === undefined ? undefined : at - this.#runningSince,
        waitedMs: at - this.#started,
      },
      trend,
      this.#expectation,
    );
  }
}

/**
 * What fal expects of a request to `endpointId`: the catalogue's `duration_estimate` (from the
 * catalogue cache when it holds the model, else asked) and the last day's analytics
 * percentiles. Best effort and quick: whatever cannot be had within `timeoutMs` is left out.
 */
export async function requestExpectation(options: {
  readonly platform: PlatformClient;
  readonly endpointId: string;
  /** falai's cache folder, for the cached catalogue entry. */
  readonly cacheDir?: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  readonly now?: Date;
  /**
   * What is known without asking (e.g. the model file's `durationEstimate`), used where fal
   * says nothing.
   */
  readonly known?: RequestExpectation;
}): Promise<RequestExpectation> {
  const { platform, endpointId } = options;
  const signal = AbortSignal.timeout(options.timeoutMs ?? 5000);
  const duration = (async () => {
    if (options.cacheDir) {
      const cache = new CatalogueCache(catalogueCacheFolder(options.cacheDir, platform.apiUrl));
      const entry = await cache.readModel(endpointId);
      if (entry?.model.durationEstimate !== undefined) return entry.model.durationEstimate;
    }
    const model = await platform.getModel(endpointId, { signal });
    return model?.metadata?.durationEstimate;
  })().catch(() => undefined);
  const analytics = platform
    .getAnalytics({
      endpointIds: [endpointId],
      metrics: ['p50_duration', 'p90_duration', 'p50_prepare_duration', 'p90_prepare_duration'],
      summary: true,
      start: new Date((options.now ?? new Date()).getTime() - 24 * 60 * 60 * 1000),
      signal,
    })
    .then((answer) => answer.summary?.find((row) => row.endpointId === endpointId)?.metrics)
    .catch(() => undefined);
  const [durationEstimate, metrics] = await Promise.all([duration, analytics]);
  const seconds = (name: string) => {
    const value = metrics?.[name];
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const out: Record<string, number> = {};
  if (
    typeof durationEstimate === 'number' &&
    Number.isFinite(durationEstimate) &&
    durationEstimate > 0
  )
    out.durationEstimateS = durationEstimate;
  const pairs = [
    ['runP50S', 'p50_duration'],
    ['runP90S', 'p90_duration'],
    ['queueP50S', 'p50_prepare_duration'],
    ['queueP90S', 'p90_prepare_duration'],
  ] as const;
  for (const [key, metric] of pairs) {
    const value = seconds(metric);
    if (value !== undefined) out[key] = value;
  }
  return { ...options.known, ...out } as RequestExpectation;
}
