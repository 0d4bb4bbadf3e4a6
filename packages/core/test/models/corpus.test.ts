import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createModelRegistry } from '../../src/models/index.js';

/**
 * The invalid-input corpus: each input must yield an issue at the expected path whose
 * message contains the expected fragment (and carries a hint on how to fix it).
 */
const registry = createModelRegistry();
const FIXTURES = fileURLToPath(new URL('../fixtures/media/', import.meta.url));
const dataUri = (name: string, mime: string) =>
  `data:${mime};base64,${readFileSync(FIXTURES + name).toString('base64')}`;

const NB = 'fal-ai/nano-banana-pro';
const NBE = 'fal-ai/nano-banana-pro/edit';
const FLUX = 'fal-ai/flux/dev/image-to-image';
const KP = 'fal-ai/kling-video/o3/pro/video-to-video/edit';
const KS = 'fal-ai/kling-video/o3/standard/video-to-video/edit';

const base: Record<string, Record<string, unknown>> = {
  [NB]: { prompt: 'a cat on the moon' },
  [NBE]: { prompt: 'make it snow', image_urls: ['https://a.test/a.png'] },
  [FLUX]: { prompt: 'anime', image_url: 'https://a.test/a.png' },
  [KP]: { prompt: 'snow over @Video1', video_url: 'https://a.test/v.mp4' },
  [KS]: { prompt: 'snow over @Video1', video_url: 'https://a.test/v.mp4' },
};
const img = (n: number) => Array.from({ length: n }, (_, i) => `https://a.test/${i}.png`);
const without = (o: Record<string, unknown>, key: string) => {
  const { [key]: _, ...rest } = o;
  return rest;
};

type Case = [
  name: string,
  endpoint: string,
  input: unknown,
  path: (string | number)[],
  fragment: string | RegExp,
];

const cases: Case[] = [
  // nano-banana-pro
  ['missing prompt', NB, {}, ['prompt'], 'Missing required field: prompt'],
  ['empty prompt', NB, { prompt: '' }, ['prompt'], 'Empty required field: prompt'],
  ['blank prompt', NB, { prompt: '   ' }, ['prompt'], 'Empty required field: prompt'],
  ['null prompt', NB, { prompt: null }, ['prompt'], 'Missing required field: prompt'],
  ['numeric prompt', NB, { prompt: 42 }, ['prompt'], 'prompt must be a string; got number 42'],
  [
    'bad aspect ratio',
    NB,
    { ...base[NB], aspect_ratio: '16:10' },
    ['aspect_ratio'],
    'aspect_ratio must be one of "auto", "21:9"',
  ],
  [
    'bad resolution',
    NB,
    { ...base[NB], resolution: '8K' },
    ['resolution'],
    'resolution must be one of "1K", "2K", "4K"; got string "8K"',
  ],
  [
    'bad output format',
    NB,
    { ...base[NB], output_format: 'gif' },
    ['output_format'],
    'output_format must be one of "jpeg", "png", "webp"',
  ],
  [
    'safety tolerance as number',
    NB,
    { ...base[NB], safety_tolerance: 4 },
    ['safety_tolerance'],
    'got number 4',
  ],
  [
    'fractional seed',
    NB,
    { ...base[NB], seed: 1.5 },
    ['seed'],
    'seed must be a whole number; got number 1.5',
  ],
  [
    'seed as string',
    NB,
    { ...base[NB], seed: '42' },
    ['seed'],
    'seed must be an integer; got string "42"',
  ],
  [
    'sync_mode as string',
    NB,
    { ...base[NB], sync_mode: 'true' },
    ['sync_mode'],
    'sync_mode must be true or false',
  ],
  [
    'zero images',
    NB,
    { ...base[NB], num_images: 0 },
    ['num_images'],
    'num_images must be between 1 and 4; got number 0',
  ],
  [
    'num_images as word',
    NB,
    { ...base[NB], num_images: 'two' },
    ['num_images'],
    'num_images must be an integer',
  ],
  ['input not an object', NB, 'a cat', [], 'The input must be a JSON object, got string "a cat"'],
  ['input is a list', NB, ['a cat'], [], 'The input must be a JSON object'],
  ['misspelt field', NB, { ...base[NB], numimages: 2 }, ['numimages'], 'Unknown field: numimages'],
  // nano-banana-pro/edit
  [
    'missing image_urls',
    NBE,
    { prompt: 'x' },
    ['image_urls'],
    'Missing required field: image_urls',
  ],
  [
    'empty image_urls',
    NBE,
    { prompt: 'x', image_urls: [] },
    ['image_urls'],
    'Empty required field: image_urls',
  ],
  [
    'image_urls as string',
    NBE,
    { prompt: 'x', image_urls: 'https://a.test/a.png' },
    ['image_urls'],
    'image_urls must be a list of images',
  ],
  [
    'ftp image url',
    NBE,
    { prompt: 'x', image_urls: ['ftp://a.test/a.png'] },
    ['image_urls', 0],
    'the scheme "ftp:" is not supported',
  ],
  [
    'empty image url item',
    NBE,
    { prompt: 'x', image_urls: ['https://a.test/a.png', ''] },
    ['image_urls', 1],
    'image_urls[1] is empty',
  ],
  [
    'number as image url',
    NBE,
    { prompt: 'x', image_urls: [42] },
    ['image_urls', 0],
    'image_urls[0] must be an image',
  ],
  [
    'data URI without comma',
    NBE,
    { prompt: 'x', image_urls: ['data:image/png;base64'] },
    ['image_urls', 0],
    'malformed data URI',
  ],
  [
    'URL without host',
    NBE,
    { prompt: 'x', image_urls: ['https://'] },
    ['image_urls', 0],
    'not a valid URL',
  ],
  [
    'edit: missing prompt',
    NBE,
    { image_urls: img(1) },
    ['prompt'],
    'Missing required field: prompt',
  ],
  [
    'edit: bad aspect ratio case',
    NBE,
    { ...base[NBE], aspect_ratio: 'AUTO' },
    ['aspect_ratio'],
    'got string "AUTO"',
  ],
  // flux/dev/image-to-image
  [
    'flux: missing image_url',
    FLUX,
    { prompt: 'x' },
    ['image_url'],
    'Missing required field: image_url',
  ],
  [
    'flux: missing prompt',
    FLUX,
    { image_url: 'https://a.test/a.png' },
    ['prompt'],
    'Missing required field: prompt',
  ],
  [
    'flux: strength above 1',
    FLUX,
    { ...base[FLUX], strength: 1.5 },
    ['strength'],
    'strength must be between 0.01 and 1; got number 1.5',
  ],
  [
    // fal's schema says 0.01-1 (fal-js zod types); falai used to accept 0 and send it.
    'flux: zero strength',
    FLUX,
    { ...base[FLUX], strength: 0 },
    ['strength'],
    'strength must be between 0.01 and 1; got number 0',
  ],
  [
    // 10-50 at fal; 1-9 used to be only a warning, so they were sent and paid for.
    'flux: nine inference steps',
    FLUX,
    { ...base[FLUX], num_inference_steps: 9 },
    ['num_inference_steps'],
    'num_inference_steps must be between 10 and 50; got number 9',
  ],
  [
    'flux: guidance above 20',
    FLUX,
    { ...base[FLUX], guidance_scale: 25 },
    ['guidance_scale'],
    'guidance_scale must be between 1 and 20; got number 25',
  ],
  [
    'flux: seed beyond 2^53 written with an exponent',
    FLUX,
    { ...base[FLUX], seed: Number('1.7454220438242315174e19') },
    ['seed'],
    'an integer beyond 2^53 written as a decimal or with an exponent',
  ],
  [
    'flux: 64-bit integer in a decimal field',
    FLUX,
    { ...base[FLUX], strength: 17454220438242315174n },
    ['strength'],
    'strength is a decimal number, which cannot hold 17454220438242315174 exactly',
  ],
  [
    'flux: misspelt field',
    FLUX,
    { ...base[FLUX], numimages: 2 },
    ['numimages'],
    'Unknown field: numimages (the model does not declare it)',
  ],
  [
    'flux: negative strength',
    FLUX,
    { ...base[FLUX], strength: -0.1 },
    ['strength'],
    'strength must be between 0.01 and 1',
  ],
  [
    'flux: strength as word',
    FLUX,
    { ...base[FLUX], strength: 'high' },
    ['strength'],
    'strength must be a number; got string "high"',
  ],
  [
    'flux: image_url as list',
    FLUX,
    { ...base[FLUX], image_url: ['https://a.test/a.png'] },
    ['image_url'],
    'image_url must be an image (.jpg/.png/.webp/.gif): an http(s) URL, a data URI or a local file path; got a list of 1',
  ],
  [
    'flux: webp output',
    FLUX,
    { ...base[FLUX], output_format: 'webp' },
    ['output_format'],
    'output_format must be one of "jpeg", "png"',
  ],
  [
    'flux: bad acceleration',
    FLUX,
    { ...base[FLUX], acceleration: 'turbo' },
    ['acceleration'],
    'acceleration must be one of "none", "regular", "high"',
  ],
  [
    'flux: safety checker as string',
    FLUX,
    { ...base[FLUX], enable_safety_checker: 'no' },
    ['enable_safety_checker'],
    'must be true or false',
  ],
  [
    'flux: fractional steps',
    FLUX,
    { ...base[FLUX], num_inference_steps: 2.5 },
    ['num_inference_steps'],
    'must be a whole number',
  ],
  [
    'flux: missing local file',
    FLUX,
    { ...base[FLUX], image_url: './no-such-file.png' },
    ['image_url'],
    'image_url: file not found: ./no-such-file.png',
  ],
  [
    'flux: video given as image',
    FLUX,
    { ...base[FLUX], image_url: `${FIXTURES}ok-1280x720-4s.mp4` },
    ['image_url'],
    'is not an image; its content is video/mp4',
  ],
  [
    'flux: data URI of text as image',
    FLUX,
    { ...base[FLUX], image_url: 'data:image/png;base64,aGVsbG8gd29ybGQ=' },
    ['image_url'],
    'is not an image; its content is text/plain',
  ],
  // kling o3 pro
  [
    'kling: missing video_url',
    KP,
    { prompt: 'x' },
    ['video_url'],
    'Missing required field: video_url',
  ],
  [
    'kling: empty video_url',
    KP,
    { prompt: 'x', video_url: '' },
    ['video_url'],
    'Empty required field: video_url',
  ],
  [
    'kling: @Image1 without images',
    KP,
    { ...base[KP], prompt: '@Video1 like @Image1' },
    ['prompt'],
    'The prompt refers to @Image1 but no image_urls are given',
  ],
  [
    'kling: @Image3 with two images',
    KP,
    { ...base[KP], prompt: '@Video1 @Image3', image_urls: img(2) },
    ['prompt'],
    'The prompt refers to @Image3 but image_urls has only 2',
  ],
  [
    'kling: @Element2 with one element',
    KP,
    {
      ...base[KP],
      prompt: '@Video1 @Element2',
      elements: [{ frontal_image_url: 'https://a.test/f.png' }],
    },
    ['prompt'],
    'refers to @Element2 but elements has only 1',
  ],
  [
    'kling: @Video2',
    KP,
    { ...base[KP], prompt: 'cut @Video2' },
    ['prompt'],
    'refers to @Video2 but video_url has only 1',
  ],
  [
    'kling: @Image0',
    KP,
    { ...base[KP], prompt: '@Video1 @Image0', image_urls: img(1) },
    ['prompt'],
    'refers to @Image0',
  ],
  [
    'kling: five images',
    KP,
    { ...base[KP], image_urls: img(5) },
    ['image_urls'],
    'image_urls has 5 items; at most 4 allowed',
  ],
  [
    'kling: images + elements over 4',
    KP,
    {
      ...base[KP],
      image_urls: img(3),
      elements: [
        { frontal_image_url: 'https://a.test/f.png' },
        { frontal_image_url: 'https://a.test/g.png' },
      ],
    },
    ['image_urls'],
    'Too many references: 3 image_urls + 2 elements = 5; at most 4 in total',
  ],
  [
    'kling: four element references',
    KP,
    { ...base[KP], elements: [{ reference_image_urls: img(4) }] },
    ['elements', 0, 'reference_image_urls'],
    'elements[0].reference_image_urls has 4 items; at most 3 allowed',
  ],
  [
    'kling: numeric frontal image',
    KP,
    { ...base[KP], elements: [{ frontal_image_url: 7 }] },
    ['elements', 0, 'frontal_image_url'],
    'elements[0].frontal_image_url must be an image',
  ],
  [
    'kling: elements as string',
    KP,
    { ...base[KP], elements: 'cat' },
    ['elements'],
    'elements must be a list of objects',
  ],
  [
    'kling: unknown field inside an element',
    KP,
    { ...base[KP], elements: [{ frontal_image: 'https://a.test/f.png' }] },
    ['elements', 0, 'frontal_image'],
    'Unknown field: elements[0].frontal_image',
  ],
  [
    'kling: keep_audio as string',
    KP,
    { ...base[KP], keep_audio: 'false' },
    ['keep_audio'],
    'keep_audio must be true or false; got string "false"',
  ],
  [
    'kling: shot type as number',
    KP,
    { ...base[KP], shot_type: 2 },
    ['shot_type'],
    'shot_type must be a string; got number 2',
  ],
  [
    'kling: rtsp video',
    KP,
    { ...base[KP], video_url: 'rtsp://cam/1' },
    ['video_url'],
    'the scheme "rtsp:" is not supported',
  ],
  // kling o3 standard, with real media
  [
    'kling std: missing prompt',
    KS,
    { video_url: 'https://a.test/v.mp4' },
    ['prompt'],
    'Missing required field: prompt',
  ],
  [
    'kling std: too short',
    KS,
    { ...base[KS], video_url: `${FIXTURES}short-1280x720-2s.mp4` },
    ['video_url'],
    'the video is 2 s long; it must be 3–15 s',
  ],
  [
    'kling std: too long (mov)',
    KS,
    { ...base[KS], video_url: `${FIXTURES}long-1280x720-16s.mov` },
    ['video_url'],
    'the video is 16 s long; it must be 3–15 s',
  ],
  [
    'kling std: too small',
    KS,
    { ...base[KS], video_url: `${FIXTURES}small-640x360-4s.mp4` },
    ['video_url'],
    '640×360 px; width and height must each be 720–3840 px',
  ],
  [
    'kling std: too large (mov)',
    KS,
    { ...base[KS], video_url: `${FIXTURES}large-4096x2160-4s.mov` },
    ['video_url'],
    '4096×2160 px',
  ],
  [
    'kling std: truncated',
    KS,
    { ...base[KS], video_url: `${FIXTURES}truncated-half.mp4` },
    ['video_url'],
    "is truncated: box 'mdat'",
  ],
  [
    'kling std: text named .mp4',
    KS,
    { ...base[KS], video_url: `${FIXTURES}text-named.mp4` },
    ['video_url'],
    'is not a video; its content is text/plain',
  ],
  [
    'kling std: image as reference video',
    KS,
    { ...base[KS], video_url: `${FIXTURES}photo-320x240.jpg` },
    ['video_url'],
    'is not a video; its content is image/jpeg',
  ],
  [
    'kling std: video as reference image',
    KS,
    { ...base[KS], image_urls: [`${FIXTURES}ok-1280x720-4s.mp4`] },
    ['image_urls', 0],
    'is not an image; its content is video/mp4',
  ],
  [
    'kling std: short video as data URI',
    KS,
    { ...base[KS], video_url: dataUri('short-1280x720-2s.mp4', 'video/mp4') },
    ['video_url'],
    'the video is 2 s long',
  ],
  [
    'kling std: truncated PNG element',
    KS,
    {
      ...base[KS],
      elements: [
        {
          frontal_image_url: `data:image/png;base64,${readFileSync(`${FIXTURES}image-800x600.png`).subarray(0, 40).toString('base64')}`,
        },
      ],
    },
    ['elements', 0, 'frontal_image_url'],
    'truncated or damaged',
  ],
];

describe('invalid-input corpus', () => {
  it('has at least 40 cases over all five models', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c[1])).size).toBe(5);
  });

  it.each(cases)('%s', async (_name, endpoint, input, path, fragment) => {
    const report = await registry.validate(endpoint, input);
    expect(report.ok).toBe(false);
    expect(report.known).toBe(true);
    const match = report.issues.find(
      (i) =>
        JSON.stringify(i.path) === JSON.stringify(path) &&
        (typeof fragment === 'string' ? i.message.includes(fragment) : fragment.test(i.message)),
    );
    expect(match, JSON.stringify(report.issues, null, 1)).toBeDefined();
    // Every issue says how to fix it: a hint, or a message that names the fix itself.
    const fixText = `${match?.hint ?? ''} ${match?.message ?? ''}`;
    expect(
      match?.hint !== undefined ||
        /\b(add|use|give|remove|refer|get|download|export|re-export|convert|trim|scale|compress|check|must be one of|at most|at least)\b/i.test(
          fixText,
        ),
      `no fix for: ${fixText}`,
    ).toBe(true);
  });

  it('reports every problem at once, never just the first', async () => {
    const report = await registry.validate(KP, {
      video_url: 'ftp://x/v.mp4',
      image_urls: img(3),
      elements: [{ frontal_image_url: 1 }, {}],
      keep_audio: 'yes',
      shot_type: 5,
    });
    expect(report.issues.map((i) => i.path.join('.')).sort()).toEqual(
      [
        'elements.0.frontal_image_url',
        'image_urls',
        'keep_audio',
        'prompt',
        'shot_type',
        'video_url',
      ].sort(),
    );
  });
});

export { base, without };
