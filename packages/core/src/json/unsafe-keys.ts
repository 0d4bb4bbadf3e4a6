import { InputError, type InputIssue } from '../errors/falai-error.js';
import { fieldLabel } from './values.js';

/**
 * Keys that reach JavaScript object internals. Assigning `obj.__proto__ = …` swaps an
 * object's prototype, and walking `__proto__.x` or `constructor.prototype.x` writes onto
 * `Object.prototype`, which every object in the process then inherits (issue #11: a
 * `--set __proto__.webhookUrl=…` made falai send the result to an attacker). No fal model
 * uses these names, so inputs, `--set` paths, model files and config keys holding them
 * are refused outright, even with `--no-validate`.
 */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Issue kind of an unsafe key; no override ever turns it into a warning. */
export const UNSAFE_KEY = 'unsafe-key';

/** True for `__proto__`, `constructor` and `prototype`. */
export function isUnsafeKey(key: string | number): boolean {
  return typeof key === 'string' && UNSAFE_KEYS.has(key);
}

/**
 * The path of the first own key named `__proto__`, `constructor` or `prototype` anywhere in
 * a value (objects and lists, at any depth), or undefined when there is none.
 */
export function findUnsafeKey(value: unknown): (string | number)[] | undefined {
  const seen = new WeakSet<object>();
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; path: (string | number)[] };
    const current = item.value;
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    if (Array.isArray(current)) {
      current.forEach((child, i) => {
        stack.push({ value: child, path: [...item.path, i] });
      });
      continue;
    }
    // Object.keys lists own enumerable keys, including an own "__proto__" made by JSON.parse.
    for (const key of Object.keys(current)) {
      if (isUnsafeKey(key)) return [...item.path, key];
      stack.push({ value: (current as Record<string, unknown>)[key], path: [...item.path, key] });
    }
  }
  return undefined;
}

/** The issue for an unsafe key at `path`; `where` names the source (`--set a.b`, a file). */
export function unsafeKeyIssue(path: readonly (string | number)[], where?: string): InputIssue {
  const key = String([...path].reverse().find((part) => isUnsafeKey(part)) ?? '');
  const at = fieldLabel(path);
  return {
    path,
    kind: UNSAFE_KEY,
    message: `${where ? `${where}: ` : ''}the field name "${key}"${at === key ? '' : ` (at ${at})`} is not allowed: __proto__, constructor and prototype reach into JavaScript objects and could change what falai itself does`,
    hint: `remove "${key}"; no fal model has a field of that name`,
  };
}

function refuse(issue: InputIssue): never {
  throw new InputError(
    `Refusing the input: ${issue.message}. Nothing was sent. Fix: ${issue.hint}.`,
    [issue],
  );
}

/** Throws INPUT_INVALID when a path (a `--set` key split at dots) has an unsafe segment. */
export function assertSafePath(path: readonly (string | number)[], where?: string): void {
  const index = path.findIndex((part) => isUnsafeKey(part));
  if (index >= 0) refuse(unsafeKeyIssue(path.slice(0, index + 1), where));
}

/** Throws INPUT_INVALID when a value holds an unsafe own key at any depth. */
export function assertSafeInput(value: unknown, where?: string): void {
  const path = findUnsafeKey(value);
  if (path) refuse(unsafeKeyIssue(path, where));
}
