import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../../src/errors/falai-error.js';
import {
  assertValid,
  createModelRegistry,
  defaultModelsDir,
  formatValidationReport,
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
    expect(defaultModelsDir()).toBe(fileURLToPath(new URL('../../../../models', import.meta.url)));
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
    expect(def?.input.shot_type?.enum).toEqual(['customize']);
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
  it('unknown fields are warnings with a did-you-mean', async () => {
    const report = await registry.validate('fal-ai/nano-banana-pro', { prompt: 'x', num_image: 2 });
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([
      expect.objectContaining({
        path: ['num_image'],
        kind: 'unknown',
        hint: 'did you mean "num_images"?',
      }),
    ]);
  });

  it('breaking an unconfirmed limit is only a warning', async () => {
    const report = await registry.validate('fal-ai/nano-banana-pro', {
      prompt: 'x',
      num_images: 9,
    });
    expect(report.ok).toBe(true);
    expect(report.warnings[0]?.message).toBe(
      'num_images must be between 1 and 4; got number 9 (this limit is not confirmed by fal; the input is sent anyway)',
    );
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
    ...JSON.parse(readFileSync(join(defaultModelsDir(), 'fal-ai/nano-banana-pro.json'), 'utf8')),
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
});
