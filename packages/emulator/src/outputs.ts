import { readFile, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FileStore } from './files.js';
import type { ModelDefinition } from './models.js';
import type { Prng } from './prng.js';

/** Everything output generation needs about one job. */
export interface OutputContext {
  endpointId: string;
  requestId: string;
  definition?: ModelDefinition | undefined;
  input: unknown;
  prng: Prng;
  files: FileStore;
  origin: string;
  runSeconds: number;
  /** `true` flags every image as NSFW, a number is the chance per image. */
  nsfw?: boolean | number | undefined;
}

const FORMATS = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
} as const;
type ImageFormat = keyof typeof FORMATS;

const SAMPLE_VIDEO = fileURLToPath(new URL('../assets/sample.mp4', import.meta.url));

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Small pixel sizes that keep the requested aspect ratio: 1:1 is 64×64, otherwise the long
 * side is 96 (16:9 → 96×54). Unknown ratios and `auto` fall back to square.
 */
export function imageSize(aspectRatio: unknown): { width: number; height: number } {
  const match = typeof aspectRatio === 'string' ? /^(\d+):(\d+)$/.exec(aspectRatio) : null;
  const w = Number(match?.[1] ?? 1);
  const h = Number(match?.[2] ?? 1);
  if (!w || !h || w === h) return { width: 64, height: 64 };
  if (w > h) return { width: 96, height: Math.max(1, Math.round((96 * h) / w)) };
  return { width: Math.max(1, Math.round((96 * w) / h)), height: 96 };
}

function pickFormat(input: Record<string, unknown>, definition?: ModelDefinition): ImageFormat {
  const requested = input.output_format ?? definition?.input.output_format?.default;
  if (requested === 'jpg') return 'jpeg';
  return typeof requested === 'string' && requested in FORMATS ? (requested as ImageFormat) : 'png';
}

/** One generated image and whether the safety checker flagged it (then it is black). */
interface MadeImage {
  file: Record<string, unknown>;
  nsfw: boolean;
}

async function makeImages(
  context: OutputContext,
  input: Record<string, unknown>,
): Promise<MadeImage[]> {
  const { default: sharp } = await import('sharp');
  const format = pickFormat(input, context.definition);
  const requestedCount = Number(input.num_images ?? 1);
  const count = Number.isInteger(requestedCount) ? Math.min(Math.max(requestedCount, 1), 8) : 1;
  const ratio = input.aspect_ratio ?? context.definition?.input.aspect_ratio?.default;
  const { width, height } = imageSize(ratio);
  const images: MadeImage[] = [];
  for (let index = 0; index < count; index++) {
    const colour = {
      r: context.prng.int(0, 255),
      g: context.prng.int(0, 255),
      b: context.prng.int(0, 255),
    };
    const nsfw =
      typeof context.nsfw === 'number' ? context.prng.next() < context.nsfw : context.nsfw === true;
    // fal replaces flagged images with black ones (reference §14).
    const background = nsfw ? { r: 0, g: 0, b: 0 } : colour;
    const data = await sharp({ create: { width, height, channels: 3, background } })
      .toFormat(format)
      .toBuffer();
    const fileName = `${context.requestId}-${index}.${format === 'jpeg' ? 'jpg' : format}`;
    const path = context.files.tempPath(`-${fileName}`);
    await writeFile(path, data);
    const urlPath = `/files/outputs/${fileName}`;
    context.files.register(urlPath, { path, contentType: FORMATS[format], size: data.length });
    images.push({
      file: {
        url: `${context.origin}${urlPath}`,
        content_type: FORMATS[format],
        file_name: fileName,
        file_size: data.length,
        width,
        height,
      },
      nsfw,
    });
  }
  return images;
}

/**
 * A 64-bit seed as fal's apps draw them (reference §14: 17454220438242315174): nearly all
 * are above 2^53, so they are `bigint` and only exact JSON keeps their digits.
 */
export function seed64(prng: Prng): bigint {
  const high = BigInt(prng.int(0, 2 ** 32 - 1));
  const low = BigInt(prng.int(0, 2 ** 32 - 1));
  return (high << 32n) | low;
}

let sampleSeconds: Promise<number> | undefined;

/** Length of the sample video in seconds, read from its `mvhd` box (video bills per second). */
export function sampleVideoSeconds(): Promise<number> {
  sampleSeconds ??= readFile(SAMPLE_VIDEO).then((bytes) => {
    const at = bytes.indexOf('mvhd', 0, 'latin1');
    if (at < 0) return 0;
    const version = bytes[at + 4];
    const base = at + 8;
    const [timescale, duration] =
      version === 1
        ? [bytes.readUInt32BE(base + 16), Number(bytes.readBigUInt64BE(base + 20))]
        : [bytes.readUInt32BE(base + 8), bytes.readUInt32BE(base + 12)];
    return timescale > 0 ? duration / timescale : 0;
  });
  return sampleSeconds;
}

/**
 * Seconds of video to bill for a request: the requested `duration` (`5`, `"5"`, `"5s"`), else
 * the given schema default, else the sample file's length. [?] fal bills the output's length
 * (a 3 s request billed 3.008 s, fal-platform-api §2), which follows the requested duration;
 * the emulator's sample video is 1 s whatever was asked, so the request is billed instead.
 */
export async function videoSeconds(requested: unknown, schemaDefault?: unknown): Promise<number> {
  for (const value of [requested, schemaDefault]) {
    const seconds =
      typeof value === 'number'
        ? value
        : typeof value === 'string'
          ? Number(/^\s*(\d+(?:\.\d+)?)\s*s?\s*$/.exec(value)?.[1])
          : Number.NaN;
    if (Number.isFinite(seconds) && seconds > 0) return seconds;
  }
  return sampleVideoSeconds();
}

/**
 * `x-fal-billable-units` for a successful output [?]: fal bills images per image and video
 * per second of output (fal-platform-api §2), here the requested duration (`videoSeconds`);
 * the exact unit of each model is not known here.
 */
export async function billableUnits(
  output: unknown,
  input?: unknown,
  definition?: ModelDefinition,
): Promise<string | undefined> {
  if (!isRecord(output)) return undefined;
  if (Array.isArray(output.images)) return String(output.images.length);
  if (isRecord(output.video)) {
    const requested = isRecord(input) ? input.duration : undefined;
    const seconds = await videoSeconds(requested, definition?.input.duration?.default);
    return String(Number(seconds.toFixed(6)));
  }
  return undefined;
}

async function makeVideo(context: OutputContext) {
  const { size } = await stat(SAMPLE_VIDEO);
  const fileName = `${context.requestId}.mp4`;
  const urlPath = `/files/outputs/${fileName}`;
  context.files.register(urlPath, { path: SAMPLE_VIDEO, contentType: 'video/mp4', size });
  return {
    url: `${context.origin}${urlPath}`,
    content_type: 'video/mp4',
    file_name: fileName,
    file_size: size,
  };
}

/** Whether the output looks like flux's (nsfw flags, prompt, seed, timings). */
function isFluxShaped(context: OutputContext): boolean {
  const fields = context.definition?.outputFields ?? [];
  if (fields.length > 0) return fields.includes('has_nsfw_concepts');
  return context.endpointId.includes('/flux');
}

/**
 * Builds the model's output with real media files, shaped like a real delivery (reference
 * §14): the fields follow the definition's output schema (nano-banana: images + description;
 * flux: images, has_nsfw_concepts, prompt, seed, timings; video models: video). Models without
 * a definition get the flux-like shape of the delivery in §14. Seeds are 64-bit `bigint`s
 * unless the input gave one, which is echoed exactly.
 */
export async function generateOutput(context: OutputContext): Promise<unknown> {
  const input = isRecord(context.input) ? context.input : {};
  if (context.definition?.outputKind === 'video') {
    return { video: await makeVideo(context) };
  }
  const made = await makeImages(context, input);
  const images = made.map((image) => image.file);
  const seed =
    typeof input.seed === 'bigint' ||
    (typeof input.seed === 'number' && Number.isInteger(input.seed))
      ? input.seed
      : seed64(context.prng);
  const prompt = typeof input.prompt === 'string' ? input.prompt : '';
  if (!context.definition || isFluxShaped(context)) {
    return {
      images,
      has_nsfw_concepts: made.map((image) => image.nsfw),
      prompt,
      seed,
      timings: { inference: context.runSeconds },
    };
  }
  const output: Record<string, unknown> = { images };
  const fields = context.definition.outputFields;
  if (fields.includes('has_nsfw_concepts')) {
    output.has_nsfw_concepts = made.map((image) => image.nsfw);
  }
  if (fields.length === 0 || fields.includes('description')) {
    output.description = `Emulated image for: ${prompt}`;
  }
  if (fields.includes('seed')) output.seed = seed;
  if (fields.includes('prompt')) output.prompt = prompt;
  return output;
}
