/**
 * Public types of the emulator. Kept in one file so that test code, benchmarks and the CLI
 * can import the vocabulary without pulling in the server.
 */

import type { PlatformOptions } from './platform/types.js';

/** A duration in milliseconds, fixed or drawn uniformly from `[min, max]` with the seeded PRNG. */
export type Duration = number | readonly [number, number];

/** How long a job waits in the queue and then runs, so tests can shape timing without sleeping. */
export interface LatencyProfile {
  /** Time spent IN_QUEUE before a runner may pick the job up. */
  queueMs?: Duration;
  /** Time spent IN_PROGRESS before the job completes. */
  runMs?: Duration;
}

/** An error a model finishes with, to exercise the COMPLETED-with-error path. */
export interface CompleteWithError {
  /** HTTP status the result endpoint answers with (e.g. 500, 503, 422). */
  status: number;
  /** Human text, placed in `detail` and in the status `error` field. */
  detail?: string;
  /** fal's `error_type` (e.g. `runner_disconnected`), also sent as `X-Fal-Error-Type`. */
  error_type?: string;
  /** Replaces the whole result body when given (e.g. a 422 `detail` array). */
  body?: unknown;
}

/** Per-model behaviour set with `emulator.setModel()`; applies to jobs submitted afterwards. */
export interface ModelBehaviour extends LatencyProfile {
  /** Phantom requests ahead of each new job; `queue_position` counts them down over `queueMs`. */
  queueDepth?: number;
  /** Finish every job of this model with this error instead of an output. */
  completeWithError?: CompleteWithError;
  /**
   * Log lines emitted over the run (visible with `logs=1`): strings are spread evenly across
   * `runMs`; objects say when (`atMs` after the start) and at which level.
   */
  logs?: Array<string | { message: string; atMs?: number; level?: LogEntry['level'] }>;
  /** Replace the generated output with this JSON (no files are made). */
  output?: unknown;
  /**
   * An app that honours cancel signals: cancelling it while IN_PROGRESS stops it with a 499
   * (`client_cancelled`). By default a running app ignores the signal, finishes and delivers,
   * as fal documents for apps that do not handle it (reference §6).
   */
  cancelAware?: boolean;
  /**
   * Images flagged as NSFW: `true` flags every image, a number is the chance per image (seeded
   * PRNG). Flagged images are black and `has_nsfw_concepts` says `true`, as fal does (§14).
   */
  nsfw?: boolean | number;
  /**
   * Webhook deliveries of this model carry `payload: null` and this `payload_error` text (`true`
   * uses a default text), as fal sends when the output cannot go in the delivery (§7).
   */
  webhookPayloadError?: boolean | string;
  /** `x-fal-billable-units` on the result; default: images made, or seconds of video. */
  billableUnits?: number | string;
}

/** Which kind of call a request was, for the log, stats and fault matching. */
export type RequestKind =
  | 'submit'
  | 'status'
  | 'stream'
  | 'result'
  | 'cancel'
  | 'upload-initiate'
  | 'upload-put'
  | 'upload-part'
  | 'upload-complete'
  | 'file'
  | 'jwks'
  | 'webhook-delivery'
  | 'admin'
  | 'platform'
  | 'other';

/** One recorded HTTP exchange; secrets are redacted before it is stored. */
export interface LoggedRequest {
  /** Epoch ms when the request arrived. */
  time: number;
  method: string;
  /** Path without the query string (the full URL for webhook deliveries). */
  path: string;
  query: Record<string, string>;
  /** Lower-cased request headers; `authorization` reads `Key <masked>`. */
  headers: Record<string, string>;
  /**
   * Parsed JSON body, or the byte length for binary bodies; undefined when empty. Integers
   * beyond 2^53 are rounded here (the job keeps them exactly).
   */
  body?: unknown;
  /**
   * Webhook deliveries only: the exact body bytes (UTF-8) that were signed, to replay a
   * delivery; a re-serialised `body` would no longer match the signature.
   */
  rawBody?: string;
  /** Response status; 0 when the connection was dropped or a delivery failed to connect. */
  status: number;
  kind: RequestKind;
  /** Endpoint id of the job involved, when known. */
  endpointId?: string | undefined;
  /** Request id of the job involved, when known. */
  requestId?: string;
  /** Set when an injected fault shaped the response. */
  fault?: FaultAction['type'];
  /** Transport error of a webhook delivery attempt. */
  error?: string;
}

/** Queue status values; fal has no FAILED or CANCELLED status (reference §4). */
export type JobStatus = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';

/** A fal log entry as served in status responses. */
export interface LogEntry {
  message: string;
  level: 'STDOUT' | 'STDERR' | 'INFO' | 'WARN' | 'ERROR' | 'DEBUG';
  source: 'USER';
  timestamp: string;
}

/** A snapshot of one job, for assertions and benchmarks. */
export interface JobInfo {
  requestId: string;
  endpointId: string;
  input: unknown;
  status: JobStatus;
  /** Epoch ms with sub-ms precision (performance.timeOrigin + performance.now()). */
  submittedAt: number;
  startedAt?: number;
  completedAt?: number;
  /** True when a cancel stopped the job (queued, or running with `cancelAware`). */
  cancelled: boolean;
  /** Epoch ms of the first cancel request, also when the app ignored it and finished. */
  cancelRequestedAt?: number;
  /**
   * Epoch ms after which status, result and cancel answer 404: fal keeps a result 1 h after
   * completion, 6 min when it is 10 KB or more (reference §5), times `timeScale`.
   */
  expiresAt?: number;
  /** Id of the account the job runs under (`user-<hash of the key id>`), for concurrency. */
  userId: string;
  /** Set when the job completed with an error (cancel, timeout, 422, injected error). */
  error?: { status: number; detail: unknown; error_type?: string | undefined };
  /** The output JSON when the job succeeded. */
  output?: unknown;
  priority: 'normal' | 'low';
  runnerHint?: string | undefined;
  /** `x-fal-request-timeout` in seconds, when sent. */
  startTimeoutSeconds?: number | undefined;
  /** `x-fal-object-lifecycle-preference`, parsed when it is JSON. */
  lifecyclePreference?: unknown;
  webhookUrl?: string | undefined;
  logs: LogEntry[];
}

/** A fault response; see `FaultRule`. */
export type FaultAction =
  | {
      type: 'status';
      status: number;
      body?: unknown;
      headers?: Record<string, string>;
      retryAfterSeconds?: number;
    }
  | { type: 'drop' }
  | { type: 'delay'; ms: number }
  | { type: 'drop-after-accept' }
  /**
   * Accept, then stop: a download sends its headers (and `afterBytes` of the body) and then
   * nothing; an upload PUT is read up to `afterBytes` and never answered. Only for `file`,
   * `upload-put` and `upload-part` requests; the connection stays open until the client gives
   * up or the emulator closes.
   */
  | { type: 'stall'; afterBytes?: number }
  | { type: 'one-of'; actions: FaultAction[] };

/** A scripted failure: the first matching active rule shapes the response. */
export interface FaultRule {
  match?: {
    kind?: RequestKind | RequestKind[];
    method?: string;
    path?: RegExp | string;
    endpointId?: string;
  };
  action: FaultAction;
  /** Apply at most N times. */
  times?: number;
  /** 0..1, drawn from the seeded PRNG. */
  probability?: number;
}

/** Options of `startEmulator()`. */
export interface EmulatorOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Folders of model definition JSON files, read after the built-in models (the
   * `@falai/models` package); later ones override earlier ones. @default none
   */
  modelsDirs?: string[];
  /** Play the built-in models (`@falai/models`); false leaves only `modelsDirs`. @default true */
  builtInModels?: boolean;
  /** Sequential request ids, a fixed PRNG seed (1 unless `seed`), no wall-clock randomness. */
  deterministic?: boolean;
  /** Seed of the PRNG used for ranged durations, fault probabilities and seeds in outputs. */
  seed?: number;
  /** @default { queueMs: 50, runMs: 300 } */
  defaultLatency?: LatencyProfile;
  /**
   * Jobs IN_PROGRESS at once per key (fal's per-account concurrency limit); the rest wait
   * IN_QUEUE. `Infinity` lifts the limit. @default 2 (fal's limit for new accounts, §8)
   */
  concurrency?: number;
  /**
   * Per-key rate limit on queue and upload-initiate calls: more than `requests` calls in a
   * window of `windowMs` (real ms, not time-scaled) answer 429 with `Retry-After`.
   * @default none (fal publishes no per-minute limit for inference)
   */
  rateLimit?: { requests: number; windowMs?: number };
  /** `accept: 'any'` (default) takes any `id:secret`; `locked` keys get 403 at submit. */
  keys?: { accept?: string[] | 'any'; locked?: string[] };
  /**
   * Webhook delivery. fal retries 10 times over 2 hours (reference §7): the emulator spreads
   * `retries` attempts exponentially (each wait twice the last) over `spanMs` (fal time,
   * multiplied by `timeScale`). `retryDelayMs` replaces that schedule with a fixed wait in
   * real ms. `payloadErrorRate` (0..1, seeded PRNG) makes that share of deliveries carry
   * `payload: null` plus `payload_error`.
   * @default { retries: 10, spanMs: 7_200_000, payloadErrorRate: 0 }
   */
  webhook?: {
    retries?: number;
    spanMs?: number;
    retryDelayMs?: number;
    payloadErrorRate?: number;
  };
  /**
   * Multiplies fal's own durations: result retention (1 h, 6 min for results of 10 KB or more)
   * and the webhook retry span (2 h). `0.001` turns an hour into 3.6 s for tests. Latencies
   * set with `defaultLatency`/`setModel` are not scaled. @default 1
   */
  timeScale?: number;
  /**
   * Strict routing, as the live service answers: submitting to an endpoint id the emulator
   * does not know (no model definition, no `setModel`) is a 404, and status, result, cancel
   * and stream under the full endpoint id (owner/alias plus a path) are a 405; only the
   * owner/alias form works (reference §2). Off, both forms are served. @default false
   */
  strict?: boolean;
  /**
   * Bytes per second for each upload body (PUT, parts) and each download from `/files/`, to
   * test slow links. @default unlimited
   */
  bandwidth?: number;
  /** Keep the request log. @default true */
  logRequests?: boolean;
  /** Interval of SSE keep-alive comments. @default 15000 (like fal) */
  sseKeepAliveMs?: number;
  /** fal's Platform API at `/v1/` (catalogue, prices, history, billing): ADMIN keys, credits. */
  platform?: PlatformOptions;
}

/** Counters by request kind, for "HTTP requests per job" in benchmarks. */
export interface EmulatorStats {
  submits: number;
  statusCalls: number;
  resultCalls: number;
  streamCalls: number;
  cancelCalls: number;
  uploadCalls: number;
  fileCalls: number;
  webhookDeliveries: number;
  faults: number;
  /** Calls answered 429 by the `rateLimit` option. */
  rateLimited: number;
  /**
   * Most jobs IN_PROGRESS at once per account (`user-<hash>`, see `emulator.userId(key)`) since
   * start or `resetStats()`.
   */
  peakRunning: Record<string, number>;
  total: number;
  byKind: Record<RequestKind, number>;
}

/** A running emulator. */
export interface Emulator {
  /** `http://127.0.0.1:PORT`: queue API at the root, storage, JWKS and files below it. */
  readonly url: string;
  readonly port: number;
  /** Closes the server, open SSE streams, timers, webhook retries and the temp file folder. */
  close(): Promise<void>;
  /** Shapes jobs submitted afterwards; `'*'` applies to models without their own behaviour. */
  setModel(endpointId: string, behaviour: ModelBehaviour): void;
  /** Adds a fault rule; returns a function that removes it. */
  inject(rule: FaultRule): () => void;
  clearFaults(): void;
  readonly log: readonly LoggedRequest[];
  clearLog(): void;
  job(requestId: string): JobInfo | undefined;
  jobs(): JobInfo[];
  readonly stats: EmulatorStats;
  /** Zeroes the counters, e.g. between benchmark phases. */
  resetStats(): void;
  on(event: 'completed', listener: (job: JobInfo) => void): void;
  off(event: 'completed', listener: (job: JobInfo) => void): void;
  /** Public keys that sign webhook deliveries, as served at `/.well-known/jwks.json`. */
  readonly jwks: { keys: object[] };
  /** Replaces the webhook signing key (new `kid`) so clients can test JWKS refresh. */
  rotateWebhookKey(options?: { keepPrevious?: boolean }): string;
  /** Endpoint ids of the loaded model definitions. */
  readonly models: readonly string[];
  /** The account id the emulator files a key's jobs under (never the key itself). */
  userId(key: string): string;
}
