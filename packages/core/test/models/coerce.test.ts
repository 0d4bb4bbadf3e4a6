import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors/falai-error.js';
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
    // 64-bit seeds keep every digit (Number() would give 17454220438242314000).
    [NB, 'seed', '17454220438242315174', 17454220438242315174n],
    [NB, 'seed', '-18446744073709551615', -18446744073709551615n],
    [NB, 'seed', '9007199254740991', 9007199254740991],
    [FLUX, 'strength', '17454220438242315174', 17454220438242315174n],
    ['acme/unknown', 'seed', '17454220438242315174', 17454220438242315174n],
    ['acme/unknown', 'obj', '{"seed":17454220438242315174}', { seed: 17454220438242315174n }],
    // null clears an optional field; a string field keeps the word.
    [NB, 'seed', 'null', null],
    [NB, 'sync_mode', 'null', null],
    [NBE, 'image_urls', 'null', null],
    [NB, 'prompt', 'null', 'null'],
    [FLUX, 'image_url', 'null', 'null'],
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

describe('--set never reaches object internals', () => {
  const attempts = [
    ['__proto__.webhookUrl', 'http://attacker.example/hook', '__proto__'],
    ['__proto__', '{"webhookUrl":"http://attacker.example/hook"}', '__proto__'],
    ['prompt.__proto__.x', '1', '__proto__'],
    ['constructor.prototype.webhookUrl', 'http://attacker.example/hook', 'constructor'],
    ['elements.0.__proto__.x', '1', '__proto__'],
    ['image_urls.prototype', 'a.png', 'prototype'],
  ] as const;

  it.each(attempts)('--set %s=… is INPUT_INVALID and changes nothing', (key, raw, bad) => {
    for (const endpoint of [NB, KP, 'acme/unknown']) {
      const input: Record<string, unknown> = { prompt: 'x' };
      let error: unknown;
      try {
        setInputValue(registry, endpoint, input, key, raw);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).code).toBe('INPUT_INVALID');
      expect((error as InputError).message).toContain(`--set ${key}: the field name "${bad}"`);
      expect(input).toEqual({ prompt: 'x' });
      expect(Object.getPrototypeOf(input)).toBe(Object.prototype);
      const fresh: Record<string, unknown> = {};
      expect(fresh.webhookUrl).toBeUndefined();
      expect(fresh.x).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('webhookUrl');
    }
  });

  it('a JSON value holding __proto__ at any depth is refused', () => {
    for (const raw of [
      '{"__proto__":{"polluted":true}}',
      '[{"frontal_image_url":"f.png","constructor":{"prototype":{"polluted":true}}}]',
    ]) {
      expect(() => setInputValue(registry, KP, {}, 'elements', raw)).toThrow(
        expect.objectContaining({ code: 'INPUT_INVALID' }),
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('inherited names are never read as existing values', () => {
    const input: Record<string, unknown> = {};
    setInputValue(registry, 'acme/unknown', input, 'toString.x', '1');
    setInputValue(registry, 'acme/unknown', input, 'valueOf', '[1]');
    expect(input).toEqual({ toString: { x: 1 }, valueOf: [1] });
  });

  it('a list index may append but never skip ahead (no huge sparse lists)', () => {
    const input: Record<string, unknown> = {};
    setInputValue(registry, KP, input, 'elements.0.frontal_image_url', 'a.png');
    setInputValue(registry, KP, input, 'elements.1.frontal_image_url', 'b.png');
    expect(input.elements).toEqual([
      { frontal_image_url: 'a.png' },
      { frontal_image_url: 'b.png' },
    ]);
    expect(() =>
      setInputValue(registry, KP, input, 'elements.99999999.frontal_image_url', 'c.png'),
    ).toThrow(
      '--set elements.99999999.frontal_image_url: index 99999999 skips items; the list has 2, so the next index is 2.',
    );
  });
});
