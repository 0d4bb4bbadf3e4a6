import { isObject } from '../json/values.js';
import type { FieldSpec, ModelDefinition } from '../models/definition.js';

/**
 * What a request asks for, read from its input (and the model's defaults) before it is sent:
 * how many images, how many pixels each, how long a video or audio, how many characters. Each
 * reading says what it assumed, so an estimate never pretends to know more than it does.
 */

/** A quantity read from the input, with the assumptions made to get it. */
export interface Reading {
  readonly value: number;
  /** How it was read, e.g. `num_images 2`, `image_size landscape_16_9 (1024×576)`. */
  readonly from: string;
  readonly assumptions: readonly string[];
}

/**
 * fal's image size presets (the `image_size` enum of its text-to-image models), in pixels.
 * [?] Taken from fal's model pages; the emulator's price data lists the same six.
 */
export const IMAGE_SIZE_PRESETS: Readonly<Record<string, readonly [number, number]>> = {
  square_hd: [1024, 1024],
  square: [512, 512],
  portrait_4_3: [768, 1024],
  portrait_16_9: [576, 1024],
  landscape_4_3: [1024, 768],
  landscape_16_9: [1024, 576],
};

/** `1K`/`2K`/`4K` resolutions: the side of a square of the same area. [?] fal's exact sizes. */
const RESOLUTION_SIDES: Readonly<Record<string, number>> = {
  '0.5k': 512,
  '1k': 1024,
  '2k': 2048,
  '4k': 4096,
  '480p': 854,
  '720p': 1280,
  '1080p': 1920,
};

/** The model's declared default of a field, if any. */
function defaultOf(definition: ModelDefinition | undefined, field: string): unknown {
  const spec: FieldSpec | undefined = definition?.input[field];
  return spec?.default;
}

/** A field as given, else the model's default: `[value, 'given' | 'default']`. */
function fieldValue(
  input: Record<string, unknown>,
  definition: ModelDefinition | undefined,
  field: string,
): [unknown, 'given' | 'default'] | undefined {
  if (Object.hasOwn(input, field) && input[field] !== undefined && input[field] !== null)
    return [input[field], 'given'];
  const fallback = defaultOf(definition, field);
  return fallback === undefined ? undefined : [fallback, 'default'];
}

/** A positive number from a number or a numeric string (`"5"`, `"5s"`, `"10.5"`). */
function positive(value: unknown, suffix?: RegExp): number | undefined {
  let number: number | undefined;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'string') {
    const text = suffix ? value.trim().replace(suffix, '') : value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) number = Number(text);
  }
  return number !== undefined && Number.isFinite(number) && number > 0 ? number : undefined;
}

/** The most outputs a count field may claim in an estimate (a typo must not read as a billion). */
const MAX_COUNT = 1000;

/**
 * How many outputs the request asks for: `num_images` (or `num_outputs`, `num_videos`), given
 * or the model's default, else one (said as an assumption).
 */
export function requestedCount(
  input: Record<string, unknown>,
  definition: ModelDefinition | undefined,
  fields: readonly string[] = ['num_images', 'num_outputs'],
): Reading {
  for (const field of fields) {
    const found = fieldValue(input, definition, field);
    const count = found ? positive(found[0]) : undefined;
    if (found && count !== undefined && Number.isInteger(count) && count <= MAX_COUNT) {
      return {
        value: count,
        from: `${field} ${count}${found[1] === 'default' ? ', the model default' : ''}`,
        assumptions: [],
      };
    }
  }
  return {
    value: 1,
    from: 'one output',
    assumptions: [`one output (the input names no ${fields[0]})`],
  };
}

/** Pixels of one output from an `{width, height}` object or a preset name. */
function sizeOf(value: unknown): { width: number; height: number; name?: string } | undefined {
  if (typeof value === 'string') {
    const preset = IMAGE_SIZE_PRESETS[value];
    return preset ? { width: preset[0], height: preset[1], name: value } : undefined;
  }
  if (isObject(value)) {
    const width = positive(value.width);
    const height = positive(value.height);
    if (width !== undefined && height !== undefined) return { width, height };
  }
  return undefined;
}

/** `16:9` → 16/9. */
function ratioOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?)\s*$/.exec(value);
  if (!match) return undefined;
  const ratio = Number(match[1]) / Number(match[2]);
  return Number.isFinite(ratio) && ratio > 0 ? ratio : undefined;
}

const MEGA = 1_000_000;
const mp = (pixels: number) => Math.round((pixels / MEGA) * 1e6) / 1e6;

/**
 * Megapixels of one requested output: `image_size` (a preset name or `{width, height}`),
 * `width`/`height`, or `aspect_ratio` with `resolution` (1K/2K/4K: the area of that square),
 * given or the model's default; else 1024×1024, said as an assumption. fal's rounding of
 * megapixels is not documented; none is applied.
 */
export function requestedMegapixels(
  input: Record<string, unknown>,
  definition: ModelDefinition | undefined,
): Reading {
  const imageSize = fieldValue(input, definition, 'image_size');
  const size = imageSize ? sizeOf(imageSize[0]) : undefined;
  if (imageSize && size) {
    const label = size.name
      ? `${size.name} (${size.width}×${size.height})`
      : `${size.width}×${size.height}`;
    return {
      value: mp(size.width * size.height),
      from: `image_size ${label}${imageSize[1] === 'default' ? ', the model default' : ''}`,
      assumptions: [],
    };
  }
  const width = positive(fieldValue(input, definition, 'width')?.[0]);
  const height = positive(fieldValue(input, definition, 'height')?.[0]);
  if (width !== undefined && height !== undefined) {
    return { value: mp(width * height), from: `${width}×${height}`, assumptions: [] };
  }
  const aspect = fieldValue(input, definition, 'aspect_ratio');
  const ratio = aspect ? ratioOf(aspect[0]) : undefined;
  const resolution = fieldValue(input, definition, 'resolution');
  const side =
    resolution && typeof resolution[0] === 'string'
      ? RESOLUTION_SIDES[resolution[0].trim().toLowerCase()]
      : undefined;
  if (side !== undefined || ratio !== undefined) {
    const area = (side ?? 1024) ** 2;
    const assumptions: string[] = [];
    if (side === undefined) assumptions.push('the area of 1024×1024 at the requested aspect ratio');
    else
      assumptions.push(
        `${String(resolution?.[0])} as the area of a ${side}×${side} square (fal's exact sizes per aspect ratio are not published)`,
      );
    const w = Math.round(Math.sqrt(area * (ratio ?? 1)));
    const h = Math.round(Math.sqrt(area / (ratio ?? 1)));
    const parts = [
      ...(aspect && ratio !== undefined ? [`aspect_ratio ${String(aspect[0])}`] : []),
      ...(resolution && side !== undefined ? [`resolution ${String(resolution[0])}`] : []),
    ];
    return { value: mp(w * h), from: `${parts.join(', ')} (≈${w}×${h})`, assumptions };
  }
  if (aspect && typeof aspect[0] === 'string' && aspect[0].trim().toLowerCase() === 'auto') {
    return {
      value: mp(1024 * 1024),
      from: 'aspect_ratio auto',
      assumptions: ['1024×1024 for aspect_ratio auto (the size follows the input)'],
    };
  }
  return {
    value: mp(1024 * 1024),
    from: '1024×1024',
    assumptions: ['1024×1024 per image (the input names no size)'],
  };
}

/** Fields that hold a requested duration in seconds, or in milliseconds. */
const SECOND_FIELDS = ['duration', 'duration_seconds', 'seconds_total', 'seconds', 'audio_length'];
const MS_FIELDS = ['duration_ms', 'music_length_ms', 'length_ms'];

/**
 * Seconds of output the request asks for: a duration field (`duration` as `5`, `"5"` or `"5s"`,
 * `duration_seconds`, `seconds_total`, `*_ms`), given or the model's default; else `num_frames`
 * at `frames_per_second`; else, for a model with video limits, the longest source it accepts
 * (an upper bound, said as an assumption). Undefined when nothing says.
 */
export function requestedSeconds(
  input: Record<string, unknown>,
  definition: ModelDefinition | undefined,
): Reading | undefined {
  for (const field of SECOND_FIELDS) {
    const found = fieldValue(input, definition, field);
    const seconds = found ? positive(found[0], /\s*s(ec(ond)?s?)?$/i) : undefined;
    if (found && seconds !== undefined) {
      return {
        value: seconds,
        from: `${field} ${seconds} s${found[1] === 'default' ? ', the model default' : ''}`,
        assumptions: [],
      };
    }
  }
  for (const field of MS_FIELDS) {
    const found = fieldValue(input, definition, field);
    const ms = found ? positive(found[0]) : undefined;
    if (found && ms !== undefined) {
      return {
        value: ms / 1000,
        from: `${field} ${ms} ms${found[1] === 'default' ? ', the model default' : ''}`,
        assumptions: [],
      };
    }
  }
  const frames = positive(fieldValue(input, definition, 'num_frames')?.[0]);
  const fps = positive(
    fieldValue(input, definition, 'frames_per_second')?.[0] ??
      fieldValue(input, definition, 'fps')?.[0],
  );
  if (frames !== undefined && fps !== undefined) {
    return {
      value: frames / fps,
      from: `${frames} frames at ${fps} fps`,
      assumptions: [],
    };
  }
  const longest = definition?.limits?.video?.maxDurationSeconds;
  if (longest !== undefined && longest > 0) {
    return {
      value: longest,
      from: `at most ${longest} s`,
      assumptions: [
        `the output as long as the longest source video the model accepts (${longest} s): an upper bound, the source's length is not read`,
      ],
    };
  }
  return undefined;
}

/** Fields that hold the text a per-character price counts. */
const TEXT_FIELDS = ['text', 'prompt', 'input', 'script'];

/** Characters of the input text (`text`, else `prompt`, …), counted as Unicode code points. */
export function requestedCharacters(input: Record<string, unknown>): Reading | undefined {
  for (const field of TEXT_FIELDS) {
    const text = input[field];
    if (typeof text === 'string') {
      const length = [...text].length;
      return { value: length, from: `${length} characters of ${field}`, assumptions: [] };
    }
  }
  return undefined;
}
