import { createRequire } from 'node:module';
import { keyGetter } from '../auth/credentials.js';
import { normaliseBaseUrl, processEnvironment, resolveBaseUrl } from '../config/settings.js';
import { ApiError, InputError } from '../errors/index.js';
import { redactKey } from '../redact/mask.js';
import { formatEndpointId, parseEndpointId, queueBasePath } from './endpoint-id.js';
import { responseToError } from './errors.js';
import {
  DEFAULT_MAX_RESULT_BYTES,
  DEFAULT_MAX_STATUS_BYTES,
  type HttpContext,
  httpCall,
} from './http.js';
import { checkRequestId, checkServerRequestId, isValidRequestId } from './request-id.js';
import { mergeRetryPolicies, type RetryPolicies } from './retry.js';
import {
  expiredOutcome,
  isStoredResultError,
  normaliseStatus,
  outcomeFromResult,
  stillRunningError,
} from './status.js';
import { streamStatusEvents } from './stream.js';
import type {
  CallOptions,
  CancelResult,
  FalClient,
  FalClientOptions,
  QueueStatus,
  ResultOptions,
  StorageLifecycle,
  SubmitOptions,
  SubmitResult,
} from './types.js';
import { uploadFile } from './upload.js';
import { waitForRequest } from './wait.js';

/** @default per HTTP call */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** @default idle limit of upload calls (no total limit) */
export const DEFAULT_UPLOAD_IDLE_TIMEOUT_MS = 60_000;
let userAgent: string | undefined;
/** `falai/<version of @falai/core>`, read once from package.json (same depth from src/ and dist/). */
export function falaiUserAgent(): string {
  if (userAgent === undefined) {
    try {
      const pkg = createRequire(import.meta.url)('../../package.json') as { version?: string };
      userAgent = `falai/${pkg.version ?? 'unknown'}`;
    } catch {
      userAgent = 'falai/unknown';
    }
  }
  return userAgent;
}

const LIFECYCLE_SECONDS = {
  immediate: 60,
  '1h': 3600,
  '1d': 86_400,
  '7d': 604_800,
  '30d': 2_592_000,
  '1y': 31_536_000,
} as const;

function baseUrlsOf(options: FalClientOptions): { queue: string; run: string; rest: string } {
  const fromSettings = options.settings?.baseUrls;
  const pick = (
    host: 'queue' | 'run' | 'rest',
    specific: string | undefined,
    optionName: string,
  ) => {
    const value = specific ?? options.baseUrl;
    if (value !== undefined)
      return normaliseBaseUrl(
        value,
        `base URL (${host})`,
        `option ${specific !== undefined ? optionName : 'baseUrl'}`,
      );
    if (fromSettings) return fromSettings[host];
    // No settings given: the resolver's rule for this host over the environment alone, so
    // programs and tests can point the client at the emulator the same way the CLI does.
    return resolveBaseUrl(host, processEnvironment(), { setting: `base URL (${host})` }).value;
  };
  return Object.freeze({
    queue: pick('queue', options.queueUrl, 'queueUrl'),
    run: pick('run', options.runUrl, 'runUrl'),
    rest: pick('rest', options.restUrl, 'restUrl'),
  });
}

function lifecycleHeader(lifecycle: StorageLifecycle): string {
  const seconds =
    typeof lifecycle.expiresIn === 'number'
      ? lifecycle.expiresIn
      : LIFECYCLE_SECONDS[lifecycle.expiresIn];
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new InputError(
      `storageLifecycle.expiresIn must be a positive number of seconds or one of ${Object.keys(LIFECYCLE_SECONDS).join(', ')}.`,
      [{ path: ['storageLifecycle', 'expiresIn'], message: 'invalid expiry', kind: 'range' }],
    );
  return JSON.stringify({
    expiration_duration_seconds: Math.round(seconds),
    ...(lifecycle.initialAcl
      ? {
          initial_acl: {
            default: lifecycle.initialAcl.default,
            ...(lifecycle.initialAcl.rules ? { rules: lifecycle.initialAcl.rules } : {}),
          },
        }
      : {}),
  });
}

function submitHeaders(options: SubmitOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.priority !== undefined) {
    if (options.priority !== 'normal' && options.priority !== 'low')
      throw new InputError(
        `priority must be "normal" or "low", got "${String(options.priority)}".`,
        [{ path: ['priority'], message: 'must be normal or low', kind: 'enum' }],
      );
    headers['x-fal-queue-priority'] = options.priority;
  }
  if (options.hint !== undefined) headers['x-fal-runner-hint'] = options.hint;
  if (options.startTimeoutSeconds !== undefined) {
    // fal clients reject values <= 1 (§3).
    if (!(options.startTimeoutSeconds > 1))
      throw new InputError('startTimeoutSeconds must be greater than 1.', [
        { path: ['startTimeoutSeconds'], message: 'must be > 1', kind: 'range' },
      ]);
    headers['x-fal-request-timeout'] = String(options.startTimeoutSeconds);
  }
  if (options.storageLifecycle)
    headers['x-fal-object-lifecycle-preference'] = lifecycleHeader(options.storageLifecycle);
  return headers;
}

function webhookQuery(url: string | undefined): string {
  if (url === undefined) return '';
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new InputError(`webhookUrl "${url}" is not an http(s) URL.`, [
      { path: ['webhookUrl'], message: 'must be an http(s) URL', kind: 'type' },
    ]);
  }
  return `?fal_webhook=${encodeURIComponent(url)}`;
}

function str(data: unknown, name: string): string | undefined {
  const value =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** A URL fal sent, kept only when it points at the queue host we talk to (else ours). */
function sameOrigin(value: string | undefined, base: string, fallback: string): string {
  if (value === undefined) return fallback;
  try {
    return new URL(value).origin === new URL(base).origin ? value : fallback;
  } catch {
    return fallback;
  }
}

/** A size or time limit option: the default when unset; INPUT_INVALID unless finite and > 0. */
export function positiveLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new InputError(`${name} must be a positive number, got ${String(value)}.`, [
      { path: [name], message: 'must be positive', kind: 'range' },
    ]);
  return value;
}

/**
 * Creates the fal queue client. Nothing is read or sent until a method is called; the
 * key is resolved when the first authenticated request is built.
 */
export function createFalClient(options: FalClientOptions = {}): FalClient {
  const baseUrls = baseUrlsOf(options);
  const policies: RetryPolicies = mergeRetryPolicies(options.retry);
  const getKey = keyGetter(options.credentials, options.settings, 'the client credentials');
  let lastKey: string | undefined;
  const maxStatusBytes = positiveLimit(
    options.maxStatusBytes,
    DEFAULT_MAX_STATUS_BYTES,
    'maxStatusBytes',
  );
  const maxResultBytes = positiveLimit(
    options.maxResultBytes,
    DEFAULT_MAX_RESULT_BYTES,
    'maxResultBytes',
  );
  const uploadIdleTimeoutMs = positiveLimit(
    options.uploadIdleTimeoutMs,
    DEFAULT_UPLOAD_IDLE_TIMEOUT_MS,
    'uploadIdleTimeoutMs',
  );
  const ctx: HttpContext = {
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    getKey: async () => {
      lastKey = await getKey();
      return lastKey;
    },
    userAgent: options.userAgent ?? falaiUserAgent(),
    defaultTimeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options._internal?.sleep ? { sleep: options._internal.sleep } : {}),
    ...(options._internal?.random ? { random: options._internal.random } : {}),
  };
  const callOptions = (call: CallOptions = {}) => ({
    ...(call.signal ? { signal: call.signal } : {}),
    ...(call.timeoutMs !== undefined ? { timeoutMs: call.timeoutMs } : {}),
  });
  // Every path segment is encoded: the endpoint's segments are already limited to URL-safe
  // characters, and the request id to fal's alphabet (no `/`, no `..`).
  const requestBase = (endpointId: string, requestId: string) =>
    `${baseUrls.queue}/${queueBasePath(endpointId).split('/').map(encodeURIComponent).join('/')}/requests/${encodeURIComponent(checkRequestId(requestId))}`;
  const statusBytesHint = 'Raise maxStatusBytes if fal really sends answers this large.';

  const client: FalClient = {
    baseUrls,

    async submit(endpointId, input, submitOptions = {}): Promise<SubmitResult> {
      const id = formatEndpointId(parseEndpointId(endpointId));
      const response = await httpCall(ctx, {
        operation: 'submit',
        method: 'POST',
        url: `${baseUrls.queue}/${id.split('/').map(encodeURIComponent).join('/')}${webhookQuery(submitOptions.webhookUrl)}`,
        headers: submitHeaders(submitOptions),
        json: input ?? {},
        auth: true,
        policy: policies.submit,
        endpointId: id,
        maxBodyBytes: maxStatusBytes,
        maxBodyHint: statusBytesHint,
        ...callOptions(submitOptions),
      });
      const data = response.data;
      const rawId = (data as Record<string, unknown> | undefined)?.request_id;
      if (rawId === undefined || rawId === null || rawId === '')
        throw new ApiError(
          `fal accepted the submit for ${id} but sent no request_id (HTTP ${response.status}); check your fal dashboard before retrying.`,
          { status: response.status, detail: data },
        );
      const requestId = checkServerRequestId(rawId, {
        what: `the submit for ${id}`,
        status: response.status,
      });
      const base = requestBase(id, requestId);
      const position = (data as Record<string, unknown>).queue_position;
      const gateway = str(data, 'gateway_request_id');
      return {
        requestId,
        endpointId: id,
        statusUrl: sameOrigin(str(data, 'status_url'), baseUrls.queue, `${base}/status`),
        responseUrl: sameOrigin(str(data, 'response_url'), baseUrls.queue, base),
        cancelUrl: sameOrigin(str(data, 'cancel_url'), baseUrls.queue, `${base}/cancel`),
        queuePosition:
          typeof position === 'number' && Number.isSafeInteger(position) && position >= 0
            ? position
            : 0,
        ...(gateway && isValidRequestId(gateway) ? { gatewayRequestId: gateway } : {}),
        attempts: response.attempts,
      };
    },

    async status(endpointId, requestId, statusOptions = {}): Promise<QueueStatus> {
      const response = await httpCall(ctx, {
        operation: 'status',
        method: 'GET',
        url: `${requestBase(endpointId, requestId)}/status?logs=${statusOptions.logs ? 1 : 0}`,
        auth: true,
        policy: policies.status,
        endpointId,
        requestId,
        maxBodyBytes: maxStatusBytes,
        maxBodyHint: statusBytesHint,
        ...callOptions(statusOptions),
      });
      return normaliseStatus(response.data, { endpointId, requestId });
    },

    streamStatus(endpointId, requestId, streamOptions = {}) {
      const url = `${requestBase(endpointId, requestId)}/status/stream?logs=${streamOptions.logs ? 1 : 0}`;
      return streamStatusEvents(ctx, {
        url,
        policy: policies.status,
        endpointId,
        requestId,
        idleTimeoutMs: streamOptions.idleTimeoutMs ?? 45_000,
        maxEventBytes: maxStatusBytes,
        ...callOptions(streamOptions),
      });
    },

    async result(endpointId, requestId, resultOptions: ResultOptions = {}) {
      const id = checkRequestId(requestId);
      const context = { endpointId, requestId: id };
      const response = await httpCall(ctx, {
        operation: 'result',
        method: 'GET',
        url: requestBase(endpointId, id),
        auth: true,
        policy: policies.result,
        endpointId,
        requestId: id,
        maxBodyBytes: maxResultBytes,
        maxBodyHint:
          'Raise maxResultBytes to read it; the request stays pending until then (outputs sent inline as data URIs make results this large).',
        // 400 and 404 are settled below with a status call. Other errors that are the
        // request's stored outcome come back as data; everything else (auth, exhausted
        // retries) is thrown by the HTTP layer.
        accept: (answer) =>
          answer.status === 400 ||
          answer.status === 404 ||
          (![401, 403, 429].includes(answer.status) &&
            (isStoredResultError(answer) || [422, 499].includes(answer.status))),
        isFinal: isStoredResultError,
        ...callOptions(resultOptions),
      });
      const redact = (text: string) => redactKey(text, lastKey);
      if (response.status === 400 || response.status === 404) {
        // fal's wording decides nothing (#5): only the status call says whether it is over.
        let status: QueueStatus;
        try {
          status = await client.status(endpointId, id, callOptions(resultOptions));
        } catch (error) {
          const gone =
            response.status === 404 && error instanceof ApiError && error.code === 'NOT_FOUND';
          if (gone && resultOptions.knownRequest) return expiredOutcome(context);
          if (gone) throw responseToError(response, { operation: 'result', ...context, redact });
          throw error;
        }
        if (status.state !== 'completed') throw stillRunningError(status, response, context);
        if (response.status === 404) return expiredOutcome(context);
      }
      return outcomeFromResult(response, { ...context, redact });
    },

    async cancel(endpointId, requestId, cancelOptions = {}): Promise<CancelResult> {
      // Codes unconfirmed (§6): 202 CANCELLATION_REQUESTED, 400 ALREADY_COMPLETED,
      // 404 NOT_FOUND, 200 OK; we read the body's `status` first and the code second.
      const response = await httpCall(ctx, {
        operation: 'cancel',
        method: 'PUT',
        url: `${requestBase(endpointId, requestId)}/cancel`,
        auth: true,
        policy: policies.cancel,
        endpointId,
        requestId,
        expect: 'json-or-empty',
        maxBodyBytes: maxStatusBytes,
        maxBodyHint: statusBytesHint,
        accept: (answer) =>
          (answer.status === 400 || answer.status === 404) &&
          ['ALREADY_COMPLETED', 'NOT_FOUND'].includes(str(answer.data, 'status') ?? ''),
        ...callOptions(cancelOptions),
      });
      const said = str(response.data, 'status');
      if (said === 'CANCELLATION_REQUESTED') return { outcome: 'cancellation-requested' };
      if (said === 'ALREADY_COMPLETED') return { outcome: 'already-completed' };
      if (said === 'NOT_FOUND') return { outcome: 'not-found' };
      if (said === 'OK') return { outcome: 'ok' };
      return { outcome: response.status === 202 ? 'cancellation-requested' : 'ok' };
    },

    wait(endpointId, requestId, waitOptions = {}) {
      checkRequestId(requestId);
      queueBasePath(endpointId);
      return waitForRequest(
        {
          status: (e, r, o) => client.status(e, r, o),
          stream: (e, r, o) =>
            streamStatusEvents(ctx, {
              url: `${requestBase(e, r)}/status/stream?logs=${o.logs ? 1 : 0}`,
              // One quick attempt: wait falls back to polling rather than retrying the stream.
              policy: { ...policies.status, maxRetries: 0 },
              endpointId: e,
              requestId: r,
              idleTimeoutMs: o.idleTimeoutMs ?? 45_000,
              maxEventBytes: maxStatusBytes,
              ...(o.signal ? { signal: o.signal } : {}),
            }),
          result: (e, r, o) => client.result(e, r, o),
        },
        endpointId,
        requestId,
        waitOptions,
      );
    },

    upload(source, uploadOptions = {}) {
      return uploadFile(ctx, baseUrls.rest, policies.upload, source, {
        ...uploadOptions,
        idleTimeoutMs:
          uploadOptions.idleTimeoutMs ?? uploadOptions.timeoutMs ?? uploadIdleTimeoutMs,
        maxAnswerBytes: maxStatusBytes,
      });
    },
  };
  return client;
}
