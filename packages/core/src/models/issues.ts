import type * as v from 'valibot';
import type { InputIssue } from '../errors/falai-error.js';
import { fieldLabel } from '../json/values.js';
import { classifyFileRef } from '../media/file-ref.js';
import { BAD_FILE, definitionPath, EMPTY, specAt, UNSAFE_INTEGER } from './compile.js';
import type { FieldSpec, ModelDefinition } from './definition.js';
import { describeType, describeValue, placeholder, suggest } from './describe.js';

/** An issue plus whether it is only a warning (a limit fal has not confirmed). */
export interface MappedIssue {
  readonly issue: InputIssue;
  readonly warning: boolean;
}

/**
 * Issue kinds that only the model definition decides: a field it does not declare, a wrong
 * type, a value out of range or not in its list, a length or item count, a prompt reference.
 * The definition may be behind fal, so the user may override these (`force` in
 * `ValidateOptions`; the CLI's `--force-input`). A missing or empty required field is not
 * overridable (fal refuses it for certain; fill it in), nor are unsafe keys, digits a double
 * cannot hold, unusable file values and local media problems.
 */
export const OVERRIDABLE_KINDS: ReadonlySet<string> = new Set([
  'unknown',
  'type',
  'enum',
  'range',
  'length',
  'items',
  'reference',
  'total',
]);

/** True when an issue may be sent anyway on the user's explicit override. */
export function isOverridable(issue: InputIssue): boolean {
  return issue.kind !== undefined && OVERRIDABLE_KINDS.has(issue.kind);
}

/**
 * True when a keyword path of the model file (`input.strength.minimum`,
 * `limits.video.maxDurationSeconds`) or one of its parents is marked unconfirmed.
 */
export function isUnconfirmed(unconfirmed: ReadonlySet<string>, keywordPath: string): boolean {
  for (
    let path = keywordPath;
    path !== '';
    path = path.slice(0, Math.max(0, path.lastIndexOf('.')))
  )
    if (unconfirmed.has(path)) return true;
  return false;
}

/** The suffix of a check falai is unsure of, so it warns instead of refusing. */
export const UNCONFIRMED_SUFFIX = '(this limit is not confirmed by fal; the input is sent anyway)';

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

function issuePath(issue: v.BaseIssue<unknown>): (string | number)[] {
  return (issue.path ?? []).map((item) => item.key as string | number);
}

function rangeText(spec: FieldSpec): string {
  if (spec.minimum !== undefined && spec.maximum !== undefined)
    return `between ${spec.minimum} and ${spec.maximum}`;
  if (spec.minimum !== undefined) return `at least ${spec.minimum}`;
  return `at most ${spec.maximum}`;
}

/** The issue for an input that is not a JSON object at all. */
export function notAnObject(value: unknown): InputIssue {
  return {
    path: [],
    kind: 'type',
    message: `The input must be a JSON object, got ${describeValue(value)}`,
    hint: 'pass an object such as {"prompt": "…"}',
  };
}

const item = (n: number) => (n === 1 ? 'item' : 'items');

/**
 * Turns one valibot issue into a seed-style message with a fix. `unconfirmed` holds the
 * model file's unconfirmed keyword paths: breaking one of those limits is only a warning.
 */
export function mapIssue(
  def: ModelDefinition,
  input: unknown,
  raw: v.BaseIssue<unknown>,
  unconfirmed: ReadonlySet<string>,
): MappedIssue | undefined {
  const path = issuePath(raw);
  const label = fieldLabel(path);
  const spec = specAt(def, path);
  const value = valueAt(input, path);
  // `keyword` names the rule in the model file (`minimum`, `enum`, `type`…); a rule falai is
  // unsure of (it or a parent is listed in `unconfirmed`) only warns, so falai never refuses
  // what fal might accept.
  const done = (issue: InputIssue, keyword?: string): MappedIssue => {
    const soft =
      keyword !== undefined && isUnconfirmed(unconfirmed, `${definitionPath(path)}.${keyword}`);
    if (!soft) return { issue, warning: false };
    return {
      issue: { ...issue, message: `${issue.message} ${UNCONFIRMED_SUFFIX}` },
      warning: true,
    };
  };

  if (!spec) return path.length === 0 ? done(notAnObject(value)) : undefined;

  const missing =
    raw.message === 'missing' ||
    (raw.type === 'loose_object' && raw.received === 'undefined' && value === undefined);
  if (missing) {
    return done(
      {
        path,
        kind: 'required',
        message: `Missing required field: ${label}`,
        hint: `add "${String(path[path.length - 1])}": ${placeholder(spec)}`,
      },
      'required',
    );
  }

  if (raw.message === EMPTY) {
    const inList = typeof path[path.length - 1] === 'number';
    return done(
      {
        path,
        kind: 'empty',
        message: inList ? `${label} is empty` : `Empty required field: ${label}`,
        hint:
          spec.type === 'array'
            ? `give at least one item, e.g. "${label}": ${placeholder(spec)}`
            : inList
              ? `remove the empty entry or fill it with ${describeType(spec)}`
              : `give a non-empty value: "${label}": ${placeholder(spec)}`,
      },
      inList ? undefined : 'required',
    );
  }

  if (raw.message === UNSAFE_INTEGER) {
    return done({
      path,
      kind: 'precision',
      message: `${label} is ${describeValue(value)}, an integer beyond 2^53 written as a decimal or with an exponent, so its last digits are already lost; falai never sends a rounded ${label}`,
      hint: `write every digit, without a decimal point or exponent, e.g. "${label}": 17454220438242315174`,
    });
  }

  if (typeof value === 'bigint' && spec.type === 'number') {
    return done(
      {
        path,
        kind: 'type',
        message: `${label} is a decimal number, which cannot hold ${value} exactly (fal would round it to ${Number(value)})`,
        hint: `give a value ${spec.minimum !== undefined || spec.maximum !== undefined ? rangeText(spec) : 'between -9007199254740991 and 9007199254740991'}`,
      },
      'type',
    );
  }

  if (raw.message === BAD_FILE && typeof value === 'string') {
    const ref = classifyFileRef(value);
    const problem = ref.kind === 'invalid' ? ref.problem : 'it is not usable';
    return done({
      path,
      kind: 'file',
      message: `${label} must be ${describeType(spec)}; ${describeValue(value)} is not: ${problem}`,
      hint: 'use an https:// URL, a data:<mime>;base64,… URI, or the path of a file on this machine',
    });
  }

  switch (raw.type) {
    case 'picklist': {
      const options = (spec.enum ?? []).map((o) => JSON.stringify(o)).join(', ');
      const close =
        typeof value === 'string' || typeof value === 'number'
          ? suggest(String(value), (spec.enum ?? []).map(String))
          : undefined;
      let hint = `use one of ${options}`;
      if (close !== undefined && spec.type === 'string' && typeof value === 'number')
        hint = `write it as a string: "${label}": "${close}"`;
      else if (close !== undefined) hint = `did you mean ${JSON.stringify(close)}?`;
      return done(
        {
          path,
          kind: 'enum',
          message: `${label} must be one of ${options}; got ${describeValue(value)}`,
          hint,
        },
        'enum',
      );
    }
    case 'min_value':
    case 'max_value':
      return done(
        {
          path,
          kind: 'range',
          message: `${label} must be ${rangeText(spec)}; got ${describeValue(value)}`,
          hint: `pick a value ${rangeText(spec)}${spec.default !== undefined ? ` (default ${JSON.stringify(spec.default)})` : ''}`,
        },
        raw.type === 'min_value' ? 'minimum' : 'maximum',
      );
    case 'integer':
      return done(
        {
          path,
          kind: 'type',
          message: `${label} must be a whole number; got ${describeValue(value)}`,
          hint: `round it, e.g. "${label}": ${Math.round(Number(value))}`,
        },
        'type',
      );
    case 'finite':
      return done(
        {
          path,
          kind: 'type',
          message: `${label} must be a finite number; got ${describeValue(value)}`,
        },
        'type',
      );
    case 'min_length':
    case 'max_length': {
      const low = raw.type === 'min_length';
      if (spec.type === 'array') {
        const n = Array.isArray(value) ? value.length : 0;
        const limit = low ? spec.minItems : spec.maxItems;
        return done(
          {
            path,
            kind: 'items',
            message: low
              ? `${label} has ${n} ${item(n)}; at least ${limit} ${item(limit ?? 0)} needed`
              : `${label} has ${n} ${item(n)}; at most ${limit} allowed (exceeds max count of ${limit})`,
            hint: low ? `add items to ${label}` : `remove ${n - (limit ?? 0)} from ${label}`,
          },
          low ? 'minItems' : 'maxItems',
        );
      }
      const n = typeof value === 'string' ? value.length : 0;
      const limit = low ? spec.minLength : spec.maxLength;
      return done(
        {
          path,
          kind: 'length',
          message: `${label} is ${n} characters long; ${low ? 'at least' : 'at most'} ${limit} allowed`,
          hint: low ? `write a longer ${label}` : `shorten ${label}`,
        },
        low ? 'minLength' : 'maxLength',
      );
    }
    default: {
      let hint: string | undefined;
      if (spec.type === 'array' && typeof value === 'string')
        hint = `wrap it in a list: "${label}": [${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}…` : value)}]`;
      else if ((spec.type === 'integer' || spec.type === 'number') && typeof value === 'string')
        hint = `write it without quotes: "${label}": ${Number.isNaN(Number(value)) ? placeholder(spec) : Number(value)}`;
      else if (spec.type === 'boolean' && typeof value === 'string')
        hint = `write true or false without quotes`;
      else if (value === null) hint = `remove "${label}" to use the default`;
      else hint = `give ${describeType(spec)}, e.g. "${label}": ${placeholder(spec)}`;
      return done(
        {
          path,
          kind: 'type',
          message: `${label} must be ${describeType(spec)}; got ${describeValue(value)}`,
          ...(hint ? { hint } : {}),
        },
        'type',
      );
    }
  }
}
