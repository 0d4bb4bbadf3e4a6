/**
 * The Platform API's error envelope (fal-platform-api.md §0, fal-api-reference.md §12):
 * `{"error": {"type", "message"}}`, unlike the queue hosts' `{"detail": …}`.
 */

/** The `type` values fal's Platform API documents. */
export type PlatformErrorType =
  | 'authorization_error'
  | 'validation_error'
  | 'not_found'
  | 'rate_limited'
  | 'server_error'
  | 'not_implemented';

/** Thrown by the Platform handlers; the router sends it as the envelope with its status. */
export class PlatformError extends Error {
  constructor(
    readonly status: number,
    readonly type: PlatformErrorType,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'PlatformError';
  }

  /** The JSON body fal sends. */
  get body(): { error: { type: PlatformErrorType; message: string } } {
    return { error: { type: this.type, message: this.message } };
  }
}

/** 422 `validation_error`: a parameter or body fal would refuse. */
export const invalid = (message: string): PlatformError =>
  new PlatformError(422, 'validation_error', message);

/** 404 `not_found`. */
export const notFound = (message: string): PlatformError =>
  new PlatformError(404, 'not_found', message);
