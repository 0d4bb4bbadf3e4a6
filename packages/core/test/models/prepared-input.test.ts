import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors/falai-error.js';
import { stringifyJsonExact } from '../../src/json/index.js';
import { prepareInput } from '../../src/media/index.js';
import { createModelRegistry } from '../../src/models/index.js';

const registry = createModelRegistry();
const FLUX = 'fal-ai/flux/dev/image-to-image';

describe('prepareInput and hostile or exact input', () => {
  it('refuses own __proto__/constructor keys at any depth from a library caller', async () => {
    for (const text of [
      '{"prompt":"x","image_url":"https://a.test/a.png","__proto__":{"webhookUrl":"http://attacker.example"}}',
      '{"prompt":"x","image_url":"https://a.test/a.png","extra":[{"constructor":{"prototype":{"x":1}}}]}',
    ]) {
      const input = JSON.parse(text) as Record<string, unknown>;
      let error: unknown;
      try {
        await prepareInput(FLUX, input, { registry });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).code).toBe('INPUT_INVALID');
      expect((error as InputError).message).toMatch(/the field name "(__proto__|constructor)"/);
    }
    expect(({} as Record<string, unknown>).webhookUrl).toBeUndefined();
  });

  it('keeps a 64-bit seed exact in what is sent and in the stored summary', async () => {
    const seed = 17454220438242315174n;
    const out = await prepareInput(
      FLUX,
      { prompt: 'x', image_url: 'https://a.test/a.png', seed, strength: null },
      { registry },
    );
    expect(out.input.seed).toBe(seed);
    expect(out.input.strength).toBeNull();
    expect(out.summary.fields.seed).toBe(seed);
    expect(stringifyJsonExact(out.input)).toBe(
      '{"prompt":"x","image_url":"https://a.test/a.png","seed":17454220438242315174,"strength":null}',
    );
  });
});
