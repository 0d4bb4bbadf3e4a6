import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelsDir } from '@falai/models';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../../src/errors/falai-error.js';
import {
  assertValid,
  checkDefinition,
  createModelRegistry,
  formatValidationReport,
  loadBuiltInModelDefinitions,
} from '../../src/models/index.js';

const registry = createModelRegistry();
const FIXTURES = fileURLToPath(new URL('../fixtures/media/', import.meta.url));
const KP = 'fal-ai/kling-video/o3/pro/video-to-video/edit';
const IDS = [
  'fal-ai/flux/dev/image-to-image',
  'fal-ai/kling-video/o3/pro/video-to-video/edit',
  'fal-ai/kling-video/o3/standard/video-to-video/edit',
  'fal-ai/nano-banana-pro',
  'fal-ai/nano-banana-pro/edit',
];
const tmp = mkdtempSync(join(tmpdir(), 'falai-models-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeModel(dir: string, def: Record<string, unknown>): string {
  const file = join(dir, `${def.endpointId}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(def));
  return file;
}
const tiny = (endpointId: string, extra: Record<string, unknown> = {}) => ({
  endpointId,
  name: 'Tiny',
  description: 'A user model.',
  category: 'text-to-image',
  input: { prompt: { type: 'string', required: true }, steps: { type: 'integer', maximum: 8 } },
  output: { kind: 'images', schema: {} },
  example: { prompt: 'hello' },
  ...extra,
});

describe('built-in models', () => {
  it('lists the five endpoints with their categories and output kinds', () => {
    const list = registry.list();
    expect(list.map((m) => m.endpointId)).toEqual(IDS);
    expect(Object.fromEntries(list.map((m) => [m.endpointId, [m.category, m.outputKind]]))).toEqual(
      {
        'fal-ai/flux/dev/image-to-image': ['image-to-image', 'images'],
        [KP]: ['video-to-video', 'video'],
        'fal-ai/kling-video/o3/standard/video-to-video/edit': ['video-to-video', 'video'],
        'fal-ai/nano-banana-pro': ['text-to-image', 'images'],
        'fal-ai/nano-banana-pro/edit': ['image-to-image', 'images'],
      },
    );
    expect(registry.problems()).toEqual([]);
    expect(registry.has(KP)).toBe(true);
    expect(registry.has('fal-ai/nope')).toBe(false);
  });

  it('come from the @falai/models package (the repository models/ folder), package.json aside', () => {
    const repoModels = fileURLToPath(new URL('../../../../models/', import.meta.url));
    expect(modelsDir).toBe(repoModels);
    const builtIn = loadBuiltInModelDefinitions();
    expect(builtIn.problems).toEqual([]);
    expect(builtIn.models.map((m, i) => [m.endpointId, builtIn.files[i]]).sort()).toEqual(
      IDS.map((id) => [id, join(repoModels, `${id}.json`)]),
    );
    expect(registry.list().map((m) => [m.source, m.file])).toEqual(
      IDS.map((id) => ['builtin', join(repoModels, `${id}.json`)]),
    );
  });

  it.each(IDS)('the example input of %s validates cleanly', async (id) => {
    const def = registry.get(id);
    if (!def) throw new Error(id);
    const report = await registry.validate(id, def.example);
    expect(report).toMatchObject({ ok: true, known: true, issues: [], warnings: [] });
  });

  it('keeps the keys the emulator reads', () => {
    const def = registry.get(KP);
    expect(def?.input.video_url).toMatchObject({ type: 'file', required: true, media: 'video' });
    // A free string at fal: "intelligent" (accepted by sibling O3 endpoints) must not be refused.
    expect(def?.input.shot_type).toMatchObject({ type: 'string', default: 'customize' });
    expect(def?.input.shot_type?.enum).toBeUndefined();
    expect(def?.output.kind).toBe('video');
    expect(def?.limits?.video).toEqual({
      formats: ['mp4', 'mov'],
      minDurationSeconds: 3,
      maxDurationSeconds: 15,
      minDimension: 720,
      maxDimension: 3840,
      maxBytes: 200 * 1024 * 1024,
    });
  });
});

describe('warnings and notes', () => {
  it('an unknown field blocks with a did-you-mean; force sends it with a warning', async () => {
    const input = { prompt: 'x', num_image: 2 };
    const report = await registry.validate('fal-ai/nano-banana-pro', input);
    expect(report.ok).toBe(false);
    expect(report.warnings).toEqual([]);
    expect(report.issues).toEqual([
      {
        path: ['num_image'],
        kind: 'unknown',
        message: 'Unknown field: num_image (the model does not declare it)',
        hint: 'did you mean "num_images"?',
      },
    ]);
    const forced = await registry.validate('fal-ai/nano-banana-pro', input, { force: true });
    expect(forced).toMatchObject({ ok: true, issues: [] });
    expect(forced.warnings.map((w) => w.message)).toEqual([
      'Unknown field: num_image (the model does not declare it) (sent anyway: the override was given)',
    ]);
  });

  it('force turns what the definition decides into warnings, never missing fields, unsafe keys or bad media', async () => {
    const forced = await registry.validate(
      'fal-ai/flux/dev/image-to-image',
      {
        image_url: './no-such-file.png',
        strength: 0,
        seed: Number('1.7454220438242315174e19'),
        sync_mode: 'yes',
      },
      { force: true },
    );
    expect(forced.issues.map((i) => [i.path.join('.'), i.kind])).toEqual([
      ['prompt', 'required'],
      ['seed', 'precision'],
      ['image_url', 'media'],
    ]);
    expect(forced.warnings.map((w) => [w.path.join('.'), w.kind])).toEqual([
      ['strength', 'range'],
      ['sync_mode', 'type'],
    ]);
    const unsafe = await registry.validate(
      'fal-ai/nano-banana-pro',
      JSON.parse('{"prompt":"x","__proto__":{"polluted":true}}'),
      { force: true },
    );
    expect(unsafe.ok).toBe(false);
    expect(unsafe.issues[0]).toMatchObject({ path: ['__proto__'], kind: 'unsafe-key' });
  });

  it('breaking an unconfirmed limit is only a warning', async () => {
    const report = await registry.validate('fal-ai/nano-banana-pro', {
      prompt: 'x',
      system_prompt: 'y'.repeat(50_001),
    });
    expect(report.ok).toBe(true);
    expect(report.warnings[0]?.message).toBe(
      'system_prompt is 50001 characters long; at most 50000 allowed (this limit is not confirmed by fal; the input is sent anyway)',
    );
  });

  it('an explicit null for an optional field passes, as at fal; a required one is missing', async () => {
    const report = await registry.validate('fal-ai/flux/dev/image-to-image', {
      prompt: 'x',
      image_url: 'https://a.test/a.png',
      seed: null,
      strength: null,
      output_format: null,
      sync_mode: null,
    });
    expect(report).toMatchObject({ ok: true, issues: [], warnings: [] });
    const kling = await registry.validate(KP, {
      prompt: '@Video1',
      video_url: 'https://a.test/v.mp4',
      image_urls: null,
      elements: [{ frontal_image_url: null, reference_image_urls: null }],
      shot_type: null,
    });
    expect(kling).toMatchObject({ ok: true, issues: [], warnings: [] });
    const missing = await registry.validate('fal-ai/nano-banana-pro', { prompt: null });
    expect(missing.issues[0]?.message).toBe('Missing required field: prompt');
  });

  it('Kling O3 edit takes what fal takes: shot_type "intelligent", empty lists', async () => {
    for (const id of [KP, 'fal-ai/kling-video/o3/standard/video-to-video/edit']) {
      const report = await registry.validate(id, {
        prompt: '@Video1 in snow',
        video_url: 'https://a.test/v.mp4',
        shot_type: 'intelligent',
        image_urls: [],
        elements: [],
      });
      expect(report, id).toMatchObject({ ok: true, issues: [], warnings: [] });
    }
  });

  it('FLUX image-to-image refuses what fal refuses: strength 0, fewer than 10 steps', async () => {
    const report = await registry.validate('fal-ai/flux/dev/image-to-image', {
      prompt: 'x',
      image_url: 'https://a.test/a.png',
      strength: 0,
      num_inference_steps: 1,
    });
    expect(report.warnings).toEqual([]);
    expect(report.issues.map((i) => i.message)).toEqual([
      'strength must be between 0.01 and 1; got number 0',
      'num_inference_steps must be between 10 and 50; got number 1',
    ]);
  });

  it('integers beyond 2^53 stay exact: accepted by integer fields, bounds compared exactly', async () => {
    const seed = 17454220438242315174n;
    const input = { prompt: 'x', image_url: 'https://a.test/a.png', seed };
    const report = await registry.validate('fal-ai/flux/dev/image-to-image', input);
    expect(report).toMatchObject({ ok: true, issues: [], warnings: [] });
    expect(input.seed).toBe(seed);
    const negative = await registry.validate('fal-ai/flux/dev/image-to-image', {
      ...input,
      num_inference_steps: -17454220438242315174n,
    });
    expect(negative.issues.map((i) => i.message)).toEqual([
      'num_inference_steps must be between 10 and 50; got number -17454220438242315174',
    ]);
  });

  it('a video model prompt without @Video1 gets a note; wrong case gets a warning', async () => {
    const report = await registry.validate(KP, {
      prompt: 'make it snowy like @image1',
      video_url: 'https://a.test/v.mp4',
      image_urls: ['https://a.test/a.png'],
    });
    expect(report.ok).toBe(true);
    expect(report.notes).toContain('Reference the source video in the prompt as @Video1');
    expect(report.notes).toContain(
      'Max 4 total elements (reference images + elements combined) when a video is given',
    );
    expect(report.warnings[0]).toMatchObject({ kind: 'reference', hint: 'write @Image1' });
  });

  it('local media: a PNG named .jpg is accepted with a warning; a mislabelled data URI too', async () => {
    const report = await registry.validate('fal-ai/flux/dev/image-to-image', {
      prompt: 'x',
      image_url: `${FIXTURES}png-named.jpg`,
    });
    expect(report.ok).toBe(true);
    expect(report.warnings[0]?.message).toMatch(
      /is named \.jpg but its content is PNG; it is sent as image\/png/,
    );
    const png = readFileSync(`${FIXTURES}png-named.jpg`).toString('base64');
    const data = await registry.validate('fal-ai/flux/dev/image-to-image', {
      prompt: 'x',
      image_url: `data:image/jpeg;base64,${png}`,
    });
    expect(data.warnings[0]?.message).toBe(
      'image_url: the data URI says image/jpeg but its content is image/png',
    );
  });

  it('local videos inside the limits pass; checkMedia: false skips reading files', async () => {
    for (const name of ['ok-1280x720-4s.mp4', 'ok-1280x720-4s.mov', 'ok-720x1280-5s.mp4']) {
      const report = await registry.validate(KP, {
        prompt: '@Video1',
        video_url: `${FIXTURES}${name}`,
      });
      expect(report.issues).toEqual([]);
    }
    const relative = await registry.validate(
      KP,
      { prompt: '@Video1', video_url: 'ok-1280x720-4s.mov' },
      { cwd: FIXTURES },
    );
    expect(relative.ok).toBe(true);
    const skipped = await registry.validate(
      KP,
      { prompt: '@Video1', video_url: `${FIXTURES}short-1280x720-2s.mp4` },
      { checkMedia: false },
    );
    expect(skipped.ok).toBe(true);
  });
});

describe('reports', () => {
  it('formats like the seed and assertValid throws every issue', async () => {
    const report = await registry.validate(KP, {
      prompt: 'snow',
      image_urls: ['https://a.test/a.png'],
    });
    expect(formatValidationReport(report)).toBe(
      [
        '⚠️  Note: Max 4 total elements (reference images + elements combined) when a video is given',
        '❌ Validation failed:',
        '   - Missing required field: video_url (add "video_url": "./clip.mp4")',
      ].join('\n'),
    );
    const err = (() => {
      try {
        assertValid(report);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('INPUT_INVALID');
    expect((err as InputError).issues).toEqual(report.issues);
    // "❌ Validation failed" and the issue each once, after a line naming the endpoint.
    expect((err as InputError).message).toBe(
      [
        `Invalid input for ${KP}:`,
        '⚠️  Note: Max 4 total elements (reference images + elements combined) when a video is given',
        '❌ Validation failed:',
        '   - Missing required field: video_url (add "video_url": "./clip.mp4")',
      ].join('\n'),
    );
  });

  it('unknown endpoints: a clear warning, or MODEL_UNKNOWN in strict mode', async () => {
    const loose = await registry.validate('acme/new-model', { prompt: 'x' });
    expect(loose).toMatchObject({ ok: true, known: false, issues: [] });
    expect(loose.warnings[0]?.message).toBe(
      'No model definition for "acme/new-model": the input is not validated',
    );
    expect(formatValidationReport(loose)).toMatch(/^⚠️ {2}Warning: No model definition/);
    expect(() => assertValid(loose)).not.toThrow();
    const strict = await registry.validate('acme/new-model', { prompt: 'x' }, { strict: true });
    expect(strict.ok).toBe(false);
    expect(() => assertValid(strict)).toThrow(expect.objectContaining({ code: 'MODEL_UNKNOWN' }));
  });

  it('jsonSchema describes the input; unknown ids are MODEL_UNKNOWN', () => {
    const schema = registry.jsonSchema(KP) as {
      required: string[];
      properties: Record<string, Record<string, unknown>>;
    };
    expect(schema.required).toEqual(['prompt', 'video_url']);
    expect(schema.properties.video_url).toMatchObject({ type: 'string', 'x-falai-file': 'video' });
    expect(schema.properties.elements?.items).toMatchObject({ type: 'object' });
    expect(() => registry.jsonSchema('acme/x')).toThrow(
      expect.objectContaining({ code: 'MODEL_UNKNOWN' }),
    );
  });

  it('fileFields finds nested file locations', () => {
    const refs = registry.fileFields(KP, {
      prompt: 'x',
      video_url: 'v.mp4',
      image_urls: ['a.png'],
      elements: [{ frontal_image_url: 'f.png', reference_image_urls: ['r1.png', 'r2.png'] }],
    });
    expect(refs.map((r) => [r.path, r.value, r.media])).toEqual([
      [['video_url'], 'v.mp4', 'video'],
      [['image_urls', 0], 'a.png', 'image'],
      [['elements', 0, 'frontal_image_url'], 'f.png', 'image'],
      [['elements', 0, 'reference_image_urls', 0], 'r1.png', 'image'],
      [['elements', 0, 'reference_image_urls', 1], 'r2.png', 'image'],
    ]);
    expect(
      registry
        .fileFields('acme/x', { mask_url: 'm.png', video_urls: ['a.mp4'], prompt: 'p' })
        .map((r) => [r.path, r.media]),
    ).toEqual([
      [['mask_url'], 'image'],
      [['video_urls', 0], 'video'],
    ]);
  });
});

describe('user model directories', () => {
  const userA = join(tmp, 'a');
  const userB = join(tmp, 'b');
  writeModel(userA, tiny('acme/tiny'));
  const overrideFile = writeModel(userB, {
    ...JSON.parse(readFileSync(join(modelsDir, 'fal-ai/nano-banana-pro.json'), 'utf8')),
    description: 'My own nano-banana-pro with a stricter limit.',
    input: { prompt: { type: 'string', required: true, maxLength: 10 } },
    example: { prompt: 'short' },
  });
  writeModel(userB, { ...tiny('acme/broken'), input: { prompt: { type: 'text' } } });
  mkdirSync(join(userB, 'acme'), { recursive: true });
  writeFileSync(join(userB, 'acme', 'garbage.json'), '{ not json');
  writeFileSync(join(userB, 'acme', 'elsewhere.json'), JSON.stringify(tiny('acme/other-id')));

  const users = createModelRegistry({ userDirs: [userA, userB] });

  it('loads user models beside the built-ins', async () => {
    expect(users.has('acme/tiny')).toBe(true);
    expect(users.list().find((m) => m.endpointId === 'acme/tiny')).toMatchObject({
      source: 'user',
    });
    const report = await users.validate('acme/tiny', { prompt: 'x', steps: 9 });
    expect(report.issues[0]?.message).toBe('steps must be at most 8; got number 9');
  });

  it('a user file overrides the built-in, with a note', async () => {
    expect(users.list().find((m) => m.endpointId === 'fal-ai/nano-banana-pro')).toMatchObject({
      source: 'user',
      overrides: true,
      file: overrideFile,
    });
    const report = await users.validate('fal-ai/nano-banana-pro', {
      prompt: 'much too long prompt',
    });
    expect(report.notes[0]).toBe(
      `Using the user model file ${overrideFile} (it overrides the built-in definition)`,
    );
    expect(report.issues[0]?.message).toBe('prompt is 20 characters long; at most 10 allowed');
  });

  it('broken user files are skipped and reported with file and field', async () => {
    const problems = users.problems();
    expect(problems.map((p) => [p.file.slice(userB.length + 1), p.field])).toEqual([
      ['acme/broken.json', 'input.prompt.type'],
      ['acme/elsewhere.json', 'endpointId'],
      ['acme/garbage.json', '(file)'],
    ]);
    expect(users.has('acme/broken')).toBe(false);
    const report = await users.validate('acme/broken', { prompt: 'x' });
    expect(report.known).toBe(false);
    expect(report.warnings[0]?.message).toMatch(
      /Model file .*broken\.json was skipped: "input\.prompt\.type" must be one of string/,
    );
  });

  it('strictFiles turns a broken user file into a ConfigError', () => {
    const strict = createModelRegistry({ userDirs: [userB], strictFiles: true });
    expect(() => strict.list()).toThrow(ConfigError);
  });

  it('builtinDir replaces the built-in models; a package.json at its top is not a model', () => {
    writeFileSync(join(userA, 'package.json'), '{"name":"my-models"}');
    const own = createModelRegistry({ builtinDir: userA });
    expect(own.list().map((m) => [m.endpointId, m.source])).toEqual([['acme/tiny', 'builtin']]);
    expect(own.problems()).toEqual([]);
    expect(own.has('fal-ai/nano-banana-pro')).toBe(false);
  });
});

describe('unconfirmed rules warn; confirmed ones refuse', () => {
  const dir = join(tmp, 'unconfirmed');
  const model = (endpointId: string, unconfirmed: string[]) =>
    tiny(endpointId, {
      input: {
        prompt: { type: 'string', required: true },
        style: { type: 'string', enum: ['photo', 'anime'] },
        image_url: { type: 'file', media: 'image', formats: ['png'] },
        video_url: { type: 'file', media: 'video' },
        seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
      },
      limits: {
        image: { formats: ['png'], maxBytes: 500 },
        video: { formats: ['mp4'], maxDurationSeconds: 3 },
      },
      unconfirmed,
    });
  writeModel(
    dir,
    model('acme/unsure', ['input.style.enum', 'limits.image', 'limits.video.maxDurationSeconds']),
  );
  writeModel(dir, model('acme/sure', []));
  const models = createModelRegistry({ userDirs: [dir] });
  const input = {
    prompt: 'x',
    style: 'watercolor',
    image_url: `${FIXTURES}photo-320x240.jpg`,
    video_url: `${FIXTURES}ok-1280x720-4s.mp4`,
  };

  it('an unconfirmed enum, image size or format, or video limit only warns', async () => {
    const report = await models.validate('acme/unsure', input);
    expect(report.issues).toEqual([]);
    expect(report.warnings.map((w) => w.message)).toEqual([
      'style must be one of "photo", "anime"; got string "watercolor" (this limit is not confirmed by fal; the input is sent anyway)',
      expect.stringMatching(
        /^image_url: .*photo-320x240\.jpg is 674 B; at most 500 B allowed \(this limit is not confirmed by fal; the input is sent anyway\)$/,
      ),
      'image_url: …/photo-320x240.jpg is JPG (image/jpeg); accepted: .png (this limit is not confirmed by fal; the input is sent anyway)'.replace(
        '…',
        FIXTURES.slice(0, -1),
      ),
      'video_url: the video is 4 s long; it must be at most 3 s (this limit is not confirmed by fal; the input is sent anyway)',
    ]);
  });

  it('the same rules, confirmed, refuse', async () => {
    const report = await models.validate('acme/sure', input);
    expect(report.warnings).toEqual([]);
    expect(report.issues.map((i) => [i.path.join('.'), i.kind])).toEqual([
      ['style', 'enum'],
      ['image_url', 'media'],
      ['video_url', 'media'],
    ]);
  });

  it('a 64-bit integer beyond a field maximum is refused with every digit shown', async () => {
    const report = await models.validate('acme/sure', { prompt: 'x', seed: 17454220438242315174n });
    expect(report.issues.map((i) => i.message)).toEqual([
      'seed must be between 0 and 4294967295; got number 17454220438242315174',
    ]);
    const inRange = await models.validate('acme/sure', { prompt: 'x', seed: 4294967295n });
    expect(inRange.ok).toBe(true);
  });
});

describe('model files cannot reach object internals', () => {
  it('refuses __proto__, constructor and prototype keys and bounds JSON cannot hold', () => {
    const dir = join(tmp, 'hostile');
    const file = writeModel(dir, tiny('acme/hostile'));
    writeFileSync(
      file,
      JSON.stringify(tiny('acme/hostile')).replace(
        '"input":{',
        '"input":{"constructor":{"type":"string"},',
      ),
    );
    const huge = writeModel(dir, {
      ...tiny('acme/huge'),
      input: { seed: { type: 'integer', maximum: 0 } },
      example: {},
    });
    // 2^64 - 1 as fal's OpenAPI might write it; JSON.parse rounds it to 18446744073709552000.
    writeFileSync(
      huge,
      readFileSync(huge, 'utf8').replace('"maximum":0', '"maximum":18446744073709551615'),
    );
    const models = createModelRegistry({ userDirs: [dir] });
    expect(models.has('acme/hostile')).toBe(false);
    expect(models.has('acme/huge')).toBe(false);
    expect(models.problems().map((p) => [p.field, p.message])).toEqual([
      [
        'input.constructor',
        '"constructor" is not allowed as a key in a model file (__proto__, constructor and prototype reach into JavaScript objects); rename or remove it',
      ],
      [
        'input.seed.maximum',
        '18446744073709552000 is beyond 2^53, where a JSON number loses digits; leave the bound out (fal still enforces it) or give one within ±9007199254740991',
      ],
    ]);
  });
});

describe('model file cross-references use own fields only', () => {
  it('a reference to an inherited name such as "toString" is not an input field', () => {
    const problems = checkDefinition(
      tiny('acme/refs', {
        references: { promptField: 'toString', tokens: [{ token: 'Image', field: 'constructor' }] },
      }),
    );
    expect(problems.map((p) => [p.field, p.message])).toEqual([
      ['references.tokens.0.field', '"constructor" is not an input field'],
      ['references.promptField', '"toString" is not an input field'],
    ]);
  });
});

describe('assertValid names the override', () => {
  const error = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      return e as InputError;
    }
    throw new Error('did not throw');
  };

  it('when every issue is the definition’s call, the message ends with the override', async () => {
    const report = await registry.validate('fal-ai/nano-banana-pro', { prompt: 'x', numimages: 2 });
    const err = error(() => assertValid(report, { override: '--force-input' }));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toBe(
      [
        'Invalid input for fal-ai/nano-banana-pro:',
        '❌ Validation failed:',
        '   - Unknown field: numimages (the model does not declare it) (did you mean "num_images"?)',
        "Nothing was sent. If fal's model accepts this and falai's definition is behind, send it as it is with --force-input (fal may still refuse it, or charge for it).",
      ].join('\n'),
    );
    expect(err.toJSON().details).toMatchObject({ override: '--force-input' });
  });

  it('no override is offered when it would not help (a missing local file)', async () => {
    const report = await registry.validate('fal-ai/flux/dev/image-to-image', {
      prompt: 'x',
      image_url: './no-such-file.png',
      numimages: 2,
    });
    const err = error(() => assertValid(report, { override: '--force-input' }));
    expect(err.message).not.toContain('--force-input');
    expect(err.toJSON().details).not.toHaveProperty('override');
  });
});
