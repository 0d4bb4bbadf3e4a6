import { ApiError, InputError } from '../errors/index.js';

/** Longest request id accepted; fal's are 36-character UUIDs. */
export const MAX_REQUEST_ID_LENGTH = 128;

/**
 * The characters fal's request ids use: a UUID (`80e732af-660e-45cd-bd63-580e4f2a94cc`), or more
 * generally letters, digits, `-` and `_`, starting with a letter or digit. Nothing that could
 * change a URL path (`/`, `..`, `%`, `?`, `#`) or a file name.
 */
const REQUEST_ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${MAX_REQUEST_ID_LENGTH - 1}}$`);

/** True when `id` looks like one of fal's request ids (see {@link MAX_REQUEST_ID_LENGTH}). */
export function isValidRequestId(id: unknown): id is string {
  return typeof id === 'string' && REQUEST_ID.test(id);
}

/** The id as it may be shown in a message: quoted, control characters escaped, bounded. */
export function quoteUntrusted(text: string, max = 80): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

/**
 * A request id the caller gave (an argument, a stored record): trimmed and checked before it
 * goes into a URL. Throws INPUT_INVALID otherwise.
 */
export function checkRequestId(requestId: string): string {
  const trimmed = typeof requestId === 'string' ? requestId.trim() : '';
  if (!isValidRequestId(trimmed))
    throw new InputError(
      `Invalid request id ${quoteUntrusted(String(requestId))}: use the request_id fal returned at submit (letters, digits, "-" and "_", at most ${MAX_REQUEST_ID_LENGTH}).`,
      [{ path: [], message: 'invalid request id', kind: 'request-id' }],
    );
  return trimmed;
}

/**
 * A request id fal sent (submit answer): fal's answers are untrusted text, so an id that could
 * change a URL or a file name (`..`, `a/b`) is an API_ERROR and is never used.
 */
export function checkServerRequestId(
  value: unknown,
  context: { readonly what: string; readonly status: number },
): string {
  if (isValidRequestId(value)) return value;
  const shown = typeof value === 'string' ? quoteUntrusted(value) : String(value);
  throw new ApiError(
    `fal answered ${context.what} with an invalid request_id ${shown} (HTTP ${context.status}); falai did not use it. fal's request ids are letters, digits, "-" and "_". Check your fal dashboard before retrying, and your FALAI_BASE_URL if it points at a proxy.`,
    { status: context.status, retryable: false },
  );
}
