import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { completion, get, json, post, setup, submit, until } from './helpers.js';

let ctx: Awaited<ReturnType<typeof setup>>;
beforeEach(async () => {
  ctx = await setup({ keys: { accept: ['good:key', 'other:key'], locked: ['poor:key'] } });
});
afterEach(async () => {
  await ctx.stop();
});

const key = (value: string) => ({ authorization: `Key ${value}` });

describe('authentication', () => {
  it('answers 401 without a header, with a colon-less key and with an unknown key', async () => {
    const { emulator } = ctx;
    const url = `${emulator.url}/acme/painter`;
    const missing = await fetch(url, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(401);
    expect(typeof (await json(missing)).detail).toBe('string');
    const noColon = await post(url, {}, key('justonepart'));
    expect(noColon.status).toBe(401);
    expect(await json(noColon)).toEqual({
      detail: "Invalid Key Authorization header format. Expected '<key_id>:<key_secret>'.",
    });
    const unknown = await post(url, {}, key('bad:key'));
    expect(unknown.status).toBe(401);
    expect(await json(unknown)).toEqual({ detail: 'No user found for Key ID and Secret' });
    expect(emulator.jobs()).toHaveLength(0);
  });

  it('answers 403 for a locked key at submit only', async () => {
    const { emulator } = ctx;
    const locked = await post(`${emulator.url}/acme/painter`, { prompt: 'p' }, key('poor:key'));
    expect(locked.status).toBe(403);
    expect((await json(locked)).detail).toMatch(/^User is locked\. Reason: Exhausted balance/);
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('good:key'));
    const status = await get(job.status_url, key('poor:key'));
    expect(status.status).toBe(202);
  });

  it('accepts any well-formed key by default and checks keys on status too', async () => {
    await ctx.stop();
    ctx = await setup();
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('any:thing'));
    const status = await fetch(job.status_url);
    expect(status.status).toBe(401);
    const empty = await post(`${emulator.url}/acme/painter`, {}, key(':secret'));
    expect(empty.status).toBe(401);
  });
});

describe('model errors', () => {
  it('completes invalid input normally and answers 422 with field errors at result', async () => {
    const { emulator } = ctx;
    const job = await submit(
      emulator,
      'acme/painter',
      { aspect_ratio: '7:3', num_images: 'two' },
      key('good:key'),
    );
    await completion(emulator, job.request_id);
    const status = await get(job.status_url, key('good:key'));
    expect(status.status).toBe(200);
    expect((await json(status)).status).toBe('COMPLETED');
    const result = await get(job.response_url, key('good:key'));
    expect(result.status).toBe(422);
    expect(result.headers.get('x-fal-request-id')).toBe(job.request_id);
    const body = await json(result);
    expect(body.detail).toEqual([
      { loc: ['body', 'prompt'], msg: 'Field required', type: 'value_error' },
      { loc: ['body', 'num_images'], msg: 'Input should be a valid integer', type: 'value_error' },
      {
        loc: ['body', 'aspect_ratio'],
        msg: "Input should be '1:1', '16:9', '9:16'",
        type: 'value_error',
      },
    ]);
  });

  it('checks array sizes and numeric bounds', async () => {
    const { emulator } = ctx;
    const job = await submit(
      emulator,
      'acme/video/v1/edit',
      { prompt: 'p', video_url: 'v.mp4', image_urls: [] },
      key('good:key'),
    );
    await completion(emulator, job.request_id);
    const body = await json(await get(job.response_url, key('good:key')));
    expect(body.detail).toEqual([
      {
        loc: ['body', 'video_url'],
        msg: 'Input should be a valid URL or data URI',
        type: 'value_error',
      },
      {
        loc: ['body', 'image_urls'],
        msg: 'List should have at least 1 item(s)',
        type: 'value_error',
      },
    ]);
    const items = await submit(
      emulator,
      'acme/video/v1/edit',
      { prompt: 'p', video_url: 'data:video/mp4;base64,AAAA', image_urls: ['https://x/a.png', 3] },
      key('good:key'),
    );
    await completion(emulator, items.request_id);
    const itemsBody = await json(await get(items.response_url, key('good:key')));
    expect(itemsBody.detail).toEqual([
      {
        loc: ['body', 'image_urls', 1],
        msg: 'Input should be a valid URL or data URI',
        type: 'value_error',
      },
    ]);
    const big = await submit(
      emulator,
      'acme/painter',
      { prompt: 'p', num_images: 9 },
      key('good:key'),
    );
    await completion(emulator, big.request_id);
    const bigBody = await json(await get(big.response_url, key('good:key')));
    expect(bigBody.detail[0].msg).toBe('Input should be less than or equal to 4');
  });

  it('completes with a configured error: status error fields, result code and header', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', {
      completeWithError: {
        status: 503,
        detail: 'Runner went away',
        error_type: 'runner_disconnected',
      },
    });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('good:key'));
    const done = await completion(emulator, job.request_id);
    expect(done.error).toEqual({
      status: 503,
      detail: 'Runner went away',
      error_type: 'runner_disconnected',
    });
    const status = await json(await get(job.status_url, key('good:key')));
    expect(status).toMatchObject({
      status: 'COMPLETED',
      error: 'Runner went away',
      error_type: 'runner_disconnected',
    });
    const result = await get(job.response_url, key('good:key'));
    expect(result.status).toBe(503);
    expect(result.headers.get('x-fal-error-type')).toBe('runner_disconnected');
    expect(await json(result)).toEqual({
      detail: 'Runner went away',
      error_type: 'runner_disconnected',
    });
  });
});

describe('cancel', () => {
  const cancel = (url: string) => fetch(url, { method: 'PUT', headers: key('good:key') });

  it('cancels a queued job: 202, then COMPLETED with client_cancelled and a 499 result', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { queueMs: 60_000 });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('good:key'));
    const response = await cancel(job.cancel_url);
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ status: 'CANCELLATION_REQUESTED' });
    expect(emulator.job(job.request_id)).toMatchObject({ status: 'COMPLETED', cancelled: true });
    const status = await json(await get(job.status_url, key('good:key')));
    expect(status).toMatchObject({ status: 'COMPLETED', error_type: 'client_cancelled' });
    const result = await get(job.response_url, key('good:key'));
    expect(result.status).toBe(499);
    expect(result.headers.get('x-fal-error-type')).toBe('client_cancelled');
  });

  it('cancels a running job, unless the app ignores cancel signals', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { runMs: 60_000 });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('good:key'));
    await until(() => emulator.job(job.request_id)?.status === 'IN_PROGRESS', 'start');
    const full = `${emulator.url}/acme/painter/requests/${job.request_id}/cancel`;
    expect((await cancel(full)).status).toBe(202);
    expect(emulator.job(job.request_id)?.error?.status).toBe(499);

    emulator.setModel('acme/painter', { runMs: 50, ignoreCancel: true });
    const stubborn = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('good:key'));
    await until(() => emulator.job(stubborn.request_id)?.status === 'IN_PROGRESS', 'start');
    expect((await cancel(stubborn.cancel_url)).status).toBe(202);
    const done = await completion(emulator, stubborn.request_id);
    expect(done.cancelled).toBe(false);
    expect(done.output).toBeDefined();
  });

  it('answers 400 ALREADY_COMPLETED and 404 NOT_FOUND', async () => {
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('good:key'));
    await completion(emulator, job.request_id);
    const late = await cancel(job.cancel_url);
    expect(late.status).toBe(400);
    expect(await json(late)).toEqual({ status: 'ALREADY_COMPLETED' });
    const unknown = await cancel(`${emulator.url}/acme/painter/requests/missing/cancel`);
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ status: 'NOT_FOUND' });
  });
});
