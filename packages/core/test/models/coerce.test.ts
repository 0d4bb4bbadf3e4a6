import { describe, expect, it } from 'vitest';
import { coerceSetValue, createModelRegistry, setInputValue } from '../../src/models/index.js';

const registry = createModelRegistry();
const NB = 'fal-ai/nano-banana-pro';
const NBE = 'fal-ai/nano-banana-pro/edit';
const KP = 'fal-ai/kling-video/o3/pro/video-to-video/edit';
const FLUX = 'fal-ai/flux/dev/image-to-image';

describe('coerceSetValue', () => {
  it.each([
    [NB, 'num_images', '2', 2],
    [NB, 'seed', '-7', -7],
    [NB, 'num_images', 'two', 'two'],
    [NB, 'safety_tolerance', '4', '4'],
    [NB, 'aspect_ratio', '16:9', '16:9'],
    [NB, 'prompt', '123', '123'],
    [NB, 'sync_mode', 'true', true],
    [NB, 'sync_mode', 'no', false],
    [NB, 'sync_mode', 'maybe', 'maybe'],
    [FLUX, 'strength', '0.85', 0.85],
    [FLUX, 'guidance_scale', '1e1', 10],
    [FLUX, 'image_url', './a.png', './a.png'],
    [NBE, 'image_urls', './a.png', ['./a.png']],
    [NBE, 'image_urls', 'a.png, b.png', ['a.png', 'b.png']],
    [NBE, 'image_urls', '["x.png","y.png"]', ['x.png', 'y.png']],
    [NBE, 'image_urls', 'data:image/png;base64,AAAA', ['data:image/png;base64,AAAA']],
    [KP, 'elements.0.frontal_image_url', 'f.png', 'f.png'],
    [KP, 'elements.0.reference_image_urls', 'r1.png,r2.png', ['r1.png', 'r2.png']],
    [KP, 'elements', '{"frontal_image_url":"f.png"}', [{ frontal_image_url: 'f.png' }]],
    [KP, 'keep_audio', 'false', false],
    ['acme/unknown', 'steps', '12', 12],
    ['acme/unknown', 'flag', 'true', true],
    ['acme/unknown', 'prompt', 'a cat', 'a cat'],
    ['acme/unknown', 'obj', '{"a":1}', { a: 1 }],
    [NB, 'not_a_field', '[1,2]', [1, 2]],
  ])('%s %s=%s', (endpoint, key, raw, expected) => {
    expect(coerceSetValue(registry, endpoint, key, raw)).toEqual(expected);
  });
});

describe('setInputValue', () => {
  it('builds nested inputs and appends repeated list keys', () => {
    const input: Record<string, unknown> = {};
    setInputValue(registry, KP, input, 'prompt', 'snow @Video1');
    setInputValue(registry, KP, input, 'image_urls', 'a.png');
    setInputValue(registry, KP, input, 'image_urls', 'b.png,c.png');
    setInputValue(registry, KP, input, 'elements.0.frontal_image_url', 'f.png');
    setInputValue(registry, KP, input, 'elements.0.reference_image_urls', 'r1.png');
    setInputValue(registry, KP, input, 'elements.0.reference_image_urls', 'r2.png');
    setInputValue(registry, KP, input, 'keep_audio', 'false');
    expect(input).toEqual({
      prompt: 'snow @Video1',
      image_urls: ['a.png', 'b.png', 'c.png'],
      elements: [{ frontal_image_url: 'f.png', reference_image_urls: ['r1.png', 'r2.png'] }],
      keep_audio: false,
    });
  });
});
