import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError, InputError, QueueError } from '../../src/errors/index.js';
import {
  createFalClient,
  type FalClient,
  type QueueStatus,
  type WaitProgress,
} from '../../src/queue/index.js';
import { clientFor, GOOD_KEY, logged, startTestEmulator, until } from './emulator-harness.js';

let emulator: Emulator;
let client: FalClient;

beforeAll(async () => {
  emulator = await startTestEmulator();
  client = clientFor(emulator);
});
afterAll(async () => {
  await emulator.close();
});

describe('submit', () => {
  it('posts the full id with every option as fal headers/query and returns the queue urls', async () => {
    const submitted = await client.submit(
      'fal-ai/flux/dev/image-to-image',
      { prompt: 'a cat', image_url: 'https://example.test/cat.png' },
      {
        webhookUrl: 'http://127.0.0.1:9/hook?x=1',
        priority: 'low',
        hint: 'runner-7',
        startTimeoutSeconds: 30,
        storageLifecycle: { expiresIn: '1d', initialAcl: { default: 'hide' } },
      },
    );
    expect(submitted).toMatchObject({
      endpointId: 'fal-ai/flux/dev/image-to-image',
      queuePosition: expect.any(Number),
      attempts: 1,
    });
    expect(submitted.statusUrl).toBe(
      `${emulator.url}/fal-ai/flux/requests/${submitted.requestId}/status`,
    );
    const [entry] = logged(emulator, 'submit', submitted.requestId);
    expect(entry?.path).toBe('/fal-ai/flux/dev/image-to-image');
    expect(entry?.query.fal_webhook).toBe('http://127.0.0.1:9/hook?x=1');
    expect(entry?.headers.authorization).toMatch(/^Key /);
    expect(entry?.headers['x-fal-queue-priority']).toBe('low');
    expect(entry?.headers['user-agent']).toMatch(/^falai\/\d+\.\d+\.\d+/);
    expect(entry?.body).toEqual({ prompt: 'a cat', image_url: 'https://example.test/cat.png' });
    const job = emulator.job(submitted.requestId);
    expect(job).toMatchObject({
      priority: 'low',
      runnerHint: 'runner-7',
      startTimeoutSeconds: 30,
      lifecyclePreference: {
        expiration_duration_seconds: 86_400,
        initial_acl: { default: 'hide' },
      },
    });
  });

  it('sends no priority header unless asked, and rejects bad options before sending', async () => {
    const submitted = await client.submit('fal-ai/nano-banana-pro', { prompt: 'x' });
    const [entry] = logged(emulator, 'submit', submitted.requestId);
    expect(entry?.headers['x-fal-queue-priority']).toBeUndefined();
    const before = emulator.log.length;
    await expect(client.submit('fal-ai/x', {}, { startTimeoutSeconds: 1 })).rejects.toBeInstanceOf(
      InputError,
    );
    await expect(client.submit('nope', {})).rejects.toBeInstanceOf(InputError);
    await expect(
      client.submit('fal-ai/x', {}, { webhookUrl: 'ftp://example.test' }),
    ).rejects.toBeInstanceOf(InputError);
    expect(emulator.log.length).toBe(before);
  });
});

describe('status, stream, result', () => {
  it('polls status under owner/alias with and without logs', async () => {
    emulator.setModel('test/logs/model', {
      queueMs: 10,
      runMs: 40,
      logs: [{ message: 'loading weights', atMs: 0 }],
    });
    const { requestId } = await client.submit('test/logs/model', { prompt: 'x' });
    const first = await client.status('test/logs/model', requestId);
    expect(['queued', 'running', 'completed']).toContain(first.state);
    await until(() => emulator.job(requestId)?.status === 'COMPLETED');
    const withLogs = await client.status('test/logs/model', requestId, { logs: true });
    const withoutLogs = await client.status('test/logs/model', requestId, { logs: false });
    expect(withLogs.state).toBe('completed');
    expect(withLogs.logs.map((l) => l.message)).toEqual(['loading weights']);
    expect(withoutLogs.logs).toEqual([]);
    const calls = logged(emulator, 'status', requestId);
    expect(calls.map((c) => c.path)).toEqual(
      Array(3).fill(`/test/logs/requests/${requestId}/status`),
    );
    expect(calls.map((c) => c.query.logs)).toEqual(['0', '1', '0']);
  });

  it('streams queued → running → completed and ends', async () => {
    emulator.setModel('test/stream', { queueMs: 30, runMs: 60, logs: ['a', 'b'] });
    const { requestId } = await client.submit('test/stream', {});
    const seen: QueueStatus[] = [];
    for await (const status of client.streamStatus('test/stream', requestId, { logs: true }))
      seen.push(status);
    expect(seen.at(-1)?.state).toBe('completed');
    const states = seen.map((s) => s.state);
    expect(states.indexOf('running')).toBeGreaterThan(-1);
    expect(states.indexOf('running')).toBeLessThan(states.indexOf('completed'));
    expect(seen.flatMap((s) => s.logs.map((l) => l.message))).toEqual(['a', 'b']);
  });

  it('fetches the result as a completed outcome; before completion it is a clear error', async () => {
    emulator.setModel('test/slow', { queueMs: 60_000, runMs: 10 });
    const slow = await client.submit('test/slow', {});
    const early = await client.result('test/slow', slow.requestId).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(ApiError);
    expect((early as ApiError).status).toBe(400);
    await client.cancel('test/slow', slow.requestId);

    const done = await client.submit('fal-ai/nano-banana-pro', {
      prompt: 'x',
      output_format: 'png',
    });
    await until(() => emulator.job(done.requestId)?.status === 'COMPLETED');
    const outcome = await client.result('fal-ai/nano-banana-pro', done.requestId);
    expect(outcome.state).toBe('completed');
    expect(outcome.state === 'completed' && outcome.output).toMatchObject({
      images: [expect.objectContaining({ url: expect.stringContaining(emulator.url) })],
    });
  });
});

describe('cancel', () => {
  it('cancels a queued request, which then ends cancelled', async () => {
    emulator.setModel('test/queued', { queueMs: 60_000, runMs: 10 });
    const { requestId } = await client.submit('test/queued', {});
    expect(await client.cancel('test/queued', requestId)).toEqual({
      outcome: 'cancellation-requested',
    });
    const outcome = await client.wait('test/queued', requestId);
    expect(outcome).toEqual({ state: 'cancelled', requestId, endpointId: 'test/queued' });
    expect(await client.cancel('test/queued', requestId)).toEqual({ outcome: 'already-completed' });
    expect(await client.cancel('test/queued', '00000000-dead-4000-8000-000000000000')).toEqual({
      outcome: 'not-found',
    });
    expect(logged(emulator, 'cancel', requestId)[0]?.method).toBe('PUT');
  });
});

describe('base URLs', () => {
  it('points every host at FALAI_BASE_URL when no settings or option are given', async () => {
    vi.stubEnv('FALAI_BASE_URL', `${emulator.url}/`);
    vi.stubEnv('FALAI_REST_URL', '');
    try {
      const fromEnv = createFalClient({ credentials: GOOD_KEY });
      expect(fromEnv.baseUrls).toEqual({
        queue: emulator.url,
        run: emulator.url,
        rest: emulator.url,
      });
      const { requestId } = await fromEnv.submit('fal-ai/flux/dev', {});
      expect(emulator.job(requestId)).toBeDefined();
      const split = createFalClient({
        baseUrl: 'http://127.0.0.1:1',
        restUrl: 'http://127.0.0.1:2',
      });
      expect(split.baseUrls).toEqual({
        queue: 'http://127.0.0.1:1',
        run: 'http://127.0.0.1:1',
        rest: 'http://127.0.0.1:2',
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('unconfirmed protocol details', () => {
  it('[?] cancel: reads the body status first, so a 200 {"success": true} (per-model OpenAPI) is "ok"', async () => {
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    const remove = emulator.inject({
      match: { kind: 'cancel' },
      action: { type: 'status', status: 200, body: { success: true } },
      times: 1,
    });
    try {
      expect(await client.cancel('fal-ai/flux/dev', requestId)).toEqual({ outcome: 'ok' });
    } finally {
      remove();
    }
  });

  it('[?] result while running: a 400 is not final until status confirms COMPLETED', async () => {
    emulator.setModel('test/running', { queueMs: 60_000, runMs: 10 });
    const { requestId } = await client.submit('test/running', {});
    // Any wording, even one that reads like a final failure: the status call decides.
    for (const detail of ['Request is still in progress', 'Bad request: invalid image']) {
      const remove = emulator.inject({
        match: { kind: 'result' },
        action: { type: 'status', status: 400, body: { detail } },
        times: 1,
      });
      try {
        const error = await client.result('test/running', requestId).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ApiError);
        expect(error).toMatchObject({ status: 400, retryable: true, code: 'API_ERROR' });
        expect((error as ApiError).message).toBe(
          `Request ${requestId} (test/running) has not finished yet: fal says it is queued (the result call answered HTTP 400). Wait for it, e.g. falai wait ${requestId}.`,
        );
      } finally {
        remove();
      }
    }
    await client.cancel('test/running', requestId);
  });
});

describe('outcomes no wording decides (#5)', () => {
  it('a 400 for a request status says COMPLETED is its failure, whatever the text', async () => {
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    await until(() => emulator.job(requestId)?.status === 'COMPLETED');
    const remove = emulator.inject({
      match: { kind: 'result' },
      action: {
        type: 'status',
        status: 400,
        body: { detail: 'Request is still in progress' },
        headers: { 'x-fal-request-id': requestId },
      },
      times: 1,
    });
    try {
      const outcome = await client.result('fal-ai/flux/dev', requestId);
      expect(outcome.state).toBe('failed');
      if (outcome.state !== 'failed') return;
      expect(outcome.error.code).toBe('REQUEST_FAILED');
      expect(outcome.error.message).toContain('HTTP 400');
      expect(outcome.error.message).toContain('Request is still in progress');
    } finally {
      remove();
    }
    expect(logged(emulator, 'status', requestId)).toHaveLength(1);
  });

  it('a 404 after completion is a terminal expired outcome that says so', async () => {
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    await until(() => emulator.job(requestId)?.status === 'COMPLETED');
    const remove = emulator.inject({
      match: { kind: 'result' },
      action: { type: 'status', status: 404, body: { detail: 'Request not found' } },
    });
    try {
      const outcome = await client.result('fal-ai/flux/dev', requestId);
      expect(outcome.state).toBe('expired');
      if (outcome.state !== 'expired') return;
      expect(outcome.requestId).toBe(requestId);
      expect(outcome.error.code).toBe('REQUEST_FAILED');
      expect(outcome.error.details).toEqual({ reason: 'expired', requestId });
      expect(outcome.error.message).toBe(
        `The result of request ${requestId} (fal-ai/flux/dev) has expired: fal no longer holds it (fal keeps results about 1 hour after completion, about 6 minutes when they are 10 KB or larger). Submit the request again for a new result, and fetch results sooner (falai wait, or a webhook).`,
      );
      // wait() ends the same way instead of failing forever.
      expect((await client.wait('fal-ai/flux/dev', requestId)).state).toBe('expired');
    } finally {
      remove();
    }
  });

  it('when fal forgot the request entirely, expired needs knownRequest; else NOT_FOUND', async () => {
    const { requestId } = await client.submit('fal-ai/flux/dev', {});
    await until(() => emulator.job(requestId)?.status === 'COMPLETED');
    const remove = emulator.inject({
      match: { kind: ['result', 'status'] },
      action: { type: 'status', status: 404, body: { detail: 'Request not found' } },
    });
    try {
      const unknown = await client.result('fal-ai/flux/dev', requestId).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(ApiError);
      expect((unknown as ApiError).code).toBe('NOT_FOUND');
      const known = await client.result('fal-ai/flux/dev', requestId, { knownRequest: true });
      expect(known.state).toBe('expired');
    } finally {
      remove();
    }
  });

  it('a 404 from the result while status says it runs leaves it pending (thrown, retryable)', async () => {
    emulator.setModel('test/running-404', { queueMs: 60_000, runMs: 10 });
    const { requestId } = await client.submit('test/running-404', {});
    const remove = emulator.inject({
      match: { kind: 'result' },
      action: { type: 'status', status: 404 },
    });
    try {
      const error = await client
        .result('test/running-404', requestId, { knownRequest: true })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 404, retryable: true });
      expect((error as ApiError).message).toContain('has not finished yet');
    } finally {
      remove();
    }
    await client.cancel('test/running-404', requestId);
  });
});

describe('wait', () => {
  it('follows the SSE stream: progress with new logs, two HTTP requests per job', async () => {
    emulator.setModel('test/wait', { queueMs: 20, runMs: 90, logs: ['one', 'two', 'three'] });
    const { requestId } = await client.submit('test/wait', {});
    const progress: WaitProgress[] = [];
    const outcome = await client.wait('test/wait', requestId, {
      logs: true,
      onProgress: (p) => progress.push(p),
    });
    expect(outcome.state).toBe('completed');
    expect(progress.every((p) => p.via === 'stream')).toBe(true);
    expect(progress.flatMap((p) => p.newLogs.map((l) => l.message))).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(progress.at(-1)?.state).toBe('completed');
    expect(progress.map((p) => p.elapsedMs)).toEqual(
      [...progress.map((p) => p.elapsedMs)].sort((a, b) => a - b),
    );
    const requests = emulator.log.filter((e) => e.requestId === requestId && e.kind !== 'submit');
    expect(requests.map((e) => e.kind)).toEqual(['stream', 'result']);
  });

  it.each([
    ['a 500 on the stream', { type: 'status' as const, status: 500 }],
    ['a dropped stream connection', { type: 'drop' as const }],
  ])('falls back to polling after %s', async (_name, action) => {
    emulator.setModel('test/fallback', { queueMs: 20, runMs: 60, logs: ['x', 'y'] });
    const { requestId } = await client.submit('test/fallback', {});
    const remove = emulator.inject({ match: { kind: 'stream' }, action, times: 1 });
    const progress: WaitProgress[] = [];
    try {
      const outcome = await client.wait('test/fallback', requestId, {
        logs: true,
        onProgress: (p) => progress.push(p),
      });
      expect(outcome.state).toBe('completed');
    } finally {
      remove();
    }
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.via === 'poll')).toBe(true);
    expect(progress.flatMap((p) => p.newLogs.map((l) => l.message))).toEqual(['x', 'y']);
    const kinds = emulator.log.filter((e) => e.requestId === requestId).map((e) => e.kind);
    expect(kinds[1]).toBe('stream');
    expect(kinds).toContain('status');
    expect(kinds.at(-1)).toBe('result');
  });

  it('falls back to polling when the stream goes silent past its idle timeout', async () => {
    emulator.setModel('test/silent', { queueMs: 400, runMs: 20 });
    const { requestId } = await client.submit('test/silent', {});
    const vias: string[] = [];
    const outcome = await client.wait('test/silent', requestId, {
      streamIdleTimeoutMs: 100,
      onProgress: (p) => vias.push(p.via),
    });
    expect(outcome.state).toBe('completed');
    expect(vias[0]).toBe('stream');
    expect(vias.at(-1)).toBe('poll');
  });

  it('polls when asked, with a growing interval', async () => {
    emulator.setModel('test/poll', { queueMs: 10, runMs: 300 });
    const { requestId } = await client.submit('test/poll', {});
    const outcome = await client.wait('test/poll', requestId, { mode: 'poll' });
    expect(outcome.state).toBe('completed');
    const polls = logged(emulator, 'status', requestId);
    expect(polls.length).toBeGreaterThan(0);
    // 300 ms of work: the interval grows, so a handful of polls, not a 50 ms hammer.
    expect(polls.length).toBeLessThanOrEqual(6);
    expect(logged(emulator, 'stream', requestId)).toHaveLength(0);
  });

  it('given a signal that is already aborted, asks fal nothing and ends ABORTED', async () => {
    emulator.setModel('test/pre-aborted', { queueMs: 0, runMs: 5_000 });
    const { requestId } = await client.submit('test/pre-aborted', {});
    const controller = new AbortController();
    controller.abort(new Error('stopping'));
    for (const mode of ['auto', 'poll'] as const) {
      await expect(
        client.wait('test/pre-aborted', requestId, { mode, signal: controller.signal }),
      ).rejects.toMatchObject({ code: 'ABORTED' });
    }
    expect(logged(emulator, 'stream', requestId)).toHaveLength(0);
    expect(logged(emulator, 'status', requestId)).toHaveLength(0);
    await client.cancel('test/pre-aborted', requestId);
  });

  it('reports a completed-with-error job as failed, without retrying the stored error', async () => {
    emulator.setModel('test/broken', {
      queueMs: 10,
      runMs: 20,
      completeWithError: {
        status: 503,
        detail: 'Runner disconnected',
        error_type: 'runner_disconnected',
      },
    });
    const { requestId } = await client.submit('test/broken', {});
    const outcome = await client.wait('test/broken', requestId);
    expect(outcome.state).toBe('failed');
    if (outcome.state !== 'failed') return;
    expect(outcome.error).toBeInstanceOf(QueueError);
    expect(outcome.error.code).toBe('REQUEST_FAILED');
    expect(outcome.error.message).toContain('Runner disconnected');
    expect((outcome.error.cause as ApiError).errorType).toBe('runner_disconnected');
    expect(logged(emulator, 'result', requestId)).toHaveLength(1);
  });

  it('reports a 422 at result as failed with input issues', async () => {
    emulator.setModel('test/invalid', {
      queueMs: 10,
      runMs: 10,
      completeWithError: {
        status: 422,
        body: {
          detail: [
            { loc: ['body', 'image_urls', 0], msg: 'Unsupported image', type: 'value_error' },
          ],
        },
      },
    });
    const { requestId } = await client.submit('test/invalid', {});
    const outcome = await client.wait('test/invalid', requestId);
    expect(outcome.state === 'failed' && outcome.error).toBeInstanceOf(InputError);
    expect(outcome.state === 'failed' && (outcome.error as InputError).issues).toEqual([
      { path: ['image_urls', 0], message: 'Unsupported image', kind: 'value_error' },
    ]);
  });

  it('reports the model’s own 422 (input validated at result) as failed with field paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'falai-models-'));
    const strict = await (async () => {
      await mkdir(join(dir, 'test'), { recursive: true });
      await writeFile(
        join(dir, 'test', 'strict.json'),
        JSON.stringify({
          endpointId: 'test/strict',
          name: 'Strict',
          category: 'text-to-image',
          input: { prompt: { type: 'string', required: true } },
          output: { kind: 'images' },
        }),
      );
      return startEmulator({
        port: 0,
        deterministic: true,
        strict: true,
        modelsDirs: [dir],
        defaultLatency: { queueMs: 5, runMs: 5 },
      });
    })();
    try {
      const strictClient = clientFor(strict);
      const { requestId } = await strictClient.submit('test/strict', { prompt: 42 });
      const outcome = await strictClient.wait('test/strict', requestId);
      expect(outcome.state).toBe('failed');
      const error = outcome.state === 'failed' ? (outcome.error as InputError) : undefined;
      expect(error).toBeInstanceOf(InputError);
      expect(error?.issues[0]?.path).toEqual(['prompt']);
      expect(error?.requestId).toBe(requestId);
    } finally {
      await strict.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('maps a start timeout to REQUEST_TIMEOUT', async () => {
    emulator.setModel('test/start-timeout', { queueMs: 60_000, runMs: 10 });
    const { requestId } = await client.submit(
      'test/start-timeout',
      {},
      { startTimeoutSeconds: 1.5 },
    );
    const outcome = await client.wait('test/start-timeout', requestId);
    expect(outcome.state === 'failed' && outcome.error.code).toBe('REQUEST_TIMEOUT');
  });
});
