import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import type { Emulator } from '@falai/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveCredentials } from '../../src/auth/index.js';
import {
  AbortedError,
  ApiError,
  AuthError,
  FalaiError,
  NetworkError,
  RateLimitError,
} from '../../src/errors/index.js';
import { createFalClient, type FalClient } from '../../src/queue/index.js';
import {
  clientFor,
  GOOD_SECRET,
  LOCKED_KEY,
  logged,
  startTestEmulator,
  until,
} from './emulator-harness.js';

let emulator: Emulator;
let client: FalClient;

beforeAll(async () => {
  emulator = await startTestEmulator();
  client = clientFor(emulator);
  // The strict emulator answers 404 at submit for ids it does not know, as fal does: the
  // made-up endpoints these tests submit to are declared here, with the default behaviour.
  for (const id of [
    'test/ambiguous',
    'test/app-answered',
    'test/limited',
    'test/refused',
    'test/submit-500',
  ]) {
    emulator.setModel(id, {});
  }
});
afterEach(() => {
  emulator.clearFaults();
});
afterAll(async () => {
  await emulator.close();
});

const NO_RETRY = {
  submit: { maxRetries: 0 },
  status: { maxRetries: 0 },
  result: { maxRetries: 0 },
  cancel: { maxRetries: 0 },
};

async function caught(promise: Promise<unknown>): Promise<FalaiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(FalaiError.isInstance(error)).toBe(true);
  return error as FalaiError;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('error classes', () => {
  it('401 for an unknown key → AUTH_REJECTED', async () => {
    const stranger = clientFor(emulator, { credentials: 'stranger-id:stranger-secret-1234' });
    const error = await caught(stranger.submit('fal-ai/flux/dev', {}));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('AUTH_REJECTED');
    expect((error as AuthError).status).toBe(401);
    expect(error.message).toContain('No user found');
  });

  it('403 for a locked account → AUTH_REJECTED with the billing fix', async () => {
    const locked = clientFor(emulator, { credentials: LOCKED_KEY });
    const error = await caught(locked.submit('fal-ai/flux/dev', {}));
    expect(error.code).toBe('AUTH_REJECTED');
    expect((error as AuthError).status).toBe(403);
    // The emulator answers with fal's own text, which already says how to top up.
    expect(error.message).toBe(
      'fal rejected the API key (HTTP 403) on submit for fal-ai/flux/dev: User is locked. ' +
        'Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.',
    );
  });

  it('404 for an unknown request → NOT_FOUND', async () => {
    const error = await caught(
      client.status('fal-ai/flux', '00000000-0000-4000-8000-00000000beef'),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('NOT_FOUND');
    expect((error as ApiError).status).toBe(404);
    expect(error.message).toContain('Check the endpoint id and the request id');
    expect(error.message).toContain('results expire an hour after completion');
  });

  it('404 at submit → NOT_FOUND that says the endpoint id is unknown, not that a result expired', async () => {
    const error = await caught(client.submit('acme/no-such-model', { prompt: 'x' }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('NOT_FOUND');
    expect((error as ApiError).status).toBe(404);
    expect((error as ApiError).retryable).toBe(false);
    expect(error.message).toMatch(
      /^fal found nothing \(HTTP 404\) on submit for acme\/no-such-model: .+\. The endpoint id acme\/no-such-model is unknown to fal: check its spelling \(owner\/alias\[\/path\]\) at https:\/\/fal\.ai\/models\.$/,
    );
    expect(error.message).not.toContain('expire');
    expect(error.message).not.toContain('request id');
  });

  it('429 → RateLimitError with retryAfterMs once retries are exhausted', async () => {
    const noRetry = clientFor(emulator, { retry: NO_RETRY });
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    emulator.inject({
      match: { kind: 'status' },
      action: { type: 'status', status: 429, retryAfterSeconds: 3 },
    });
    const error = await caught(noRetry.status('fal-ai/flux/dev', requestId));
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(3000);
  });

  it.each([500, 502, 503, 504])('%i → ApiError with status and detail', async (status) => {
    const noRetry = clientFor(emulator, { retry: NO_RETRY });
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    emulator.inject({
      match: { kind: 'status' },
      action: {
        type: 'status',
        status,
        body: { detail: `upstream ${status}`, error_type: 'internal_error' },
      },
      times: 1,
    });
    const error = (await caught(noRetry.status('fal-ai/flux/dev', requestId))) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('API_ERROR');
    expect(error.status).toBe(status);
    expect(error.detail).toBe(`upstream ${status}`);
    expect(error.errorType).toBe('internal_error');
    expect(error.retryable).toBe(true);
  });

  it('a 504 marked as a user timeout is not retried', async () => {
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    emulator.clearLog();
    emulator.inject({
      match: { kind: 'status' },
      action: { type: 'status', status: 504, headers: { 'x-fal-request-timeout-type': 'user' } },
      times: 5,
    });
    const error = (await caught(client.status('fal-ai/flux/dev', requestId))) as ApiError;
    expect(error.status).toBe(504);
    expect(error.retryable).toBe(false);
    expect(logged(emulator, 'status')).toHaveLength(1);
  });
});

describe('retries', () => {
  it('retries status on 5xx and succeeds', async () => {
    // A valid input: fal (and the emulator) validate fal-ai/flux/dev's input, so `{}` would
    // end in a 422 rather than a result.
    const { requestId } = await client.submit('fal-ai/flux/dev', { prompt: 'a lighthouse' });
    await until(() => emulator.job(requestId)?.status === 'COMPLETED');
    emulator.clearLog();
    emulator.inject({
      match: { kind: 'status' },
      action: { type: 'status', status: 503 },
      times: 1,
    });
    emulator.inject({
      match: { kind: 'status' },
      action: { type: 'status', status: 502 },
      times: 1,
    });
    const status = await client.status('fal-ai/flux/dev', requestId);
    expect(status.state).toBe('completed');
    expect(status.raw).toMatchObject({ status: 'COMPLETED', request_id: requestId });
    expect(logged(emulator, 'status').map((e) => e.status)).toEqual([503, 502, 200]);
  });

  it('retries status after a dropped connection', async () => {
    // A valid input: fal (and the emulator) validate fal-ai/flux/dev's input, so `{}` would
    // end in a 422 rather than a result.
    const { requestId } = await client.submit('fal-ai/flux/dev', { prompt: 'a lighthouse' });
    await until(() => emulator.job(requestId)?.status === 'COMPLETED');
    emulator.clearLog();
    emulator.inject({ match: { kind: 'status' }, action: { type: 'drop' }, times: 1 });
    const status = await client.status('fal-ai/flux/dev', requestId);
    expect(status.state).toBe('completed');
    expect(status.raw).toMatchObject({ status: 'COMPLETED', request_id: requestId });
    expect(logged(emulator, 'status').map((e) => e.status)).toEqual([0, 200]);
  });

  it('honours Retry-After over its own (tiny) backoff', async () => {
    // The clock is injected: the test asserts the wait the client asked for, not wall time.
    const waits: number[] = [];
    const tiny = clientFor(emulator, {
      retry: {
        status: { baseDelayMs: 1, maxDelayMs: 1, jitter: 0 },
        result: { baseDelayMs: 1, maxDelayMs: 1, jitter: 0 },
      },
      _internal: {
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
    });
    emulator.setModel('test/retry-after', { queueMs: 60_000, runMs: 10 });
    const { requestId } = await client.submit('test/retry-after', {});
    emulator.clearLog();
    emulator.inject({
      match: { kind: 'status' },
      action: { type: 'status', status: 429, retryAfterSeconds: 3 },
      times: 1,
    });
    emulator.inject({
      match: { kind: 'status' },
      action: { type: 'status', status: 503 },
      times: 1,
    });
    const status = await tiny.status('test/retry-after', requestId);
    expect(status.state).toBe('queued');
    expect(logged(emulator, 'status').map((e) => e.status)).toEqual([429, 503, 202]);
    // 3 s from the server's Retry-After, then the policy's own 1 ms backoff.
    expect(waits).toEqual([3000, 1]);
    await client.cancel('test/retry-after', requestId);
  });

  it('retries a result GET on a gateway 502 and cancel on 503', async () => {
    // A valid input: fal (and the emulator) validate fal-ai/flux/dev's input, so `{}` would
    // end in a 422 rather than a result.
    const { requestId } = await client.submit('fal-ai/flux/dev', { prompt: 'a lighthouse' });
    await until(() => emulator.job(requestId)?.status === 'COMPLETED');
    emulator.clearLog();
    emulator.inject({
      match: { kind: 'result' },
      action: { type: 'status', status: 502 },
      times: 1,
    });
    const outcome = await client.result('fal-ai/flux/dev', requestId);
    expect(outcome.state).toBe('completed');
    expect(logged(emulator, 'result').map((e) => e.status)).toEqual([502, 200]);
    emulator.inject({
      match: { kind: 'cancel' },
      action: { type: 'status', status: 503 },
      times: 1,
    });
    expect((await client.cancel('fal-ai/flux/dev', requestId)).outcome).toBe('already-completed');
    expect(logged(emulator, 'cancel').map((e) => e.status)).toEqual([503, 400]);
  });

  it('does NOT retry submit on a 500: the job may exist', async () => {
    emulator.clearLog();
    emulator.inject({
      match: { kind: 'submit' },
      action: { type: 'status', status: 500 },
      times: 1,
    });
    const error = (await caught(client.submit('test/submit-500', {}))) as ApiError;
    expect(error.status).toBe(500);
    expect(logged(emulator, 'submit')).toHaveLength(1);
  });

  it('does NOT retry submit when the connection drops after acceptance', async () => {
    emulator.clearLog();
    const jobsBefore = emulator.jobs().length;
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'drop-after-accept' }, times: 1 });
    const error = await caught(client.submit('test/ambiguous', {}));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain('may have been accepted');
    expect(logged(emulator, 'submit')).toHaveLength(1);
    // The emulator did enqueue it: a retry would have paid twice.
    expect(emulator.jobs().length).toBe(jobsBefore + 1);
  });

  it.each([
    ['429', { type: 'status' as const, status: 429, retryAfterSeconds: 0 }],
    ['502 from the ingress (no x-fal-request-id)', { type: 'status' as const, status: 502 }],
    ['503 from the ingress (no x-fal-request-id)', { type: 'status' as const, status: 503 }],
    ['504 from the ingress (no x-fal-request-id)', { type: 'status' as const, status: 504 }],
  ])(
    'retries submit on %s (refused before acceptance) and enqueues once',
    async (_name, action) => {
      emulator.clearLog();
      const jobsBefore = emulator.jobs().length;
      emulator.inject({ match: { kind: 'submit' }, action, times: 1 });
      const submitted = await client.submit('test/refused', {});
      expect(submitted.attempts).toBe(2);
      expect(logged(emulator, 'submit').map((e) => e.status)).toEqual([action.status, 200]);
      expect(emulator.jobs().length).toBe(jobsBefore + 1);
    },
  );

  it.each([502, 503, 504])(
    'does NOT retry a submit answered %i with x-fal-request-id: fal’s app answered, the job may exist',
    async (status) => {
      emulator.clearLog();
      emulator.inject({
        match: { kind: 'submit' },
        action: {
          type: 'status',
          status,
          headers: { 'x-fal-request-id': '11111111-2222-4333-8444-555555555555' },
        },
        times: 1,
      });
      const error = (await caught(client.submit('test/app-answered', {}))) as ApiError;
      expect(error.status).toBe(status);
      expect(error.retryable).toBe(false);
      expect(logged(emulator, 'submit')).toHaveLength(1);
    },
  );

  it('waits the Retry-After a 429 on submit asks for', async () => {
    const waits: number[] = [];
    const recorded = clientFor(emulator, {
      _internal: {
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
    });
    emulator.clearLog();
    emulator.inject({
      match: { kind: 'submit' },
      action: { type: 'status', status: 429, retryAfterSeconds: 7 },
      times: 2,
    });
    const submitted = await recorded.submit('test/limited', {});
    expect(submitted.attempts).toBe(3);
    expect(waits).toEqual([7000, 7000]);
  });

  it('retries submit on connection refused, and only the attempts that never left', async () => {
    const port = await freePort();
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const refused = createFalClient({
      credentials: 'some-id:some-secret-value',
      baseUrl: `http://127.0.0.1:${port}`,
      retry: { submit: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 } },
      fetch: counting,
    });
    const error = await caught(refused.submit('fal-ai/flux/dev', {}));
    expect(error).toBeInstanceOf(NetworkError);
    expect((error.details as { code?: string }).code).toBe('ECONNREFUSED');
    expect(calls).toBe(3);
  });
});

describe('abort and timeouts', () => {
  it('aborts an in-flight call through its AbortSignal', async () => {
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    emulator.clearLog();
    emulator.inject({ match: { kind: 'status' }, action: { type: 'delay', ms: 5000 }, times: 1 });
    const controller = new AbortController();
    const pending = client.status('fal-ai/flux/dev', requestId, { signal: controller.signal });
    await until(() => logged(emulator, 'status').length > 0);
    controller.abort();
    const error = await caught(pending);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.code).toBe('ABORTED');
  });

  it('does not send anything with an already-aborted signal', async () => {
    emulator.clearLog();
    const error = await caught(
      client.submit('fal-ai/flux/dev', {}, { signal: AbortSignal.abort() }),
    );
    expect(error.code).toBe('ABORTED');
    expect(logged(emulator, 'submit')).toHaveLength(0);
  });

  it('aborts a wait', async () => {
    emulator.setModel('test/abort-wait', { queueMs: 60_000, runMs: 10 });
    const { requestId } = await client.submit('test/abort-wait', {});
    const controller = new AbortController();
    const pending = client.wait('test/abort-wait', requestId, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    const error = await caught(pending);
    expect(error.code).toBe('ABORTED');
    await client.cancel('test/abort-wait', requestId);
  });

  it('times out a slow call (per-call timeout via a delay fault)', async () => {
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    emulator.inject({ match: { kind: 'status' }, action: { type: 'delay', ms: 3000 }, times: 1 });
    const error = await caught(client.status('fal-ai/flux/dev', requestId, { timeoutMs: 100 }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.code).toBe('TIMEOUT');
  });

  it('times out the final result fetch of a wait', async () => {
    const impatient = clientFor(emulator, { timeoutMs: 300 });
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    emulator.inject({ match: { kind: 'result' }, action: { type: 'delay', ms: 3000 }, times: 1 });
    const error = await caught(impatient.wait('fal-ai/flux/dev', requestId));
    expect(error.code).toBe('TIMEOUT');
    expect(logged(emulator, 'result', requestId)).toHaveLength(1);
  });

  it('gives up a wait after its overall timeout, saying how to resume', async () => {
    emulator.setModel('test/long', { queueMs: 60_000, runMs: 10 });
    const { requestId } = await client.submit('test/long', {});
    const error = await caught(client.wait('test/long', requestId, { timeoutMs: 150 }));
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain(`falai wait ${requestId}`);
    await client.cancel('test/long', requestId);
  });
});

describe('credentials at request time', () => {
  it('throws AUTH_MISSING when the request is built, sending nothing', async () => {
    emulator.clearLog();
    const keyless = createFalClient({
      baseUrl: emulator.url,
      credentials: async () =>
        (await resolveCredentials({ env: { HOME: '/nonexistent-home' } })).key,
    });
    expect(keyless.baseUrls.queue).toBe(emulator.url);
    const error = await caught(keyless.submit('fal-ai/flux/dev', {}));
    expect(error.code).toBe('AUTH_MISSING');
    expect(emulator.log).toHaveLength(0);
  });

  it('throws AUTH_INVALID for a key without a colon before any request', async () => {
    emulator.clearLog();
    const bad = clientFor(emulator, { credentials: 'thisisnotavalidkeyatall' });
    const error = await caught(bad.status('fal-ai/flux', 'abc'));
    expect(error.code).toBe('AUTH_INVALID');
    expect(error.message).not.toContain('thisisnotavalidkeyatall');
    expect(emulator.log).toHaveLength(0);
  });
});

describe('the key never leaks', () => {
  it('appears in no error message, JSON or inspection', async () => {
    const errors: unknown[] = [];
    const collect = (p: Promise<unknown>) => p.catch((e: unknown) => errors.push(e));
    const noRetry = clientFor(emulator, { retry: NO_RETRY, timeoutMs: 200 });
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    // The server echoes the key in its detail: it must be scrubbed.
    emulator.inject({
      match: { kind: 'status' },
      action: {
        type: 'status',
        status: 500,
        body: { detail: `bad key test-key-id-0001:${GOOD_SECRET}` },
      },
      times: 1,
    });
    await collect(noRetry.status('fal-ai/flux/dev', requestId));
    emulator.inject({
      match: { kind: 'status' },
      action: { type: 'status', status: 422, body: { detail: GOOD_SECRET } },
      times: 1,
    });
    await collect(noRetry.status('fal-ai/flux/dev', requestId));
    await collect(noRetry.status('fal-ai/flux/dev', '00000000-0000-4000-8000-00000000beef'));
    emulator.inject({ match: { kind: 'status' }, action: { type: 'delay', ms: 2000 }, times: 1 });
    await collect(noRetry.status('fal-ai/flux/dev', requestId));
    await collect(noRetry.submit('fal-ai/flux/dev', {}, { signal: AbortSignal.abort() }));
    const port = await freePort();
    await collect(
      clientFor(emulator, { baseUrl: `http://127.0.0.1:${port}`, retry: NO_RETRY }).submit(
        'fal-ai/x',
        {},
      ),
    );
    await collect(
      clientFor(emulator, { credentials: `wrong-id:${GOOD_SECRET}x` }).submit('fal-ai/x', {}),
    );
    emulator.inject({ match: { kind: 'submit' }, action: { type: 'drop-after-accept' }, times: 1 });
    await collect(client.submit('fal-ai/x', {}));
    expect(errors).toHaveLength(8);
    for (const error of errors) {
      expect(FalaiError.isInstance(error)).toBe(true);
      const e = error as FalaiError;
      for (const text of [
        e.message,
        JSON.stringify(e),
        JSON.stringify(e.toJSON()),
        inspect(e, { depth: 8 }),
      ]) {
        expect(text).not.toContain(GOOD_SECRET);
      }
    }
  });
});
