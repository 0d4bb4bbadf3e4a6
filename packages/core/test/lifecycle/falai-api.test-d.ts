import { describe, expectTypeOf, it } from 'vitest';
import type { EstimateResult } from '../../src/cost/index.js';
import {
  type CancelRequestResult,
  createFalai,
  type DownloadTarget,
  type EndpointOutput,
  type Falai,
  type Job,
  type JobProgress,
  type JobResult,
  type RunJobOptions,
  type RunResult,
  type StatusReport,
  type SubmitJobOptions,
  type WaitJobOptions,
} from '../../src/lifecycle/index.js';
import type { OutputFile, PendingRecord } from '../../src/store/index.js';

/**
 * Type tests of the one-call API as a program writes it (`falai.run`, `submit`, `job`): run
 * by vitest's typecheck mode (tsc) with the unit tests, counted in the same report. Calls sit
 * in functions that are never called: only their types matter here.
 */
const falai: Falai = createFalai();
const NANO = 'fal-ai/nano-banana-pro';
type Nano = typeof NANO;

describe('falai.run', () => {
  it('takes the typed input of a built-in endpoint and gives its typed output', () => {
    async function typed() {
      const job = await falai.run(NANO, { prompt: 'a lighthouse', num_images: 2, seed: 42n });
      expectTypeOf(job).toEqualTypeOf<RunResult<Nano>>();
      expectTypeOf(job.endpointId).toEqualTypeOf<Nano>();
      expectTypeOf(job.output.images[0]!.url).toEqualTypeOf<string>();
      expectTypeOf(job.output.description).toEqualTypeOf<string>();
      expectTypeOf(job.files).toEqualTypeOf<readonly OutputFile[]>();
      expectTypeOf(job.warnings).toEqualTypeOf<readonly string[]>();
      expectTypeOf(job.estimate).toEqualTypeOf<EstimateResult | undefined>();
      expectTypeOf(job.output.images[0]!.width).toEqualTypeOf<number | undefined>();
      // fal may add fields: they are there, untyped
      expectTypeOf(job.output.has_nsfw_concepts).toBeUnknown();
      // @ts-expect-error an image's url is a string
      expectTypeOf(job.output.images[0]!.url).toEqualTypeOf<number>();
    }
    expectTypeOf(typed).returns.resolves.toBeVoid();
  });

  it('rejects unknown fields, wrong types and a missing prompt where the call is written', () => {
    function rejected() {
      // @ts-expect-error the prompt is a string
      void falai.run(NANO, { prompt: 42 });
      // @ts-expect-error num_images is a number, not a string
      void falai.run(NANO, { prompt: 'x', num_images: '2' });
      // @ts-expect-error aspect_ratio is one of the model's ratios
      void falai.run(NANO, { prompt: 'x', aspect_ratio: '17:9' });
      // @ts-expect-error a field nano-banana-pro does not have
      void falai.run(NANO, { prompt: 'x', image_urls: ['./cat.png'] });
      // @ts-expect-error the prompt is required
      void falai.run(NANO, {});
    }
    expectTypeOf(rejected).returns.toBeVoid();
  });

  it('takes local paths, Buffers and Blobs in the file fields of an edit endpoint', () => {
    function files(bytes: Buffer, blob: Blob) {
      void falai.run('fal-ai/nano-banana-pro/edit', {
        prompt: 'x',
        image_urls: ['./cat.png', bytes, blob, 'https://example.com/dog.png'],
      });
      // @ts-expect-error a file field does not take a number
      void falai.run('fal-ai/nano-banana-pro/edit', { prompt: 'x', image_urls: [42] });
    }
    expectTypeOf(files).parameters.toEqualTypeOf<[Buffer, Blob]>();
  });

  it('falls back to plain objects for an endpoint it does not know', () => {
    async function untyped() {
      const job = await falai.run('acme/any-model', { anything: [1, 2, 3], nested: { a: 1 } });
      expectTypeOf(job.endpointId).toEqualTypeOf<'acme/any-model'>();
      expectTypeOf(job.output).toEqualTypeOf<Record<string, unknown>>();
      expectTypeOf<EndpointOutput<'acme/any-model'>>().toEqualTypeOf<Record<string, unknown>>();
      // @ts-expect-error an input is an object, whatever the endpoint
      void falai.run('acme/any-model', 'a lighthouse');
    }
    expectTypeOf(untyped).returns.resolves.toBeVoid();
  });

  it('runs the README example as written', () => {
    // packages/core/README.md's first example (run verbatim by readme-example.test.ts).
    async function readme() {
      const job = await falai.run(
        'fal-ai/nano-banana-pro',
        { prompt: 'a lighthouse' },
        {
          onProgress: (event) => console.error(event.phase),
          download: './out',
          signal: AbortSignal.timeout(10 * 60_000),
        },
      );
      expectTypeOf(job.files.map((file) => file.path)).toEqualTypeOf<string[]>();
    }
    expectTypeOf(readme).returns.resolves.toBeVoid();
  });
});

describe('run and submit options', () => {
  it('run takes signal, onProgress, download and timeoutMs', () => {
    expectTypeOf<RunJobOptions>().toExtend<SubmitJobOptions>();
    expectTypeOf<RunJobOptions>().toExtend<WaitJobOptions>();
    expectTypeOf<RunJobOptions['signal']>().toEqualTypeOf<AbortSignal | undefined>();
    expectTypeOf<RunJobOptions['timeoutMs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<RunJobOptions['download']>().toEqualTypeOf<DownloadTarget | undefined>();
    expectTypeOf<NonNullable<RunJobOptions['onProgress']>>().toEqualTypeOf<
      (event: JobProgress) => void
    >();
  });

  it('download is a folder or file name, true, or { dir, name, force }', () => {
    expectTypeOf<'./out'>().toExtend<DownloadTarget>();
    expectTypeOf<true>().toExtend<DownloadTarget>();
    expectTypeOf<{ dir: './out'; name: '{index}.{ext}'; force: true }>().toExtend<DownloadTarget>();
    expectTypeOf<false>().not.toExtend<DownloadTarget>();
    expectTypeOf<{ folder: './out' }>().not.toExtend<DownloadTarget>();
  });

  it('progress events narrow by phase', () => {
    function onProgress(event: JobProgress) {
      if (event.phase === 'upload') {
        expectTypeOf(event.field).toEqualTypeOf<string>();
        expectTypeOf(event.sent).toEqualTypeOf<number>();
      } else if (event.phase === 'saved') {
        expectTypeOf(event.files).toEqualTypeOf<readonly OutputFile[]>();
      } else if (event.phase === 'estimate') {
        expectTypeOf(event.endpointId).toEqualTypeOf<string>();
      } else if (event.phase !== 'submitted') {
        expectTypeOf(event.phase).toEqualTypeOf<'queued' | 'running' | 'completed'>();
        expectTypeOf(event.via).toEqualTypeOf<'stream' | 'poll'>();
      }
    }
    expectTypeOf(onProgress).parameter(0).toEqualTypeOf<JobProgress>();
  });

  it('submit takes signal and onProgress, but not download (that belongs to wait)', () => {
    async function submitted(signal: AbortSignal) {
      const job = await falai.submit(
        NANO,
        { prompt: 'a red fox' },
        { signal, onProgress: (event) => void event.phase, maxCostUsd: 0.5 },
      );
      expectTypeOf(job).toExtend<Job<Nano>>();
      expectTypeOf(job.warnings).toEqualTypeOf<readonly string[]>();
      expectTypeOf(job.estimate).toEqualTypeOf<EstimateResult | undefined>();
      // @ts-expect-error submit returns at once: download is an option of wait and run
      void falai.submit(NANO, { prompt: 'x' }, { download: './out' });
      // @ts-expect-error the signal is an AbortSignal
      void falai.submit(NANO, { prompt: 'x' }, { signal: 'stop' });
      await job.wait({ download: { dir: './out', force: true }, signal, timeoutMs: 60_000 });
    }
    expectTypeOf(submitted).returns.resolves.toBeVoid();
  });
});

describe('falai.job', () => {
  it('re-attaches by request id; its methods carry the endpoint types', () => {
    async function attached() {
      const job = await falai.job('0b6f1a2c', { endpointId: NANO });
      expectTypeOf(job).toEqualTypeOf<Job<Nano>>();
      expectTypeOf(job.requestId).toEqualTypeOf<string>();
      expectTypeOf(job.record).returns.resolves.toEqualTypeOf<PendingRecord | undefined>();
      expectTypeOf(job.status).returns.resolves.toEqualTypeOf<StatusReport>();
      expectTypeOf(job.status)
        .parameter(0)
        .toEqualTypeOf<{ readonly logs?: boolean | undefined } | undefined>();
      expectTypeOf(job.wait).returns.resolves.toEqualTypeOf<JobResult<Nano>>();
      expectTypeOf(job.wait).parameter(0).toEqualTypeOf<WaitJobOptions | undefined>();
      expectTypeOf(job.result).returns.resolves.toEqualTypeOf<JobResult<Nano>>();
      expectTypeOf(job.cancel).returns.resolves.toEqualTypeOf<CancelRequestResult>();
      expectTypeOf(job.download).returns.resolves.toEqualTypeOf<OutputFile[]>();
      expectTypeOf(job.download).parameter(0).toEqualTypeOf<DownloadTarget | undefined>();
      const { output } = await job.result();
      expectTypeOf(output.images[0]!.url).toEqualTypeOf<string>();
    }
    expectTypeOf(attached).returns.resolves.toBeVoid();
  });

  it('without an endpoint id, gives plain objects', () => {
    async function untyped() {
      const job = await falai.job('0b6f1a2c');
      expectTypeOf(job).toEqualTypeOf<Job<string>>();
      expectTypeOf((await job.wait()).output).toEqualTypeOf<Record<string, unknown>>();
      // @ts-expect-error the request id is a string
      void falai.job(42);
    }
    expectTypeOf(untyped).returns.resolves.toBeVoid();
  });
});
