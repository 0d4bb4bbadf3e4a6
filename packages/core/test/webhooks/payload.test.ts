import { describe, expect, it } from 'vitest';
import { FalaiError, InputError, QueueError } from '../../src/index.js';
import { finalisePatch, parseWebhookPayload, toRequestOutcome } from '../../src/internal.js';

function failedError(json: unknown): FalaiError {
  const { outcome } = parseWebhookPayload(json);
  if (outcome.state !== 'failed') throw new Error(`expected failed, got ${outcome.state}`);
  return outcome.error;
}

describe('parseWebhookPayload', () => {
  it('normalises OK to a completed outcome with the output as is', () => {
    const payload = { images: [{ url: 'https://fal.media/a.png', content_type: 'image/png' }] };
    expect(
      parseWebhookPayload({ request_id: 'r1', gateway_request_id: 'g1', status: 'OK', payload }),
    ).toEqual({
      requestId: 'r1',
      gatewayRequestId: 'g1',
      outcome: { state: 'completed', requestId: 'r1', output: payload },
    });
  });

  it('turns a 422 into an InputError with issues, as result() would', () => {
    const error = failedError({
      request_id: 'r2',
      status: 'ERROR',
      error: 'Invalid status code: 422',
      payload: {
        detail: [
          { loc: ['body', 'image_urls', 0], msg: 'Image too large', type: 'image_too_large' },
          { loc: ['body', 'prompt'], msg: 'field required', type: 'missing' },
        ],
      },
    });
    expect(error).toBeInstanceOf(InputError);
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.message).toContain('image_urls.0: Image too large');
    expect((error as InputError).issues).toEqual([
      { path: ['image_urls', 0], message: 'Image too large', kind: 'image_too_large' },
      { path: ['prompt'], message: 'field required', kind: 'missing' },
    ]);
    expect((error as InputError).requestId).toBe('r2');
    expect(error.toJSON().details).toMatchObject({ requestId: 'r2', status: 422 });
  });

  it('turns a 422 with a string detail into one issue', () => {
    const error = failedError({
      request_id: 'r2',
      status: 'ERROR',
      error: 'Invalid status code: 422',
      payload: { detail: 'prompt is too long' },
    });
    // The same issue the result call's 422 gives when polling.
    expect((error as InputError).issues).toEqual([
      { path: [], message: 'prompt is too long', kind: 'value_error' },
    ]);
  });

  it('maps other errors to REQUEST_FAILED keeping error_type, and timeouts to REQUEST_TIMEOUT', () => {
    const error = failedError({
      request_id: 'r3',
      status: 'ERROR',
      error: 'Invalid status code: 503',
      payload: { detail: 'Runner disconnected', error_type: 'runner_disconnected' },
    });
    expect(error).toBeInstanceOf(QueueError);
    expect(error.toJSON()).toEqual({
      code: 'REQUEST_FAILED',
      message: 'The request failed on fal: Invalid status code: 503: Runner disconnected.',
      details: {
        requestId: 'r3',
        status: 503,
        errorType: 'runner_disconnected',
        detail: 'Runner disconnected',
      },
    });
    const timeout = failedError({
      request_id: 'r4',
      status: 'ERROR',
      error: 'Invalid status code: 504',
      payload: { detail: 'Timed out', error_type: 'startup_timeout' },
    });
    expect(timeout.code).toBe('REQUEST_TIMEOUT');
  });

  it('reports client_cancelled and client_disconnected errors as the cancelled state', () => {
    for (const errorType of ['client_cancelled', 'client_disconnected']) {
      expect(
        parseWebhookPayload({
          request_id: 'r5',
          status: 'ERROR',
          error: 'Invalid status code: 499',
          payload: { detail: 'cancelled', error_type: errorType },
        }).outcome,
      ).toEqual({ state: 'cancelled', requestId: 'r5' });
    }
  });

  it('gives back the queue client outcome and the same store patch as polling', () => {
    const ok = parseWebhookPayload({ request_id: 'r7', status: 'OK', payload: { a: 1 } });
    expect(toRequestOutcome(ok, 'fal-ai/x')).toEqual({
      state: 'completed',
      requestId: 'r7',
      endpointId: 'fal-ai/x',
      output: { a: 1 },
    });
    expect(finalisePatch(ok)).toEqual({
      status: 'completed',
      result: { a: 1 },
      error: null,
      queuePosition: null,
    });
    const cancelled = parseWebhookPayload({
      request_id: 'r8',
      status: 'ERROR',
      error: 'Invalid status code: 499',
      payload: { detail: 'cancelled', error_type: 'client_cancelled' },
    });
    expect(finalisePatch(cancelled)).toMatchObject({
      status: 'cancelled',
      error: { code: 'REQUEST_CANCELLED' },
    });
    const failed = parseWebhookPayload({
      request_id: 'r9',
      status: 'ERROR',
      error: 'Invalid status code: 500',
      payload: { detail: 'boom' },
    });
    expect(finalisePatch(failed)).toMatchObject({
      status: 'failed',
      error: { code: 'REQUEST_FAILED', details: { status: 500, detail: 'boom' } },
    });
  });

  it('treats OK with a null payload and payload_error as completed without payload, not final', () => {
    const delivery = parseWebhookPayload({
      request_id: 'r6',
      status: 'OK',
      payload: null,
      payload_error: 'Response payload is too large',
    });
    expect(delivery.outcome).toEqual({
      state: 'completed-without-payload',
      requestId: 'r6',
      payloadError: 'Response payload is too large',
    });
    // No final outcome and no finalising patch: the result endpoint still has the output.
    expect(toRequestOutcome(delivery, 'fal-ai/x')).toBeUndefined();
    expect(finalisePatch(delivery)).toBeUndefined();
    // An ERROR delivery stays a failure even when fal also reports a payload_error.
    const failed = failedError({
      request_id: 'r6b',
      status: 'ERROR',
      error: 'Invalid status code: 500',
      payload: null,
      payload_error: 'Response payload is too large',
    });
    expect(failed.code).toBe('REQUEST_FAILED');
  });

  it('rejects bodies that are not fal deliveries with WEBHOOK_INVALID', () => {
    for (const bad of [null, [], 'text', { status: 'OK' }, { request_id: 'r', status: 'DONE' }]) {
      let caught: unknown;
      try {
        parseWebhookPayload(bad);
      } catch (error) {
        caught = error;
      }
      expect(FalaiError.isInstance(caught)).toBe(true);
      expect((caught as FalaiError).code).toBe('WEBHOOK_INVALID');
    }
  });
});
