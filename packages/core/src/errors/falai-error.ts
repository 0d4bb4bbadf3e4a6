/**
 * The one error family of falai. Every error has a stable `code`, a `message`
 * that says what to do next, optional structured `details`, and a `cause` when
 * one exists. No field ever holds a credential.
 */

/** Stable error codes. The CLI maps each one to an exit code in one table. */
export type FalaiErrorCode =
  | 'CONFIG_INVALID'
  | 'AUTH_MISSING'
  | 'AUTH_INVALID'
  | 'AUTH_REJECTED'
  | 'MODEL_UNKNOWN'
  | 'INPUT_INVALID'
  | 'MEDIA_INVALID'
  | 'API_ERROR'
  | 'RATE_LIMITED'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'NOT_FOUND'
  | 'REQUEST_FAILED'
  | 'REQUEST_TIMEOUT'
  | 'REQUEST_CANCELLED'
  | 'STORE_ERROR'
  | 'STORE_CORRUPT'
  | 'STORE_CONFLICT'
  | 'WEBHOOK_INVALID'
  | 'OUTPUT_EXISTS'
  /** An output file could not be written (disk full, read-only, no permission). */
  | 'OUTPUT_WRITE_FAILED'
  /** A submit refused before anything was sent: its estimate exceeds `--max-cost` or a budget. */
  | 'BUDGET_EXCEEDED'
  /** A cost cap is in force (`--max-cost`, a budget) and this submit's cost cannot be estimated. */
  | 'COST_UNKNOWN'
  /** A command line that cannot be parsed: unknown flag, missing argument. */
  | 'USAGE'
  | 'INTERNAL';

const marker = Symbol.for('falai.error');

/** The JSON shape of an error, exactly what `--json` prints under `error`. */
export interface FalaiErrorJson {
  readonly code: FalaiErrorCode;
  readonly message: string;
  readonly details?: unknown;
}

export interface FalaiErrorOptions {
  readonly cause?: unknown;
  readonly details?: unknown;
}

export class FalaiError extends Error {
  readonly [marker] = true;
  readonly code: FalaiErrorCode;
  readonly details?: unknown;

  constructor(code: FalaiErrorCode, message: string, options: FalaiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FalaiError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }

  /** True for any falai error, even one from another copy of this package. */
  static isInstance(value: unknown): value is FalaiError {
    return typeof value === 'object' && value !== null && marker in value;
  }

  toJSON(): FalaiErrorJson {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** A setting has a bad value; the message names the setting and where it came from. */
export class ConfigError extends FalaiError {
  constructor(message: string, options: FalaiErrorOptions = {}) {
    super('CONFIG_INVALID', message, options);
    this.name = 'ConfigError';
  }
}

/** A credential source that was tried while resolving FAL_KEY. */
export interface CredentialSourceAttempt {
  /** e.g. `env FAL_KEY`, `openclaw.json skills.entries.falai.apiKey (/home/me/.openclaw/openclaw.json)` */
  readonly source: string;
  /** What the source held: `not set`, `file not found`, `no key in ## Tools section`, … */
  readonly result: string;
  /** How to put a key there. */
  readonly fix: string;
}

/** AUTH_MISSING (no key anywhere), AUTH_INVALID (malformed key) or AUTH_REJECTED (401/403). */
export class AuthError extends FalaiError {
  readonly status?: number;
  constructor(
    code: 'AUTH_MISSING' | 'AUTH_INVALID' | 'AUTH_REJECTED',
    message: string,
    options: FalaiErrorOptions & { readonly status?: number } = {},
  ) {
    super(code, message, options);
    this.name = 'AuthError';
    if (options.status !== undefined) this.status = options.status;
  }
}

/** One problem with an input, with the path of the field it concerns. */
export interface InputIssue {
  /** Field path, e.g. `['image_urls', 2]`; empty for the input as a whole. */
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** How to fix it, when there is something more to say than the message. */
  readonly hint?: string;
  /** A short machine code: `required`, `type`, `enum`, `range`, `reference`, `media`, … */
  readonly kind?: string;
}

/** Input rejected, by local validation or by the model (422). */
export class InputError extends FalaiError {
  readonly issues: readonly InputIssue[];
  readonly requestId?: string;
  constructor(
    message: string,
    issues: readonly InputIssue[],
    options: FalaiErrorOptions & {
      readonly requestId?: string;
      readonly code?: 'INPUT_INVALID' | 'MODEL_UNKNOWN';
    } = {},
  ) {
    super(options.code ?? 'INPUT_INVALID', message, {
      ...options,
      details: options.details ?? { issues },
    });
    this.name = 'InputError';
    this.issues = issues;
    if (options.requestId !== undefined) this.requestId = options.requestId;
  }
}

/** A local media file is unreadable, of the wrong kind, or outside the model's limits. */
export class MediaError extends FalaiError {
  constructor(message: string, options: FalaiErrorOptions = {}) {
    super('MEDIA_INVALID', message, options);
    this.name = 'MediaError';
  }
}

/** fal answered with an error the caller did not cause through its input. */
export class ApiError extends FalaiError {
  readonly status: number;
  readonly requestId?: string;
  readonly retryable: boolean;
  /** fal's `detail` (string or list), as received. */
  readonly detail?: unknown;
  /** fal's `error_type` (body or `X-Fal-Error-Type`), e.g. `runner_disconnected`. */
  readonly errorType?: string;
  constructor(
    message: string,
    options: FalaiErrorOptions & {
      readonly status: number;
      readonly requestId?: string;
      readonly retryable?: boolean;
      readonly detail?: unknown;
      readonly errorType?: string;
      readonly code?: 'API_ERROR' | 'NOT_FOUND' | 'RATE_LIMITED';
    },
  ) {
    super(options.code ?? 'API_ERROR', message, {
      ...options,
      details: options.details ?? {
        status: options.status,
        ...(options.requestId ? { requestId: options.requestId } : {}),
        ...(options.errorType ? { errorType: options.errorType } : {}),
        ...(options.detail !== undefined ? { detail: options.detail } : {}),
      },
    });
    this.name = 'ApiError';
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    if (options.requestId !== undefined) this.requestId = options.requestId;
    if (options.detail !== undefined) this.detail = options.detail;
    if (options.errorType !== undefined) this.errorType = options.errorType;
  }
}

/** 429 from fal. `retryAfterMs` comes from `Retry-After` when sent. */
export class RateLimitError extends ApiError {
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    options: FalaiErrorOptions & {
      readonly status?: number;
      readonly requestId?: string;
      readonly retryAfterMs?: number;
    },
  ) {
    super(message, {
      ...options,
      status: options.status ?? 429,
      retryable: true,
      code: 'RATE_LIMITED',
    });
    this.name = 'RateLimitError';
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** The server could not be reached, or the connection broke. */
export class NetworkError extends FalaiError {
  constructor(message: string, options: FalaiErrorOptions = {}) {
    super('NETWORK_ERROR', message, options);
    this.name = 'NetworkError';
  }
}

/** A client-side timeout (`TIMEOUT`) or an abort by the caller (`ABORTED`). Never retried. */
export class AbortedError extends FalaiError {
  constructor(code: 'TIMEOUT' | 'ABORTED', message: string, options: FalaiErrorOptions = {}) {
    super(code, message, options);
    this.name = 'AbortedError';
  }
}

/** A queued request ended badly: failed, timed out on fal's side, or was cancelled. */
export class QueueError extends FalaiError {
  readonly requestId: string;
  readonly endpointId?: string;
  constructor(
    code: 'REQUEST_FAILED' | 'REQUEST_TIMEOUT' | 'REQUEST_CANCELLED',
    message: string,
    options: FalaiErrorOptions & { readonly requestId: string; readonly endpointId?: string },
  ) {
    super(code, message, options);
    this.name = 'QueueError';
    this.requestId = options.requestId;
    if (options.endpointId !== undefined) this.endpointId = options.endpointId;
  }
}

/** A store operation failed (`STORE_ERROR`), found damaged data (`STORE_CORRUPT`) or lost a race. */
export class StoreError extends FalaiError {
  readonly store: string;
  readonly operation: string;
  /** Where the damage or failure is: a file path, a key, a row id. */
  readonly location?: string;
  constructor(
    code: 'STORE_ERROR' | 'STORE_CORRUPT' | 'STORE_CONFLICT',
    message: string,
    options: FalaiErrorOptions & {
      readonly store: string;
      readonly operation: string;
      readonly location?: string;
    },
  ) {
    super(code, message, options);
    this.name = 'StoreError';
    this.store = options.store;
    this.operation = options.operation;
    if (options.location !== undefined) this.location = options.location;
  }
}

/**
 * A paid submit refused before anything was sent to fal: its estimate exceeds `--max-cost` or
 * what is left of a budget (`BUDGET_EXCEEDED`), or a cap is in force and the cost cannot be
 * estimated (`COST_UNKNOWN`). The message says what was refused and how to proceed.
 */
export class BudgetError extends FalaiError {
  constructor(
    code: 'BUDGET_EXCEEDED' | 'COST_UNKNOWN',
    message: string,
    options: FalaiErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = 'BudgetError';
  }
}

/** Turns anything thrown into a FalaiError (unknown errors become INTERNAL). */
export function toFalaiError(error: unknown): FalaiError {
  if (FalaiError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FalaiError('INTERNAL', `Unexpected error: ${message}`, { cause: error });
}
