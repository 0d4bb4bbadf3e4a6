import { describe, expect, it } from 'vitest';
import {
  ApiError,
  AuthError,
  InputError,
  QueueError,
  RateLimitError,
} from '../../src/errors/index.js';
import { parseJsonExact } from '../../src/json/index.js';
import {
  DEFAULT_POLL_POLICY,
  DEFAULT_RETRY_POLICIES,
  isRetryableNetworkError,
  isRetryableStatus,
  isValidRequestId,
  mergeRetryPolicies,
  networkErrorCode,
  nextPollDelay,
  nextRetryDelay,
  normaliseStatus,
  outcomeFromResult,
  parseEndpointId,
  parseRetryAfter,
  queueBasePath,
  responseToError,
  retryDelay,
} from '../../src/queue/index.js';

const headers = (init: Record<string, string> = {}) => new Headers(init);

describe('endpoint ids and the base-path rule', () => {
  it.each([
    ['fal-ai/nano-banana-pro', 'fal-ai/nano-banana-pro'],
    ['fal-ai/nano-banana-pro/edit', 'fal-ai/nano-banana-pro'],
    ['fal-ai/flux/dev/image-to-image', 'fal-ai/flux'],
    ['fal-ai/kling-video/o3/pro/video-to-video/edit', 'fal-ai/kling-video'],
    ['workflows/acme/flow/x', 'workflows/acme/flow'],
    ['comfy/acme/graph', 'comfy/acme/graph'],
    ['12345-my-app', '12345/my-app'],
  ])('%s → %s', (id, base) => {
    expect(queueBasePath(id)).toBe(base);
  });

  it('parses owner, alias, path and namespace', () => {
    expect(parseEndpointId('fal-ai/flux/dev/image-to-image')).toEqual({
      owner: 'fal-ai',
      alias: 'flux',
      path: 'dev/image-to-image',
    });
    expect(parseEndpointId('workflows/acme/flow/x')).toEqual({
      namespace: 'workflows',
      owner: 'acme',
      alias: 'flow',
      path: 'x',
    });
    expect(parseEndpointId('fal-ai/flux')).toEqual({ owner: 'fal-ai', alias: 'flux' });
  });

  it.each([
    '',
    'flux',
    'fal-ai//flux',
    'workflows/acme',
    'https://queue.fal.run/fal-ai/flux',
    'fal-ai/../x',
    'fal ai/flux',
  ])('rejects %j with an InputError', (id) => {
    expect(() => parseEndpointId(id)).toThrow(InputError);
  });
});

describe('retry policies', () => {
  const policy = DEFAULT_RETRY_POLICIES.status;
  it('grows exponentially, capped, with bounded jitter', () => {
    expect(retryDelay(policy, 0, () => 0.5)).toBe(500);
    expect(retryDelay(policy, 1, () => 0.5)).toBe(1000);
    expect(retryDelay(policy, 2, () => 0.5)).toBe(2000);
    expect(retryDelay(policy, 10, () => 0.5)).toBe(policy.maxDelayMs);
    expect(retryDelay(policy, 0, () => 0)).toBe(375);
    expect(retryDelay(policy, 0, () => 1)).toBe(625);
  });
  it('honours Retry-After and stops after maxRetries or an excessive Retry-After', () => {
    expect(nextRetryDelay(policy, 0, 2000)).toBe(2000);
    expect(nextRetryDelay(policy, policy.maxRetries, undefined)).toBeUndefined();
    expect(nextRetryDelay(policy, 0, policy.maxRetryAfterMs + 1)).toBeUndefined();
  });
  it('parses Retry-After seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.25')).toBe(250);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('garbage')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
  it('retries submit only where nothing was enqueued (fal’s ingress rule)', () => {
    const submit = DEFAULT_RETRY_POLICIES.submit;
    expect(submit.statuses).toEqual([429]);
    expect(submit.statusesWithoutRequestId).toEqual([502, 503, 504]);
    for (const status of [502, 503, 504]) {
      expect(isRetryableStatus(submit, status, false)).toBe(true);
      expect(isRetryableStatus(submit, status, true)).toBe(false);
    }
    expect(isRetryableStatus(submit, 429, true)).toBe(true);
    expect(isRetryableStatus(submit, 500, false)).toBe(false);
    expect(isRetryableStatus(DEFAULT_RETRY_POLICIES.status, 503, true)).toBe(true);
    expect(DEFAULT_RETRY_POLICIES.upload.retryStalls).toBe(true);
    expect(DEFAULT_RETRY_POLICIES.submit.retryStalls).toBeUndefined();
    expect(isRetryableNetworkError(submit, 'ECONNREFUSED')).toBe(true);
    expect(isRetryableNetworkError(submit, 'UND_ERR_SOCKET')).toBe(false);
    expect(isRetryableNetworkError(submit, 'ECONNRESET')).toBe(false);
    expect(isRetryableNetworkError(submit, undefined)).toBe(false);
    expect(isRetryableNetworkError(DEFAULT_RETRY_POLICIES.status, 'ECONNRESET')).toBe(true);
    expect(DEFAULT_RETRY_POLICIES.status.statuses).toEqual([429, 500, 502, 503, 504]);
  });
  it('merges overrides per kind', () => {
    const merged = mergeRetryPolicies({ status: { maxRetries: 1 } });
    expect(merged.status.maxRetries).toBe(1);
    expect(merged.status.baseDelayMs).toBe(DEFAULT_RETRY_POLICIES.status.baseDelayMs);
    expect(merged.submit).toEqual(DEFAULT_RETRY_POLICIES.submit);
  });
  it('finds error codes through causes and AggregateErrors', () => {
    const inner = Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
    const wrapped = new TypeError('fetch failed', { cause: new AggregateError([inner]) });
    expect(networkErrorCode(wrapped)).toBe('ECONNREFUSED');
    expect(networkErrorCode(new Error('x'))).toBeUndefined();
  });
});

describe('poll policy', () => {
  it('starts quick, grows ×1.5 to a cap, and shortens after a state change', () => {
    const mid = () => 0.5;
    const first = nextPollDelay(DEFAULT_POLL_POLICY, { changed: false }, mid);
    expect(first).toBe(DEFAULT_POLL_POLICY.initialDelayMs);
    const second = nextPollDelay(
      DEFAULT_POLL_POLICY,
      { previousDelayMs: first, changed: false },
      mid,
    );
    expect(second).toBe(first * 1.5);
    expect(
      nextPollDelay(DEFAULT_POLL_POLICY, { previousDelayMs: 10_000, changed: false }, mid),
    ).toBe(DEFAULT_POLL_POLICY.maxDelayMs);
    expect(nextPollDelay(DEFAULT_POLL_POLICY, { previousDelayMs: 4000, changed: true }, mid)).toBe(
      DEFAULT_POLL_POLICY.afterChangeDelayMs,
    );
  });
  it('keeps a 3 s job within a handful of polls', () => {
    let elapsed = 0;
    let polls = 0;
    let previous: number | undefined;
    while (elapsed < 3000) {
      previous = nextPollDelay(
        DEFAULT_POLL_POLICY,
        previous === undefined ? { changed: false } : { previousDelayMs: previous, changed: false },
        () => 0.5,
      );
      elapsed += previous;
      polls++;
    }
    expect(polls).toBeLessThanOrEqual(8);
  });
});

describe('responseToError', () => {
  const ctx = { operation: 'status', endpointId: 'fal-ai/flux', requestId: 'r1' };
  it('maps 401/403 to AUTH_REJECTED with a fix', () => {
    const e = responseToError(
      { status: 401, headers: headers(), data: { detail: 'No user found for Key ID and Secret' } },
      ctx,
    );
    expect(e).toBeInstanceOf(AuthError);
    expect(e.code).toBe('AUTH_REJECTED');
    expect(e.message).toContain('No user found');
    expect(e.message).toContain('fal.ai/dashboard/keys');
    const locked = responseToError(
      {
        status: 403,
        headers: headers(),
        data: { detail: 'User is locked. Reason: Exhausted balance.' },
      },
      ctx,
    );
    expect(locked.message).toBe(
      'fal rejected the API key (HTTP 403) on status for fal-ai/flux (request r1): User is ' +
        'locked. Reason: Exhausted balance. Top up your balance at https://fal.ai/dashboard/billing.',
    );
    expect((locked as AuthError).status).toBe(403);
  });
  it('says "top up" once when fal already does, and ends every sentence with one period', () => {
    const locked = responseToError(
      {
        status: 403,
        headers: headers(),
        data: {
          detail:
            'User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.',
        },
      },
      ctx,
    );
    expect(locked.message).toBe(
      'fal rejected the API key (HTTP 403) on status for fal-ai/flux (request r1): User is ' +
        'locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.',
    );
    const unknown = responseToError(
      { status: 401, headers: headers(), data: { detail: 'No user found for Key ID and Secret.' } },
      ctx,
    );
    expect(unknown.message).toBe(
      'fal rejected the API key (HTTP 401) on status for fal-ai/flux (request r1): No user found ' +
        'for Key ID and Secret. Check the key (falai check-key) or create a new one at ' +
        'https://fal.ai/dashboard/keys.',
    );
  });
  it('maps 404 to NOT_FOUND', () => {
    const e = responseToError(
      { status: 404, headers: headers(), data: { status: 'NOT_FOUND' } },
      ctx,
    );
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe('NOT_FOUND');
  });
  it('maps 422 to InputError with paths minus body', () => {
    const e = responseToError(
      {
        status: 422,
        headers: headers({ 'x-fal-request-id': 'r9' }),
        data: { detail: [{ loc: ['body', 'image_urls', 2], msg: 'bad url', type: 'value_error' }] },
      },
      ctx,
    ) as InputError;
    expect(e).toBeInstanceOf(InputError);
    expect(e.issues).toEqual([
      { path: ['image_urls', 2], message: 'bad url', kind: 'value_error' },
    ]);
    expect(e.requestId).toBe('r9');
    const plain = responseToError(
      { status: 422, headers: headers(), data: { detail: 'nope' } },
      ctx,
    ) as InputError;
    expect(plain.issues).toEqual([{ path: [], message: 'nope', kind: 'value_error' }]);
  });
  it('maps 429 to RateLimitError with retryAfterMs', () => {
    const e = responseToError(
      { status: 429, headers: headers({ 'retry-after': '7' }), data: {} },
      ctx,
    ) as RateLimitError;
    expect(e).toBeInstanceOf(RateLimitError);
    expect(e.retryAfterMs).toBe(7000);
    expect(e.code).toBe('RATE_LIMITED');
  });
  it('maps other statuses to ApiError with detail, errorType and retryable', () => {
    const e = responseToError(
      {
        status: 503,
        headers: headers({ 'x-fal-error-type': 'runner_disconnected' }),
        data: { detail: 'Runner went away' },
      },
      ctx,
    ) as ApiError;
    expect(e).toMatchObject({
      status: 503,
      errorType: 'runner_disconnected',
      retryable: true,
      code: 'API_ERROR',
    });
    const user = responseToError(
      { status: 504, headers: headers({ 'x-fal-request-timeout-type': 'user' }), data: 'timeout' },
      ctx,
    ) as ApiError;
    expect(user.retryable).toBe(false);
  });
  it('redacts the key from server text', () => {
    const key = 'abcd1234-id:supersecretvalue';
    const e = responseToError(
      { status: 500, headers: headers(), data: { detail: `bad header Key ${key}` } },
      { ...ctx, redact: (text) => text.split(key).join('[key]') },
    );
    expect(JSON.stringify(e.toJSON())).not.toContain('supersecretvalue');
    expect(e.message).not.toContain('supersecretvalue');
  });
});

describe('status and outcome normalisation', () => {
  it('maps wire states and fields', () => {
    const s = normaliseStatus({
      status: 'IN_PROGRESS',
      logs: [
        { message: 'step 1', level: 'INFO', source: 'USER', timestamp: '2026-01-01T00:00:00Z' },
      ],
    });
    expect(s.state).toBe('running');
    expect(s.logs).toEqual([
      { message: 'step 1', level: 'INFO', source: 'USER', timestamp: '2026-01-01T00:00:00Z' },
    ]);
    expect(normaliseStatus({ status: 'IN_QUEUE', queue_position: 3, logs: null })).toMatchObject({
      state: 'queued',
      queuePosition: 3,
      logs: [],
    });
    expect(
      normaliseStatus({
        status: 'COMPLETED',
        error: 'boom',
        error_type: 'runner_disconnected',
        metrics: { inference_time: 1.5 },
      }),
    ).toMatchObject({
      state: 'completed',
      error: 'boom',
      errorType: 'runner_disconnected',
      metrics: { inferenceTime: 1.5 },
    });
    expect(() => normaliseStatus({ status: 'FAILED' })).toThrow(ApiError);
  });
  it('turns result answers into one terminal state', () => {
    const ids = { endpointId: 'fal-ai/flux/dev', requestId: 'r1' };
    expect(
      outcomeFromResult(
        { status: 200, statusText: 'OK', headers: headers(), data: { images: [] } },
        ids,
      ),
    ).toEqual({
      state: 'completed',
      ...ids,
      output: { images: [] },
    });
    const invalid = outcomeFromResult(
      {
        status: 422,
        statusText: '',
        headers: headers(),
        data: { detail: [{ loc: ['body', 'prompt'], msg: 'field required', type: 'missing' }] },
      },
      ids,
    );
    expect(invalid.state).toBe('failed');
    expect(invalid.state === 'failed' && invalid.error).toBeInstanceOf(InputError);
    const failed = outcomeFromResult(
      {
        status: 503,
        statusText: '',
        headers: headers({ 'x-fal-error-type': 'runner_disconnected' }),
        data: { detail: 'gone', error_type: 'runner_disconnected' },
      },
      ids,
    );
    expect(failed.state === 'failed' && failed.error).toBeInstanceOf(QueueError);
    expect(failed.state === 'failed' && failed.error.code).toBe('REQUEST_FAILED');
    expect(failed.state === 'failed' && (failed.error.cause as ApiError).status).toBe(503);
    const timeout = outcomeFromResult(
      {
        status: 504,
        statusText: '',
        headers: headers({ 'x-fal-request-timeout-type': 'user' }),
        data: { detail: 'timeout', error_type: 'request_timeout' },
      },
      ids,
    );
    expect(timeout.state === 'failed' && timeout.error.code).toBe('REQUEST_TIMEOUT');
    expect(
      outcomeFromResult(
        {
          status: 499,
          statusText: '',
          headers: headers(),
          data: { detail: 'cancelled', error_type: 'client_cancelled' },
        },
        ids,
      ).state,
    ).toBe('cancelled');
  });
});

describe('request ids and answers are untrusted text', () => {
  it('accepts fal-style ids and refuses anything that could change a URL or a file name', () => {
    for (const id of ['80e732af-660e-45cd-bd63-580e4f2a94cc', 'abc', 'req_1-X', 'a'.repeat(128)])
      expect(isValidRequestId(id)).toBe(true);
    for (const id of [
      '',
      '.',
      '..',
      '-x',
      '_x',
      'a/b',
      'a\\b',
      'a%2Fb',
      'a b',
      'a?b',
      'a#b',
      'a.b',
      'é',
      'a'.repeat(129),
      42,
    ])
      expect(isValidRequestId(id)).toBe(false);
  });

  it('parses answers exactly: integers beyond 2^53 become bigints, everything else as JSON.parse', () => {
    expect(parseJsonExact('{"seed":17454220438242315174,"n":12,"f":0.1}')).toEqual({
      seed: 17454220438242315174n,
      n: 12,
      f: 0.1,
    });
    expect(parseJsonExact('[9007199254740993, 9007199254740991, 1234567890123456.5]')).toEqual([
      9007199254740993n,
      9007199254740991,
      1234567890123456.5,
    ]);
    const plain = '{"images":[{"url":"data:image/png;base64,AAAA","width":1024}],"seed":42}';
    expect(parseJsonExact(plain)).toEqual(JSON.parse(plain));
    expect(() => parseJsonExact('<html>')).toThrow(SyntaxError);
  });
});
