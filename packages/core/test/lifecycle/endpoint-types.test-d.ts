import { describe, expectTypeOf, it } from 'vitest';
import {
  createFalai,
  type EndpointInput,
  type EndpointOutput,
  type FileInput,
  type Job,
  type KnownEndpointId,
  type RunResult,
} from '../../src/lifecycle/index.js';

/**
 * Type tests of the endpoint-typed API, run by vitest's typecheck mode with the unit tests (and
 * checked by pnpm typecheck): built-in endpoints take and give their model's types, any other
 * id plain objects.
 */
const falai = createFalai();

describe('endpoint types', () => {
  it('knows the built-in endpoints', () => {
    expectTypeOf<'fal-ai/nano-banana-pro'>().toExtend<KnownEndpointId>();
    expectTypeOf<'fal-ai/flux/dev/image-to-image'>().toExtend<KnownEndpointId>();
    expectTypeOf<'acme/anything'>().not.toExtend<KnownEndpointId>();
  });

  it('types the input of a built-in endpoint', () => {
    type Input = EndpointInput<'fal-ai/nano-banana-pro/edit'>;
    expectTypeOf<Input['prompt']>().toEqualTypeOf<string>();
    expectTypeOf<Input['image_urls']>().toEqualTypeOf<FileInput[]>();
    expectTypeOf<Buffer>().toExtend<FileInput>();
    expectTypeOf<Blob>().toExtend<FileInput>();
    expectTypeOf<bigint>().toExtend<NonNullable<Input['seed']>>();
    expectTypeOf<'16:9'>().toExtend<NonNullable<Input['aspect_ratio']>>();
    expectTypeOf<'17:9'>().not.toExtend<NonNullable<Input['aspect_ratio']>>();
    expectTypeOf<null>().toExtend<Input['num_images']>();
  });

  it('types the output of a built-in endpoint; other ids give plain objects', () => {
    type Output = EndpointOutput<'fal-ai/flux/dev/image-to-image'>;
    expectTypeOf<Output['images'][number]['url']>().toEqualTypeOf<string>();
    expectTypeOf<Output['seed']>().toEqualTypeOf<number | bigint>();
    expectTypeOf<EndpointOutput<'acme/other'>>().toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf<EndpointInput<string>>().toEqualTypeOf<Record<string, unknown>>();
  });

  it('run, submit and job carry the endpoint types', () => {
    expectTypeOf(falai.run<'fal-ai/nano-banana-pro'>).returns.resolves.toEqualTypeOf<
      RunResult<'fal-ai/nano-banana-pro'>
    >();
    expectTypeOf<RunResult<'fal-ai/nano-banana-pro'>['output']['images']>().toEqualTypeOf<
      EndpointOutput<'fal-ai/nano-banana-pro'>['images']
    >();
    expectTypeOf(falai.job<'fal-ai/nano-banana-pro'>).returns.resolves.toEqualTypeOf<
      Job<'fal-ai/nano-banana-pro'>
    >();
    // Inputs are checked where they are written (these lines never run).
    const check = false as boolean;
    if (check) {
      void falai.run('fal-ai/nano-banana-pro', { prompt: 'a lighthouse', num_images: 2 });
      // @ts-expect-error a required field is missing
      void falai.run('fal-ai/nano-banana-pro', { num_images: 2 });
      // @ts-expect-error a field the model does not have
      void falai.run('fal-ai/nano-banana-pro', { prompt: 'x', numimages: 2 });
      // @ts-expect-error a value outside the enum
      void falai.run('fal-ai/nano-banana-pro', { prompt: 'x', resolution: '8K' });
      void falai.submit('acme/any-model', { anything: [1, 2, 3] });
    }
  });
});
