import type { FieldSpec } from './definition.js';

/** Small wording helpers shared by validation messages and `model-info`. */

/** A value as it appears in a message, cut short so a data URI never floods the terminal. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const shown = value.length > 48 ? `${value.slice(0, 45)}…` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  // An integer beyond 2^53, kept exact: show every digit.
  if (typeof value === 'bigint') return `number ${value}`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return 'an object';
}

/** What a file field wants, e.g. "an image (http(s) URL, data URI or local path)". */
export function describeFile(spec: FieldSpec): string {
  const what = spec.media === 'image' ? 'an image' : spec.media === 'video' ? 'a video' : 'a file';
  const formats = spec.formats?.length ? ` (${spec.formats.map((f) => `.${f}`).join('/')})` : '';
  return `${what}${formats}: an http(s) URL, a data URI or a local file path`;
}

/** The expected type of a field in words. */
export function describeType(spec: FieldSpec): string {
  switch (spec.type) {
    case 'string':
      return 'a string';
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'file':
      return describeFile(spec);
    case 'array':
      return spec.items ? `a list of ${plural(spec.items)}` : 'a list';
    case 'object':
      return 'an object';
  }
}

function plural(spec: FieldSpec): string {
  if (spec.type === 'file') {
    const what = spec.media === 'image' ? 'images' : spec.media === 'video' ? 'videos' : 'files';
    return spec.formats?.length ? `${what} (${spec.formats.map((f) => `.${f}`).join('/')})` : what;
  }
  if (spec.type === 'boolean') return 'booleans';
  if (spec.type === 'array') return 'lists';
  return `${spec.type}s`;
}

/** A placeholder value for a hint such as `add "video_url": …`. */
export function placeholder(spec: FieldSpec): string {
  if (spec.example !== undefined) return JSON.stringify(spec.example);
  if (spec.default !== undefined) return JSON.stringify(spec.default);
  if (spec.enum?.length) return JSON.stringify(spec.enum[0]);
  switch (spec.type) {
    case 'file':
      return spec.media === 'video'
        ? '"./clip.mp4"'
        : spec.media === 'image'
          ? '"./photo.png"'
          : '"./file"';
    case 'array':
      return spec.items ? `[${placeholder(spec.items)}]` : '[…]';
    case 'integer':
    case 'number':
      return String(spec.minimum ?? 1);
    case 'boolean':
      return 'true';
    case 'object':
      return '{…}';
    default:
      return '"…"';
  }
}

/** Edit distance, for "did you mean" hints. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min(
        (row[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

/** The closest candidate, if close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    if (c.toLowerCase() === lower) return c;
    const d = distance(lower, c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return bestScore <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}
