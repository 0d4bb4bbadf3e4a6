import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUTH, completion, get, json, post, setup, submit, until } from './helpers.js';

let ctx: Awaited<ReturnType<typeof setup>>;
beforeEach(async () => {
  ctx = await setup();
});
afterEach(async () => {
  await ctx.stop();
});

describe('submit', () => {
  it('answers 200 with the queue fields, gateway_request_id, owner/alias URLs and a sequential id', async () => {
    const { emulator } = ctx;
    const response = await post(`${emulator.url}/acme/flux/dev/image-to-image`, {
      prompt: 'x',
      image_url: 'http://127.0.0.1/x.png',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = await json(response);
    const id = '00000000-0000-4000-8000-000000000001';
    expect(response.headers.get('x-fal-request-id')).toBe(id);
    expect(body).toEqual({
      status: 'IN_QUEUE',
      request_id: id,
      response_url: `${emulator.url}/acme/flux/requests/${id}`,
      status_url: `${emulator.url}/acme/flux/requests/${id}/status`,
      cancel_url: `${emulator.url}/acme/flux/requests/${id}/cancel`,
      queue_position: 0,
      gateway_request_id: id,
    });
    const second = await submit(emulator, 'acme/painter', { prompt: 'y' });
    expect(second.request_id).toBe('00000000-0000-4000-8000-000000000002');
  });

  it('accepts namespaced ids and uses namespace/owner/alias as the base path', async () => {
    const { emulator } = ctx;
    const body = await submit(emulator, 'workflows/acme/flow/x', { prompt: 'p' });
    expect(body.status_url).toBe(
      `${emulator.url}/workflows/acme/flow/requests/${body.request_id}/status`,
    );
    await completion(emulator, body.request_id);
    const status = await get(body.status_url);
    expect(status.status).toBe(200);
  });

  it('does not validate input at submit and records the fal headers', async () => {
    const { emulator } = ctx;
    const body = await submit(
      emulator,
      'acme/painter',
      { wrong: true },
      {
        'x-fal-queue-priority': 'low',
        'x-fal-runner-hint': 'runner-7',
        'x-fal-object-lifecycle-preference': '{"expiration_duration_seconds":3600}',
        'x-fal-request-timeout': '30.0',
      },
      '?fal_webhook=http%3A%2F%2F127.0.0.1%3A9%2Fhook',
    );
    expect(body.status).toBe('IN_QUEUE');
    const job = emulator.job(body.request_id);
    expect(job).toMatchObject({
      endpointId: 'acme/painter',
      input: { wrong: true },
      priority: 'low',
      runnerHint: 'runner-7',
      lifecyclePreference: { expiration_duration_seconds: 3600 },
      startTimeoutSeconds: 30,
      webhookUrl: 'http://127.0.0.1:9/hook',
    });
  });

  it('[?] refuses a malformed x-fal-request-timeout with a clear 400', async () => {
    const response = await post(
      `${ctx.emulator.url}/acme/painter`,
      { prompt: 'x' },
      {
        'x-fal-request-timeout': 'soon',
      },
    );
    expect(response.status).toBe(400);
    expect((await json(response)).detail).toContain('x-fal-request-timeout');
  });
});

describe('status', () => {
  it('[?] answers 202 while queued/running and 200 once COMPLETED, under both path forms; logs [] with logs=0', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/flux/dev/image-to-image', { queueMs: 60_000 });
    const queued = await submit(emulator, 'acme/flux/dev/image-to-image', {});
    const short = await get(`${emulator.url}/acme/flux/requests/${queued.request_id}/status`);
    expect(short.status).toBe(202);
    const shortBody = await json(short);
    expect(shortBody).toMatchObject({ status: 'IN_QUEUE', queue_position: 0 });
    expect(shortBody.logs).toBeUndefined();
    const full = await get(
      `${emulator.url}/acme/flux/dev/image-to-image/requests/${queued.request_id}/status/?logs=true`,
    );
    expect(full.status).toBe(202);
    expect(full.headers.get('x-fal-request-id')).toBe(queued.request_id);

    const done = await submit(emulator, 'acme/painter', { prompt: 'p' });
    await completion(emulator, done.request_id);
    const final = await get(`${done.status_url}?logs=0`);
    expect(final.status).toBe(200);
    const body = await json(final);
    expect(body.status).toBe('COMPLETED');
    expect(body.logs).toEqual([]);
    expect(body.metrics).toEqual({ inference_time: 0.02 });
    expect(body.error).toBeUndefined();
  });

  it('shows IN_PROGRESS with logs only when asked', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', {
      runMs: 60_000,
      logs: [
        { message: 'one', atMs: 0 },
        { message: 'two', atMs: 50_000, level: 'WARN' },
      ],
    });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    await until(() => emulator.job(job.request_id)?.logs.length === 1, 'first log line');
    const withLogs = await json(await get(`${job.status_url}?logs=1`));
    expect(withLogs.status).toBe('IN_PROGRESS');
    expect(withLogs.logs).toEqual([
      { message: 'one', level: 'INFO', source: 'USER', timestamp: expect.any(String) },
    ]);
    const noLogs = await json(await get(`${job.status_url}?logs=false`));
    expect(noLogs.logs).toEqual([]);
  });

  it('answers 404 for an unknown id and for an id of another app', async () => {
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const unknown = await get(`${emulator.url}/acme/painter/requests/nope/status`);
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ status: 'NOT_FOUND' });
    const other = await get(`${emulator.url}/acme/flux/requests/${job.request_id}/status`);
    expect(other.status).toBe(404);
  });

  it('reports real queue positions under a concurrency limit and runs low priority last', async () => {
    await ctx.stop();
    ctx = await setup({ concurrency: 1, defaultLatency: { queueMs: 0, runMs: 60_000 } });
    const { emulator } = ctx;
    // Cancel must free the slot, so this app honours cancel signals.
    emulator.setModel('acme/painter', { cancelAware: true });
    const first = await submit(emulator, 'acme/painter', { prompt: '1' });
    await until(() => emulator.job(first.request_id)?.status === 'IN_PROGRESS', 'first start');
    const low = await submit(
      emulator,
      'acme/painter',
      { prompt: 'low' },
      {
        'x-fal-queue-priority': 'low',
      },
    );
    const normal = await submit(emulator, 'acme/painter', { prompt: 'normal' });
    expect(normal.queue_position).toBe(0);
    const lowStatus = await json(await get(low.status_url));
    expect(lowStatus).toMatchObject({ status: 'IN_QUEUE', queue_position: 1 });
    emulator.setModel('acme/painter', { runMs: 60_000 });
    const cancelled = await fetch(first.cancel_url, { method: 'PUT', headers: AUTH });
    expect(cancelled.status).toBe(202);
    await until(() => emulator.job(normal.request_id)?.status === 'IN_PROGRESS', 'normal start');
    expect(emulator.job(low.request_id)?.status).toBe('IN_QUEUE');
    const lowAfter = await json(await get(low.status_url));
    expect(lowAfter.queue_position).toBe(0);
  });

  it('counts down a configured phantom queue depth', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { queueMs: 60_000, queueDepth: 5 });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    expect(job.queue_position).toBe(5);
  });

  it('completes a job that cannot start in time with 504 and the user timeout header', async () => {
    await ctx.stop();
    ctx = await setup({ concurrency: 1, defaultLatency: { queueMs: 0, runMs: 60_000 } });
    const { emulator } = ctx;
    await submit(emulator, 'acme/painter', { prompt: 'blocker' });
    const late = await submit(
      emulator,
      'acme/painter',
      { prompt: 'late' },
      {
        'x-fal-request-timeout': '0.05',
      },
    );
    const job = await completion(emulator, late.request_id);
    expect(job.error).toMatchObject({ status: 504, error_type: 'request_timeout' });
    const status = await json(await get(late.status_url));
    expect(status).toMatchObject({ status: 'COMPLETED', error_type: 'request_timeout' });
    expect(status.metrics).toEqual({ inference_time: null });
    const result = await get(late.response_url);
    expect(result.status).toBe(504);
    expect(result.headers.get('x-fal-request-timeout-type')).toBe('user');
    expect(result.headers.get('x-fal-error-type')).toBe('request_timeout');
  });
});

describe('result', () => {
  it('[?] answers 400 before completion, then 200 with the output and x-fal-request-id', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { runMs: 200 });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const early = await get(job.response_url);
    expect(early.status).toBe(400);
    expect(await json(early)).toEqual({ detail: 'Request is still in progress' });
    await completion(emulator, job.request_id);
    const result = await get(job.response_url);
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toContain('application/json');
    expect(result.headers.get('x-fal-request-id')).toBe(job.request_id);
    const body = await json(result);
    expect(body.images).toHaveLength(1);
    const full = await get(`${emulator.url}/acme/painter/requests/${job.request_id}`);
    expect(await json(full)).toEqual(body);
  });

  it('uses a scripted output when the model is told to, also through the * default', async () => {
    const { emulator } = ctx;
    emulator.setModel('*', { output: { images: [], description: 'scripted' } });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    await completion(emulator, job.request_id);
    expect(await json(await get(job.response_url))).toEqual({
      images: [],
      description: 'scripted',
    });
  });
});

describe('controls', () => {
  it('logs requests with the key redacted and counts them by kind', async () => {
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    await completion(emulator, job.request_id);
    await get(job.status_url);
    await get(job.response_url);
    const submitEntry = emulator.log.find((entry) => entry.kind === 'submit');
    expect(submitEntry).toMatchObject({
      method: 'POST',
      path: '/acme/painter',
      body: { prompt: 'p' },
      status: 200,
      requestId: job.request_id,
      endpointId: 'acme/painter',
    });
    expect(submitEntry?.headers.authorization).toBe('Key <masked>');
    expect(JSON.stringify(emulator.log)).not.toContain('test-secret');
    expect(emulator.stats).toMatchObject({ submits: 1, statusCalls: 1, resultCalls: 1 });
    emulator.clearLog();
    expect(emulator.log).toHaveLength(0);
    emulator.resetStats();
    expect(emulator.stats).toMatchObject({ submits: 0, statusCalls: 0, total: 0 });
    expect(emulator.jobs().map((item) => item.requestId)).toEqual([job.request_id]);
    expect(emulator.models).toEqual([
      'acme/flux/dev/image-to-image',
      'acme/painter',
      'acme/video/v1/edit',
    ]);
  });

  it('fires completed with high-resolution timestamps', async () => {
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const done = await completion(emulator, job.request_id);
    expect(done.status).toBe('COMPLETED');
    expect(done.completedAt).toBeGreaterThanOrEqual(done.startedAt ?? Number.POSITIVE_INFINITY);
    expect(done.startedAt).toBeGreaterThanOrEqual(done.submittedAt);
  });

  it('answers 405 for a wrong method and 404 for unknown paths', async () => {
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    const wrong = await fetch(job.status_url, { method: 'DELETE', headers: AUTH });
    expect(wrong.status).toBe(405);
    const unknown = await get(`${emulator.url}/nothing`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/json');
  });

  it('keeps no log when logRequests is false but still counts', async () => {
    await ctx.stop();
    ctx = await setup({ logRequests: false });
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' });
    await get(job.status_url);
    expect(emulator.log).toHaveLength(0);
    expect(emulator.stats).toMatchObject({ submits: 1, statusCalls: 1, total: 2 });
  });
});
