import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFalai, type JobProgress, pollRequests } from '../../src/lifecycle/index.js';
import { createMemoryStore, type PendingStore } from '../../src/store/index.js';
import { fixture } from '../media/helpers.js';
import {
  clientFor,
  GOOD_KEY,
  GOOD_SECRET,
  logged,
  startTestEmulator,
} from '../queue/emulator-harness.js';

/**
 * The one-call API against the emulator over HTTP: what a program sees when it calls
 * `falai.run(…)`, `falai.submit(…)` and `falai.job(id)`.
 */
let emulator: Emulator;
let dir: string;

/** A 2x2 PNG: small enough to be sent inline, real enough for the media checks. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);

beforeAll(async () => {
  emulator = await startTestEmulator();
  dir = await mkdtemp(join(tmpdir(), 'falai-lifecycle-'));
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  emulator.clearFaults();
});

/** A falai whose settings come from this environment only (no user config, no real key). */
function falaiWith(store: PendingStore = createMemoryStore(), more: Record<string, string> = {}) {
  const env = {
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_STATE_HOME: join(dir, 'state'),
    FAL_KEY: GOOD_KEY,
    FALAI_BASE_URL: emulator.url,
    ...more,
  };
  return { store, falai: createFalai({ env, cwd: dir, store }) };
}

describe('falai.run', () => {
  it('throws an invalid input before any HTTP call, and records nothing', async () => {
    const { falai, store } = falaiWith();
    emulator.clearLog();
    await expect(
      falai.run('fal-ai/nano-banana-pro', { prompt: 'a lighthouse', num_images: 9 }),
    ).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(
      falai.run('fal-ai/nano-banana-pro/edit', {
        prompt: 'snow',
        image_urls: [join(dir, 'no-such-photo.png')],
      }),
    ).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringMatching(/not found/i),
    });
    expect(emulator.log).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it('sends a local file and bytes, reports progress, saves the outputs and records their provenance', async () => {
    const { falai, store } = falaiWith();
    const events: JobProgress[] = [];
    emulator.clearLog();
    const job = await falai.run(
      'fal-ai/nano-banana-pro/edit',
      { prompt: 'make it snow', image_urls: [fixture('photo-320x240.jpg'), PNG], seed: 42 },
      { uploadMode: 'upload', download: 'renders', onProgress: (event) => events.push(event) },
    );

    // Both files went to fal storage; the request carries their storage URLs.
    expect(logged(emulator, 'upload-initiate')).toHaveLength(2);
    const sent = emulator.job(job.requestId)?.input as { image_urls: string[]; seed: number };
    expect(sent.image_urls).toHaveLength(2);
    for (const url of sent.image_urls) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(sent.seed).toBe(42);
    expect(logged(emulator, 'submit')).toHaveLength(1);

    // Progress: uploads, the submit, the wait, the saved files — in that order.
    const phases = events.map((event) => event.phase);
    expect(phases).toContain('upload');
    const order = ['submitted', 'completed', 'saved'].map((phase) =>
      phases.indexOf(phase as never),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(phases.lastIndexOf('upload')).toBeLessThan(order[0] as number);

    // The outputs are on disk, in the folder asked for, and they are what fal's result names.
    const images = (job.output as { images: { url: string }[] }).images;
    expect(job.files).toHaveLength(images.length);
    expect(await readdir(join(dir, 'renders'))).toEqual(
      job.files.map((file) => file.path.slice(join(dir, 'renders').length + 1)).sort(),
    );
    for (const file of job.files) {
      expect((await stat(file.path)).size).toBe(file.size);
      expect(images.map((image) => image.url)).toContain(file.url);
    }

    // The record: request id, endpoint, input summary (paths, digests, no bytes), seed as
    // given, timings and output paths.
    const record = await store.get(job.requestId);
    expect(record).toMatchObject({
      requestId: job.requestId,
      endpointId: 'fal-ai/nano-banana-pro/edit',
      status: 'completed',
      outputs: job.files,
      input: {
        fields: { prompt: 'make it snow', seed: 42 },
        files: [
          {
            field: 'image_urls.0',
            kind: 'path',
            location: fixture('photo-320x240.jpg'),
            sentAs: 'upload',
            uploadedUrl: sent.image_urls[0],
          },
          { field: 'image_urls.1', kind: 'data-uri', sentAs: 'upload', size: PNG.length },
        ],
      },
    });
    expect(Date.parse(record?.completedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(record?.submittedAt ?? ''),
    );
    expect(job.record).toEqual(record);
    const text = JSON.stringify(record);
    expect(text).not.toContain(PNG.toString('base64'));
    expect(text).not.toContain(GOOD_SECRET);
  });

  it('sends small Blobs and streams inline as data URIs and stores only their digests', async () => {
    const { falai, store } = falaiWith();
    const job = await falai.run('fal-ai/nano-banana-pro/edit', {
      prompt: 'two views',
      image_urls: [new Blob([PNG], { type: 'image/png' }), Readable.from([PNG])],
    });
    const sent = emulator.job(job.requestId)?.input as { image_urls: string[] };
    expect(sent.image_urls).toEqual([
      `data:image/png;base64,${PNG.toString('base64')}`,
      `data:image/png;base64,${PNG.toString('base64')}`,
    ]);
    const record = await store.get(job.requestId);
    expect(record?.input?.files).toMatchObject([
      { field: 'image_urls.0', kind: 'data-uri', sentAs: 'data-uri', mime: 'image/png' },
      { field: 'image_urls.1', kind: 'data-uri', sentAs: 'data-uri', mime: 'image/png' },
    ]);
    expect(JSON.stringify(record)).not.toContain('base64,');
    // No download asked for: nothing saved.
    expect(job.files).toEqual([]);
  });

  it('throws the error of a failed request after recording it', async () => {
    const { falai, store } = falaiWith();
    emulator.setModel('acme/broken', { completeWithError: { status: 500, detail: 'boom' } });
    const error = await falai.run('acme/broken', { prompt: 'x' }).catch((caught) => caught);
    expect(error).toMatchObject({ code: 'REQUEST_FAILED' });
    const [record] = await store.list();
    expect(record).toMatchObject({ status: 'failed', error: { code: 'REQUEST_FAILED' } });
    expect(record?.completedAt).toBeDefined();
  });
});

describe('falai.submit and falai.job', () => {
  it('submits once; a job re-attached by id waits, answers from the store and downloads', async () => {
    const { falai, store } = falaiWith();
    const submitted = await falai.submit('fal-ai/nano-banana-pro', { prompt: 'later' });
    expect((await store.get(submitted.requestId))?.status).toBe('queued');

    const job = await falai.job(submitted.requestId.slice(0, 8));
    expect(job.requestId).toBe(submitted.requestId);
    expect(job.endpointId).toBe('fal-ai/nano-banana-pro');
    const done = await job.wait();
    expect(done.record?.status).toBe('completed');

    // Finished and recorded: the result and a later wait come from the store, not from fal.
    emulator.clearLog();
    const again = await job.result();
    expect(again.output).toEqual(done.output);
    expect((await job.wait()).output).toEqual(done.output);
    expect(emulator.log.filter((entry) => entry.kind !== 'file')).toEqual([]);

    const files = await job.download(join(dir, 'later'));
    expect(files.length).toBeGreaterThan(0);
    expect((await store.get(job.requestId))?.outputs).toEqual(files);
    expect(logged(emulator, 'submit')).toEqual([]);

    const cancelled = await job.cancel();
    expect(cancelled).toMatchObject({ outcome: 'already-completed', status: 'completed' });
  });

  it('a request the store does not know needs its endpoint', async () => {
    const { falai } = falaiWith();
    await expect(falai.job('00000000-0000-4000-8000-00000000beef')).rejects.toMatchObject({
      code: 'INPUT_INVALID',
    });
  });

  it('stopping a wait leaves the request pending, and a later wait records it', async () => {
    const { falai, store } = falaiWith();
    emulator.setModel('acme/slow', { queueMs: 0, runMs: 1500 });
    const job = await falai.submit('acme/slow', { prompt: 'slow' });
    const controller = new AbortController();
    const waiting = job.wait({
      signal: controller.signal,
      onProgress: (event) => {
        if (event.phase === 'running') controller.abort();
      },
    });
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await store.get(job.requestId))?.status).toMatch(/^(queued|running)$/);
    const done = await (await falai.job(job.requestId)).wait();
    expect(done.record).toMatchObject({ status: 'completed' });
    expect(logged(emulator, 'submit', job.requestId)).toHaveLength(1);
  });
});

describe('the download limits of the settings', () => {
  const tooLarge = {
    code: 'MEDIA_INVALID',
    message: expect.stringContaining('Raise the cap with FALAI_DOWNLOAD_MAX_BYTES'),
  };

  it('bound what falai.run saves (FALAI_DOWNLOAD_MAX_BYTES)', async () => {
    const { falai } = falaiWith(createMemoryStore(), { FALAI_DOWNLOAD_MAX_BYTES: '16' });
    const out = join(dir, 'capped-run');
    await expect(
      falai.run('fal-ai/nano-banana-pro', { prompt: 'a fox' }, { download: out }),
    ).rejects.toMatchObject(tooLarge);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('bound what a poll pass saves', async () => {
    const { falai, store } = falaiWith();
    const { requestId } = await falai.submit('fal-ai/nano-banana-pro', { prompt: 'a fox' });
    const out = join(dir, 'capped-poll');
    const summary = await pollRequests({
      store,
      client: clientFor(emulator),
      watch: true,
      intervalMs: 20,
      download: { target: () => ({ outDir: out }), settings: { downloadMaxBytes: 16 } },
    });
    expect(summary.errors).toEqual([expect.objectContaining({ requestId, ...tooLarge })]);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});
