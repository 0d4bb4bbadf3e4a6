import { createHash, verify as cryptoVerify } from 'node:crypto';
import { readHeader, WEBHOOK_HEADERS } from './headers.js';
import {
  createJwksCache,
  DEFAULT_WEBHOOK_JWKS_URL,
  JwksUnavailableError,
  MAX_JWKS_CACHE_TTL_MS,
  type WebhookKey,
  webhookJwksUrl,
} from './jwks.js';
import type {
  WebhookFetch,
  WebhookHeaders,
  WebhookRejectionReason,
  WebhookVerification,
  WebhookVerifyInput,
} from './types.js';

/** fal rejects deliveries older or newer than this many seconds. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

/** Options of {@link createWebhookVerifier}. */
export interface WebhookVerifierOptions {
  /**
   * Where the signing keys are published.
   * @default `<restBaseUrl>/.well-known/jwks.json`, else https://rest.fal.ai/.well-known/jwks.json
   */
  readonly jwksUrl?: string;
  /** The REST base URL (`settings.baseUrls.rest`, the emulator's URL); used when `jwksUrl` is absent. */
  readonly restBaseUrl?: string;
  /** @default globalThis.fetch */
  readonly fetch?: WebhookFetch;
  /** How long fetched keys are trusted before they are fetched again; capped at 24 h. @default 24 h */
  readonly cacheTtlMs?: number;
  /**
   * The least time between two JWKS fetches caused by a signature no cached key verifies
   * (or by a failed fetch). Bounds the fetches a flood of forged deliveries can cause.
   * @default 60_000
   */
  readonly minRefreshIntervalMs?: number;
  /** Accepted clock difference between fal and this machine. @default 300 */
  readonly toleranceSeconds?: number;
  /** The clock, in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Timeout of one JWKS fetch. @default 10_000 */
  readonly fetchTimeoutMs?: number;
}

/** Checks fal webhook deliveries against fal's published keys. */
export interface WebhookVerifier {
  verify(input: WebhookVerifyInput): Promise<WebhookVerification>;
  /**
   * The checks that need no body and no keys (headers present and well formed, timestamp in
   * the window), with this verifier's tolerance: a receiver runs them before reading a byte of
   * the body. `now` in epoch ms defaults to the verifier's clock.
   */
  checkHeaders(headers: WebhookHeaders, now?: number): WebhookHeaderCheck;
  /** The JWKS URL in use, for start-up messages. */
  readonly jwksUrl: string;
  /** How many JWKS fetches were made so far (diagnostics). */
  readonly jwksFetches: number;
}

const reject = (
  reason: WebhookRejectionReason,
  message: string,
): Extract<WebhookVerification, { ok: false }> => ({ ok: false, reason, message });

const HEX_SIGNATURE = /^[0-9a-fA-F]{128}$/;
const UNIX_SECONDS = /^\d{1,12}$/;
/**
 * What a request id or user id header may hold: fal's ids are UUIDs and short tokens, so
 * printable ASCII without spaces, at most 256 characters. Anything else (control characters,
 * a megabyte of header) is refused before it reaches a log line or a store lookup.
 */
const HEADER_ID = /^[\x21-\x7e]{1,256}$/;

/** The signature headers of one delivery, read and checked; see {@link checkWebhookHeaders}. */
export type WebhookHeaderCheck =
  | {
      readonly ok: true;
      readonly requestId: string;
      readonly userId: string;
      /** Unix seconds. */
      readonly timestamp: number;
      /** The timestamp exactly as signed (trimmed). */
      readonly timestampText: string;
      /** The signature, 128 hex characters. */
      readonly signature: string;
    }
  | Extract<WebhookVerification, { ok: false }>;

/**
 * The part of fal's verification that needs neither the body nor the keys: the four headers
 * are present and well formed (ids of printable ASCII, a Unix-seconds timestamp, a 128-hex
 * Ed25519 signature) and the timestamp is within ±`toleranceSeconds` of `now`. Messages never
 * echo a header's value: a public endpoint must not copy what strangers send into its logs.
 */
export function checkWebhookHeaders(
  headers: WebhookHeaders,
  options: { readonly now: number; readonly toleranceSeconds?: number },
): WebhookHeaderCheck {
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const requestId = readHeader(headers, WEBHOOK_HEADERS.requestId);
  const userId = readHeader(headers, WEBHOOK_HEADERS.userId);
  const timestampText = readHeader(headers, WEBHOOK_HEADERS.timestamp)?.trim();
  const signature = readHeader(headers, WEBHOOK_HEADERS.signature)?.trim();
  const missing = [
    [WEBHOOK_HEADERS.requestId, requestId],
    [WEBHOOK_HEADERS.userId, userId],
    [WEBHOOK_HEADERS.timestamp, timestampText],
    [WEBHOOK_HEADERS.signature, signature],
  ]
    .filter(([, value]) => value === undefined)
    .map(([name]) => name);
  if (
    missing.length > 0 ||
    requestId === undefined ||
    userId === undefined ||
    timestampText === undefined ||
    signature === undefined
  ) {
    return reject('missing-header', `Not a signed fal webhook: missing ${missing.join(', ')}.`);
  }
  if (!requestId || !userId) {
    return reject('malformed-header', 'The webhook request id and user id must not be empty.');
  }
  if (!HEADER_ID.test(requestId) || !HEADER_ID.test(userId)) {
    return reject(
      'malformed-header',
      `${WEBHOOK_HEADERS.requestId} and ${WEBHOOK_HEADERS.userId} must be 1 to 256 printable ASCII characters without spaces.`,
    );
  }
  if (!UNIX_SECONDS.test(timestampText)) {
    return reject('malformed-header', `${WEBHOOK_HEADERS.timestamp} must be Unix seconds.`);
  }
  if (!HEX_SIGNATURE.test(signature)) {
    return reject(
      'malformed-header',
      `${WEBHOOK_HEADERS.signature} must be a 64-byte Ed25519 signature in hex (128 characters).`,
    );
  }
  const timestamp = Number(timestampText);
  const skew = timestamp - Math.floor(options.now / 1000);
  if (skew < -toleranceSeconds) {
    return reject(
      'stale',
      `The delivery was signed ${-skew} s ago, beyond the ${toleranceSeconds} s window; check this machine's clock if this repeats.`,
    );
  }
  if (skew > toleranceSeconds) {
    return reject(
      'future',
      `The delivery is timestamped ${skew} s in the future, beyond the ${toleranceSeconds} s window; check this machine's clock.`,
    );
  }
  return { ok: true, requestId, userId, timestamp, timestampText, signature };
}

/** The lower-case hex SHA-256 of the exact bytes received. */
function bodyDigest(rawBody: Uint8Array | string): string {
  return createHash('sha256').update(rawBody).digest('hex');
}

/**
 * Creates a verifier implementing fal's scheme (API reference §7): Ed25519 over
 * `requestId\nuserId\ntimestamp\nsha256hex(rawBody)`, with the keys from the JWKS, within
 * ±`toleranceSeconds`. The JWKS is fetched on first use and cached; when no cached key
 * verifies a signature, it is fetched again at most once per `minRefreshIntervalMs` (fal
 * sends no key id, so a failed check is the only sign of a rotated key).
 */
export function createWebhookVerifier(options: WebhookVerifierOptions = {}): WebhookVerifier {
  const jwksUrl =
    options.jwksUrl ??
    (options.restBaseUrl ? webhookJwksUrl(options.restBaseUrl) : DEFAULT_WEBHOOK_JWKS_URL);
  const clock = options.now ?? Date.now;
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const fetcher: WebhookFetch =
    options.fetch ?? ((url, init) => globalThis.fetch(url, init as RequestInit));
  const cache = createJwksCache({
    url: jwksUrl,
    fetch: fetcher,
    ttlMs: Math.min(options.cacheTtlMs ?? MAX_JWKS_CACHE_TTL_MS, MAX_JWKS_CACHE_TTL_MS),
    minRefreshIntervalMs: options.minRefreshIntervalMs ?? 60_000,
    timeoutMs: options.fetchTimeoutMs ?? 10_000,
  });

  const check = (keys: readonly WebhookKey[], message: Buffer, signature: Buffer) =>
    keys.find(({ key }) => {
      try {
        return cryptoVerify(null, message, key, signature);
      } catch {
        return false;
      }
    });

  return {
    jwksUrl,
    get jwksFetches() {
      return cache.fetchCount;
    },
    checkHeaders(headers, now) {
      return checkWebhookHeaders(headers, { now: now ?? clock(), toleranceSeconds });
    },
    async verify(input) {
      const nowMs =
        input.now === undefined
          ? clock()
          : typeof input.now === 'number'
            ? input.now
            : input.now.getTime();
      const checked = checkWebhookHeaders(input.headers, { now: nowMs, toleranceSeconds });
      if (!checked.ok) return checked;
      const { requestId, userId, timestamp } = checked;

      // The signed text uses the header values exactly as sent.
      const message = Buffer.from(
        `${requestId}\n${userId}\n${checked.timestampText}\n${bodyDigest(input.rawBody)}`,
        'utf8',
      );
      const signature = Buffer.from(checked.signature, 'hex');
      const accepted = (key: WebhookKey): WebhookVerification => ({
        ok: true,
        requestId,
        userId,
        timestamp,
        ...(key.keyId === undefined ? {} : { keyId: key.keyId }),
      });

      let keys: WebhookKey[];
      try {
        keys = await cache.keys(nowMs);
      } catch (error) {
        return jwksRejection(error);
      }
      const match = check(keys, message, signature);
      if (match) return accepted(match);

      // No cached key verifies: maybe fal rotated its keys. Refresh, rate-limited.
      let fresh: WebhookKey[] | undefined;
      try {
        fresh = await cache.refresh(nowMs);
      } catch (error) {
        return jwksRejection(error);
      }
      const late = fresh && fresh !== keys ? check(fresh, message, signature) : undefined;
      if (late) return accepted(late);
      return reject(
        'bad-signature',
        'The signature does not match any key in the webhook JWKS: the body or headers were changed, or it was not sent by fal.',
      );
    },
  };
}

function jwksRejection(error: unknown): WebhookVerification {
  if (error instanceof JwksUnavailableError) return reject(error.reason, error.message);
  return reject('jwks-unavailable', `Could not load the webhook JWKS: ${String(error)}.`);
}

/** Options of {@link verifyWebhook}: one delivery plus the verifier settings. */
export interface VerifyWebhookInput extends WebhookVerifyInput {
  /** A verifier to reuse (keeps its JWKS cache); otherwise a shared default one is used. */
  readonly verifier?: WebhookVerifier;
}

let defaultVerifier: WebhookVerifier | undefined;

/**
 * Verifies one delivery against fal's production JWKS with a process-wide cache. For another
 * JWKS (the emulator, a proxy) or custom settings, build one with {@link createWebhookVerifier}.
 */
export function verifyWebhook(input: VerifyWebhookInput): Promise<WebhookVerification> {
  if (input.verifier) return input.verifier.verify(input);
  defaultVerifier ??= createWebhookVerifier();
  return defaultVerifier.verify(input);
}
