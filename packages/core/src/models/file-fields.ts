import { isObject } from '../json/values.js';
import type { FieldSpec, MediaKind, ModelDefinition } from './definition.js';

/** One file-valued location in an input. */
export interface FileRef {
  readonly path: (string | number)[];
  readonly value: string;
  readonly media: MediaKind;
  /** The field's spec, when the model is known. */
  readonly spec?: FieldSpec;
}

function walk(value: unknown, spec: FieldSpec, path: (string | number)[], out: FileRef[]): void {
  if (spec.type === 'file') {
    if (typeof value === 'string') out.push({ path, value, media: spec.media ?? 'file', spec });
    return;
  }
  if (spec.type === 'array' && spec.items && Array.isArray(value)) {
    const items = spec.items;
    value.forEach((item, i) => {
      walk(item, items, [...path, i], out);
    });
    return;
  }
  if (spec.type === 'object' && spec.properties && isObject(value)) {
    walkObject(value, spec.properties, path, out);
  }
}

function walkObject(
  value: Record<string, unknown>,
  props: Readonly<Record<string, FieldSpec>>,
  path: (string | number)[],
  out: FileRef[],
): void {
  for (const [key, spec] of Object.entries(props)) {
    if (Object.hasOwn(value, key)) walk(value[key], spec, [...path, key], out);
  }
}

function guessMedia(key: string): MediaKind {
  if (/video/i.test(key)) return 'video';
  if (/image|img|photo|mask/i.test(key)) return 'image';
  return 'file';
}

/**
 * Every file-valued location of an input. Known models follow their definition; for an
 * unknown endpoint, fal's naming convention (`*_url`, `*_urls`) finds the file fields.
 */
export function findFileFields(def: ModelDefinition | undefined, input: unknown): FileRef[] {
  const out: FileRef[] = [];
  if (!isObject(input)) return out;
  if (def) {
    walkObject(input, def.input, [], out);
    return out;
  }
  for (const [key, value] of Object.entries(input)) {
    if (!/_urls?$/.test(key)) continue;
    const media = guessMedia(key);
    if (typeof value === 'string') out.push({ path: [key], value, media });
    else if (Array.isArray(value))
      value.forEach((item, i) => {
        if (typeof item === 'string') out.push({ path: [key, i], value: item, media });
      });
  }
  return out;
}
