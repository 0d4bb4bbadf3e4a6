/**
 * fal's price units, read from its free text (fal-platform-api.md §2: `unit` is free text; seen
 * values include per image, per megapixel, per second, per request, and the ambiguous `units`).
 */

/** What a unit counts, as far as an estimate from the input is concerned. */
export type PriceUnitKind =
  /** One output image. */
  | 'image'
  /** One megapixel of requested output size (× images). */
  | 'megapixel'
  /** One second of output (video or audio length). */
  | 'second'
  /** One minute of output. */
  | 'minute'
  /** One output video (a call that makes one video). */
  | 'video'
  /** One request, whatever it makes. */
  | 'call'
  /** Characters of the input text (`per` of them, e.g. 1000). */
  | 'character'
  /** Run time on fal's GPUs: not known before the request runs. */
  | 'compute-second'
  /** fal's own `units`: how many a call bills is only known from history. */
  | 'units'
  /** Anything else (tokens, steps, …): only history says what a call costs. */
  | 'other';

/** A unit text, understood. */
export interface PriceUnit {
  readonly kind: PriceUnitKind;
  /** How many of the counted thing one price unit covers (`1000 characters` → 1000). */
  readonly per: number;
  /** fal's text, as given. */
  readonly text: string;
}

const WORDS: ReadonlyArray<readonly [RegExp, PriceUnitKind]> = [
  [/^(compute|gpu|inference|run|machine)[ -]?(second|sec|s)s?$/, 'compute-second'],
  [/^(mega ?pixel|mp)s?$/, 'megapixel'],
  [/^(image|img|picture|photo)s?$/, 'image'],
  [/^(video )?(second|sec|s)s?( of video| of audio)?$/, 'second'],
  [/^(audio )?(second|sec)s?$/, 'second'],
  [/^(minute|min)s?( of audio| of video)?$/, 'minute'],
  [/^(video|clip)s?$/, 'video'],
  [/^(request|call|generation|run|prediction|inference)s?$/, 'call'],
  [/^(character|char)s?$/, 'character'],
  [/^units?$/, 'units'],
];

/**
 * Reads fal's unit text: `images`, `megapixels`, `seconds`, `1000 characters`, `compute
 * seconds`, `units`, `per image`, … A leading count (`1000 characters`) becomes `per`.
 */
export function parsePriceUnit(text: string): PriceUnit {
  let rest = text.trim().toLowerCase().replace(/\s+/g, ' ');
  rest = rest.replace(/^(per|\/) ?/, '');
  let per = 1;
  const count = /^(\d+(?:\.\d+)?)\s*(k)?\s+(.*)$/.exec(rest);
  if (count) {
    per = Number(count[1]) * (count[2] ? 1000 : 1);
    rest = count[3] ?? '';
  }
  if (!(per > 0) || !Number.isFinite(per)) per = 1;
  for (const [pattern, kind] of WORDS) {
    if (pattern.test(rest)) return { kind, per, text };
  }
  return { kind: 'other', per, text };
}

/** `image`, `1000 characters`, `megapixel`: one price unit, for a basis line. */
export function unitLabel(unit: PriceUnit): string {
  const names: Record<PriceUnitKind, string> = {
    image: 'image',
    megapixel: 'megapixel',
    second: 'second',
    minute: 'minute',
    video: 'video',
    call: 'request',
    character: 'character',
    'compute-second': 'compute second',
    units: 'unit',
    other: unit.text.trim(),
  };
  const name = names[unit.kind];
  if (unit.per === 1) return name;
  return `${unit.per} ${name}s`;
}
