/** Small helpers for JSON-like values, shared by the model rules, media and settings. */

/** True for plain objects (not arrays, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `image_urls[2]`, `elements[0].frontal_image_url`: how users write paths. */
export function fieldLabel(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out === '' ? 'input' : out;
}
