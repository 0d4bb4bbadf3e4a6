import type { FalaiSettings } from '../config/settings.js';
import type { FalaiError } from '../errors/index.js';
import type { PollPolicy } from './poll-policy.js';
import type { RetryPolicy } from './retry.js';

/** Options of {@link createFalClient}. */
export interface FalClientOptions {
  /**
   * The FAL_KEY, or a function returning it. Resolved lazily, only when a request is
   * built, so offline commands need no key.
   * @default resolveCredentials({ settings }) on first use
   */
  readonly credentials?: string | (() => Promise<string> | string);
  /** Resolved settings; their base URLs apply unless overridden below. */
  readonly settings?: FalaiSettings;
  /** Points every fal host at one server (e.g. the emulator). */
  readonly baseUrl?: string;
  readonly queueUrl?: string;
  readonly runUrl?: string;
  readonly restUrl?: string;
  /** Per call kind overrides of {@link DEFAULT_RETRY_POLICIES}. */
  readonly retry?: {
    readonly [K in 'submit' | 'status' | 'result' | 'cancel' | 'upload']?: Partial<RetryPolicy>;
  };
  /**
   * Per HTTP call timeout in ms (until the response body is read; for the status
   * stream, until its headers arrive). Uploads use {@link uploadIdleTimeoutMs} instead.
   * @default 60000
   */
  readonly timeoutMs?: number;
  /**
   * Uploads have no total limit (a 90 MiB file takes minutes on a slow uplink); an upload call
   * fails, and a part is retried, when nothing is sent or received for this long.
   * @default 60000
   */
  readonly uploadIdleTimeoutMs?: number;
  /**
   * Largest status answer read (also submit, cancel and storage answers); past it the call
   * fails with API_ERROR instead of filling memory.
   * @default 1048576 (1 MiB)
   */
  readonly maxStatusBytes?: number;
  /**
   * Largest result answer read (data-URI outputs are inline, so results can be big); past it
   * the call fails with API_ERROR and the request stays pending.
   * @default 67108864 (64 MiB)
   */
  readonly maxResultBytes?: number;
  /** @default `falai/<version>` */
  readonly userAgent?: string;
  /** A fetch implementation; @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /**
   * Test seams, not for applications: `sleep` waits between retries (tests assert the delay
   * asked for instead of measuring wall-clock time), `random` drives the retry jitter.
   */
  readonly _internal?: {
    readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    readonly random?: () => number;
  };
}

/** Options every call accepts. */
export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
  /** Overrides the client's per-call timeout. */
  readonly timeoutMs?: number;
}

/** How long fal keeps generated media, and who may read it. */
export interface StorageLifecycle {
  /** `immediate` = 60 s, or seconds. */
  readonly expiresIn: 'immediate' | '1h' | '1d' | '7d' | '30d' | '1y' | number;
  readonly initialAcl?: {
    readonly default: 'hide' | 'forbid' | 'allow';
    readonly rules?: readonly { readonly user: string; readonly decision: string }[];
  };
}

/** Options of `submit`, mapped to fal's headers and query (§3). */
export interface SubmitOptions extends CallOptions {
  /** fal POSTs the result here (`?fal_webhook=`). */
  readonly webhookUrl?: string;
  /** `x-fal-queue-priority`; sent only when given. */
  readonly priority?: 'normal' | 'low';
  /** `x-fal-runner-hint`: routing affinity. */
  readonly hint?: string;
  /** `x-fal-request-timeout`: seconds the job may wait to start (> 1). */
  readonly startTimeoutSeconds?: number;
  /** `x-fal-object-lifecycle-preference`. */
  readonly storageLifecycle?: StorageLifecycle;
}

/** What fal said when it accepted a request. */
export interface SubmitResult {
  readonly requestId: string;
  readonly endpointId: string;
  readonly statusUrl: string;
  readonly responseUrl: string;
  readonly cancelUrl: string;
  readonly queuePosition: number;
  readonly gatewayRequestId?: string;
  /** Attempts that reached the network (1 unless a provably-unsent attempt was retried). */
  readonly attempts: number;
}

/** One log line of a running request. */
export interface LogEntry {
  readonly message: string;
  readonly level?: string;
  readonly source?: string;
  readonly timestamp?: string;
}

/** A status answer, normalised. `completed` may still carry an error: see `result`. */
export interface QueueStatus {
  readonly state: 'queued' | 'running' | 'completed';
  readonly queuePosition?: number;
  readonly logs: LogEntry[];
  readonly metrics?: { readonly inferenceTime?: number | null };
  /** fal's error text when the request completed with an error. */
  readonly error?: string;
  readonly errorType?: string;
  /** The body as received. */
  readonly raw: unknown;
}

/** Options of `status`. */
export interface StatusOptions extends CallOptions {
  /** Ask for logs (`logs=1`). @default false */
  readonly logs?: boolean;
}

/** Options of `streamStatus`. */
export interface StreamOptions extends StatusOptions {
  /**
   * Give up when the stream is silent this long (fal sends a keep-alive every 15 s).
   * @default 45000
   */
  readonly idleTimeoutMs?: number;
}

/** The end of a request, normalised: fal has no FAILED status, the result carries it. */
export type RequestOutcome =
  | {
      readonly state: 'completed';
      readonly requestId: string;
      readonly endpointId: string;
      readonly output: unknown;
      /**
       * What fal billed for the request: the result's `x-fal-billable-units` header (cost = units
       * × the endpoint's unit price). Absent when fal sent none (webhook deliveries never do).
       */
      readonly billableUnits?: number;
    }
  | {
      readonly state: 'failed';
      readonly requestId: string;
      readonly endpointId: string;
      readonly error: FalaiError;
      /** `x-fal-billable-units` of the error answer, when fal billed it (a 422 may be). */
      readonly billableUnits?: number;
    }
  | { readonly state: 'cancelled'; readonly requestId: string; readonly endpointId: string }
  | {
      /**
       * fal no longer holds the result: it keeps results about 1 h after completion (about
       * 6 min when the result is 10 KB or more), then answers 404. Terminal; `error` says so.
       */
      readonly state: 'expired';
      readonly requestId: string;
      readonly endpointId: string;
      readonly error: FalaiError;
    };

/** Options of `result`. */
export interface ResultOptions extends CallOptions {
  /**
   * The request id is one fal accepted (it came from a submit answer or a stored record). Then
   * a 404 from both the result and the status call means fal dropped the request after its
   * retention period (`expired`), not a mistyped id (thrown NOT_FOUND).
   * @default false
   */
  readonly knownRequest?: boolean;
}

/** What a cancel achieved (codes unconfirmed, see cancel). */
export interface CancelResult {
  readonly outcome: 'cancellation-requested' | 'already-completed' | 'not-found' | 'ok';
}

/** Progress of a wait. */
export interface WaitProgress {
  readonly state: 'queued' | 'running' | 'completed';
  readonly queuePosition?: number;
  /** Log lines not reported before. */
  readonly newLogs: LogEntry[];
  readonly elapsedMs: number;
  readonly via: 'stream' | 'poll';
}

/** Options of `wait`. */
export interface WaitOptions {
  readonly onProgress?: (progress: WaitProgress) => void;
  /** Collect logs. @default false */
  readonly logs?: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Give up waiting (the request keeps running at fal) after this many ms. */
  readonly timeoutMs?: number;
  /** `auto`: stream, falling back to polling. @default 'auto' */
  readonly mode?: 'auto' | 'stream' | 'poll';
  readonly pollPolicy?: Partial<PollPolicy>;
  /** Idle timeout of the stream. @default 45000 */
  readonly streamIdleTimeoutMs?: number;
}

/** Options of `upload`. */
export interface UploadOptions {
  /** @default guessed from the file name, else application/octet-stream */
  readonly contentType?: string;
  readonly fileName?: string;
  readonly onProgress?: (sent: number, total: number) => void;
  readonly signal?: AbortSignal | undefined;
  /**
   * Fail (after retrying a stalled part or PUT) when nothing is sent or received for this
   * long. There is no total limit.
   * @default the client's uploadIdleTimeoutMs (60000)
   */
  readonly idleTimeoutMs?: number;
  /** @deprecated An idle timeout like {@link idleTimeoutMs} (uploads have no total limit). */
  readonly timeoutMs?: number;
  /** Files larger than this use the multipart protocol. @default 90 MiB */
  readonly multipartThresholdBytes?: number;
  /** @default 10 MiB */
  readonly partSizeBytes?: number;
}

/** An uploaded file. */
export interface UploadResult {
  readonly url: string;
  readonly size: number;
  readonly contentType: string;
}

/** The fal queue client. Every method accepts an AbortSignal and a timeout. */
export interface FalClient {
  submit(endpointId: string, input: unknown, options?: SubmitOptions): Promise<SubmitResult>;
  status(endpointId: string, requestId: string, options?: StatusOptions): Promise<QueueStatus>;
  streamStatus(
    endpointId: string,
    requestId: string,
    options?: StreamOptions,
  ): AsyncIterable<QueueStatus>;
  /**
   * The request's outcome. A 400 counts only once `status` confirms COMPLETED (otherwise it
   * throws: still running); a 404 after completion is `expired`.
   */
  result(endpointId: string, requestId: string, options?: ResultOptions): Promise<RequestOutcome>;
  cancel(endpointId: string, requestId: string, options?: CallOptions): Promise<CancelResult>;
  wait(endpointId: string, requestId: string, options?: WaitOptions): Promise<RequestOutcome>;
  upload(source: string | Uint8Array | Blob, options?: UploadOptions): Promise<UploadResult>;
  readonly baseUrls: { readonly queue: string; readonly run: string; readonly rest: string };
}
