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
  it('[?] answers 401 without a header (text guessed), with a colon-less key and with an unknown key', async () => {
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

  it("accept: 'any' with locked keys takes any other well-formed key, on submit and status", async () => {
    await ctx.stop();
    ctx = await setup({ keys: { accept: 'any', locked: ['poor:key'] } });
    const { emulator } = ctx;
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('any:thing'));
    expect((await get(job.status_url, key('someone:else'))).status).toBe(202);
    const locked = await post(`${emulator.url}/acme/painter`, { prompt: 'p' }, key('poor:key'));
    expect(locked.status).toBe(403);
  });
});

describe('model errors', () => {
  it('[?] completes invalid input normally (no error on the status) and answers 422 with pydantic errors at result', async () => {
    const { emulator } = ctx;
    const input = { aspect_ratio: '7:3', num_images: 'two' };
    const job = await submit(emulator, 'acme/painter', input, key('good:key'));
    await completion(emulator, job.request_id);
    const status = await get(job.status_url, key('good:key'));
    expect(status.status).toBe(200);
    const statusBody = await json(status);
    expect(statusBody.status).toBe('COMPLETED');
    expect(statusBody.error).toBeUndefined();
    const result = await get(job.response_url, key('good:key'));
    expect(result.status).toBe(422);
    expect(result.headers.get('x-fal-request-id')).toBe(job.request_id);
    const body = await json(result);
    // pydantic v2's shape: type, loc, msg, input, ctx where the type has one; plus fal's url.
    expect(body.detail).toEqual([
      {
        type: 'missing',
        loc: ['body', 'prompt'],
        msg: 'Field required',
        input,
        url: 'https://docs.fal.ai/errors#missing',
      },
      {
        type: 'int_parsing',
        loc: ['body', 'num_images'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: 'two',
        url: 'https://docs.fal.ai/errors#int_parsing',
      },
      {
        type: 'literal_error',
        loc: ['body', 'aspect_ratio'],
        msg: "Input should be '1:1', '16:9' or '9:16'",
        input: '7:3',
        ctx: { expected: "'1:1', '16:9' or '9:16'" },
        url: 'https://docs.fal.ai/errors#literal_error',
      },
    ]);
  });

  it('uses lax pydantic types: numeric strings pass, a float is not an integer, null is fine for optional fields', async () => {
    const { emulator } = ctx;
    const lax = await submit(
      emulator,
      'acme/painter',
      { prompt: 'p', num_images: '2', aspect_ratio: null, seed: 7 },
      key('good:key'),
    );
    await completion(emulator, lax.request_id);
    expect((await get(lax.response_url, key('good:key'))).status).toBe(200);
    const wrong = await submit(
      emulator,
      'acme/painter',
      { prompt: null, num_images: 1.5 },
      key('good:key'),
    );
    await completion(emulator, wrong.request_id);
    const body = await json(await get(wrong.response_url, key('good:key')));
    expect(body.detail.map((item: { type: string }) => item.type)).toEqual([
      'string_type',
      'int_from_float',
    ]);
    expect(body.detail[0]).toMatchObject({ loc: ['body', 'prompt'], input: null });
  });

  it('[?] checks array sizes, numeric bounds and file URLs (file_download_error)', async () => {
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
        type: 'file_download_error',
        loc: ['body', 'video_url'],
        msg: 'Failed to download the file. Please check if the URL is accessible.',
        input: 'v.mp4',
        url: 'https://docs.fal.ai/errors#file_download_error',
      },
      {
        type: 'too_short',
        loc: ['body', 'image_urls'],
        msg: 'List should have at least 1 item after validation, not 0',
        input: [],
        ctx: { field_type: 'List', min_length: 1, actual_length: 0 },
        url: 'https://docs.fal.ai/errors#too_short',
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
        type: 'string_type',
        loc: ['body', 'image_urls', 1],
        msg: 'Input should be a valid string',
        input: 3,
        url: 'https://docs.fal.ai/errors#string_type',
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
    expect(bigBody.detail).toEqual([
      {
        type: 'less_than_equal',
        loc: ['body', 'num_images'],
        msg: 'Input should be less than or equal to 4',
        input: 9,
        ctx: { le: 4 },
        url: 'https://docs.fal.ai/errors#less_than_equal',
      },
    ]);
    const small = await submit(
      emulator,
      'acme/painter',
      { prompt: 'p', num_images: 0 },
      key('good:key'),
    );
    await completion(emulator, small.request_id);
    const smallBody = await json(await get(small.response_url, key('good:key')));
    expect(smallBody.detail[0]).toMatchObject({
      type: 'greater_than_equal',
      msg: 'Input should be greater than or equal to 1',
      ctx: { ge: 1 },
    });
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

  it('[?] cancels a queued job: 202, then COMPLETED with client_cancelled and a 499 result', async () => {
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

  it('only asks a running job to stop by default: the app finishes and its result is delivered', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { runMs: 150 });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('good:key'));
    await until(() => emulator.job(job.request_id)?.status === 'IN_PROGRESS', 'start');
    const response = await cancel(job.cancel_url);
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ status: 'CANCELLATION_REQUESTED' });
    expect(emulator.job(job.request_id)).toMatchObject({
      status: 'IN_PROGRESS',
      cancelled: false,
      cancelRequestedAt: expect.any(Number),
    });
    const done = await completion(emulator, job.request_id);
    expect(done.cancelled).toBe(false);
    expect(done.error).toBeUndefined();
    const result = await get(job.response_url, key('good:key'));
    expect(result.status).toBe(200);
    expect((await json(result)).images).toHaveLength(1);
  });

  it('stops a running cancel-aware app with a 499, also through the full-id cancel URL', async () => {
    const { emulator } = ctx;
    emulator.setModel('acme/painter', { runMs: 60_000, cancelAware: true });
    const job = await submit(emulator, 'acme/painter', { prompt: 'p' }, key('good:key'));
    await until(() => emulator.job(job.request_id)?.status === 'IN_PROGRESS', 'start');
    const full = `${emulator.url}/acme/painter/requests/${job.request_id}/cancel`;
    expect((await cancel(full)).status).toBe(202);
    expect(emulator.job(job.request_id)).toMatchObject({
      status: 'COMPLETED',
      cancelled: true,
      error: { status: 499, error_type: 'client_cancelled' },
    });
    const result = await get(job.response_url, key('good:key'));
    expect(result.status).toBe(499);
  });

  it('[?] answers 400 ALREADY_COMPLETED and 404 NOT_FOUND', async () => {
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
