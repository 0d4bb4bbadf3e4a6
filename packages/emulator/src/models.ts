import { loadBuiltInModels, type ModelFile, readModelFiles } from '@falai/models';

/** One input field of a model definition, as far as the emulator needs it. */
export interface FieldDefinition {
  type?: string | undefined;
  required?: boolean;
  enum?: unknown[] | undefined;
  default?: unknown;
  minItems?: number | undefined;
  maxItems?: number | undefined;
  minLength?: number | undefined;
  maxLength?: number | undefined;
  /** `type` of array items, when the definition says. */
  itemsType?: string | undefined;
  minimum?: number | undefined;
  maximum?: number | undefined;
}

/** The parts of a model definition the emulator uses (validation and output shape). */
export interface ModelDefinition {
  endpointId: string;
  category?: string | undefined;
  input: Record<string, FieldDefinition>;
  outputKind: 'images' | 'video';
  /** Property names of the output object, when the definition lists them. */
  outputFields: string[];
}

/**
 * One item of a 422 `detail` array as pydantic v2 writes it (`type`, `loc`, `msg`, `input`,
 * `ctx` when the type has one) plus the `url` fal's error docs call required (reference §5).
 */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
  url: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function outputFieldNames(output: Record<string, unknown>): string[] {
  const schema = output.schema;
  if (!isRecord(schema)) return [];
  const properties = isRecord(schema.properties) ? schema.properties : schema;
  return Object.keys(properties).filter((key) => key !== 'type' && key !== 'required');
}

/**
 * Reads one definition defensively: the format is still evolving, so anything unreadable is
 * skipped with a warning rather than stopping the emulator.
 */
export function parseDefinition(raw: unknown, fallbackId: string): ModelDefinition | string {
  if (!isRecord(raw)) return 'not a JSON object';
  const endpointId = typeof raw.endpointId === 'string' ? raw.endpointId : fallbackId;
  const category = typeof raw.category === 'string' ? raw.category : undefined;
  const input: Record<string, FieldDefinition> = {};
  if (isRecord(raw.input)) {
    for (const [name, field] of Object.entries(raw.input)) {
      if (!isRecord(field)) continue;
      input[name] = {
        type: typeof field.type === 'string' ? field.type : undefined,
        required: field.required === true,
        enum: Array.isArray(field.enum) ? field.enum : undefined,
        default: field.default,
        minItems: typeof field.minItems === 'number' ? field.minItems : undefined,
        maxItems: typeof field.maxItems === 'number' ? field.maxItems : undefined,
        minLength: typeof field.minLength === 'number' ? field.minLength : undefined,
        maxLength: typeof field.maxLength === 'number' ? field.maxLength : undefined,
        itemsType:
          isRecord(field.items) && typeof field.items.type === 'string'
            ? field.items.type
            : undefined,
        minimum: typeof field.minimum === 'number' ? field.minimum : undefined,
        maximum: typeof field.maximum === 'number' ? field.maximum : undefined,
      };
    }
  }
  const output = isRecord(raw.output) ? raw.output : {};
  const kind = output.kind === 'video' || output.kind === 'images' ? output.kind : undefined;
  const isVideo =
    kind === 'video' ||
    (kind === undefined && (category === 'video-to-video' || category?.endsWith('-to-video')));
  return {
    endpointId,
    category,
    input,
    outputKind: isVideo ? 'video' : 'images',
    outputFields: outputFieldNames(output),
  };
}

/**
 * The model definitions the emulator plays: the built-in ones (`@falai/models`, read with its
 * loader), then every `*.json` below the folders, later ones overriding earlier ones. Only the
 * parts the emulator needs are taken from each (parseDefinition); the definitions are data to
 * the emulator, never checked by falai's own rules, as fal does not know them.
 */
export function loadModels(
  dirs: readonly string[] = [],
  { builtIn = true }: { builtIn?: boolean } = {},
): {
  models: Map<string, ModelDefinition>;
  warnings: string[];
} {
  const models = new Map<string, ModelDefinition>();
  const warnings: string[] = [];
  const read = (files: readonly ModelFile[]) => {
    for (const { file, endpointId, definition, error } of files) {
      const parsed = error === undefined ? parseDefinition(definition, endpointId) : error;
      if (typeof parsed === 'string') warnings.push(`${file}: ${parsed}`);
      else models.set(parsed.endpointId, parsed);
    }
  };
  if (builtIn) read(loadBuiltInModels());
  for (const dir of dirs) read(readModelFiles(dir));
  return { models, warnings };
}

const URL_OR_DATA = /^(https?:\/\/|data:)/i;

/**
 * [?] fal's docs say every error item carries a `url` to its documentation
 * (`https://docs.fal.ai/errors#<type>`); pydantic's own `errors.pydantic.dev` link may be what
 * some apps send instead.
 */
const docsUrl = (type: string) => `https://docs.fal.ai/errors#${type}`;

function issue(
  type: string,
  loc: (string | number)[],
  msg: string,
  input: unknown,
  ctx?: Record<string, unknown>,
): ValidationIssue {
  return ctx
    ? { type, loc, msg, input, ctx, url: docsUrl(type) }
    : { type, loc, msg, input, url: docsUrl(type) };
}

/** Python's `repr` of a literal option, as pydantic quotes them in messages. */
function pyRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null) return 'None';
  return String(value);
}

/** pydantic's list of expected literals: `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`. */
function expectedList(options: unknown[]): string {
  const items = options.map(pyRepr);
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

const plural = (count: number) => (count === 1 ? '' : 's');

const BOOL_TEXT = new Set([
  '0',
  'off',
  'f',
  'false',
  'n',
  'no',
  '1',
  'on',
  't',
  'true',
  'y',
  'yes',
]);

/**
 * Checks one value against a scalar type in pydantic v2's lax mode (what a FastAPI model does
 * with JSON): `"3"` is a valid integer, `2.0` too, `"two"` and `2.5` are not; strings are never
 * coerced from numbers. Returns the issue, or undefined when the value passes.
 */
function checkType(
  type: string | undefined,
  value: unknown,
  loc: (string | number)[],
): ValidationIssue | undefined {
  const isNumber = typeof value === 'number' || typeof value === 'bigint';
  switch (type) {
    case 'string':
    case 'file':
      return typeof value === 'string'
        ? undefined
        : issue('string_type', loc, 'Input should be a valid string', value);
    case 'integer': {
      if (typeof value === 'bigint' || typeof value === 'boolean') return undefined;
      if (typeof value === 'number') {
        if (Number.isInteger(value)) return undefined;
        return issue(
          'int_from_float',
          loc,
          'Input should be a valid integer, got a number with a fractional part',
          value,
        );
      }
      if (typeof value === 'string') {
        if (/^\s*[-+]?\d+(\.0*)?\s*$/.test(value.replace(/_/g, ''))) return undefined;
        return issue(
          'int_parsing',
          loc,
          'Input should be a valid integer, unable to parse string as an integer',
          value,
        );
      }
      return issue('int_type', loc, 'Input should be a valid integer', value);
    }
    case 'number': {
      if (isNumber || typeof value === 'boolean') return undefined;
      if (typeof value === 'string') {
        const text = value.trim();
        if (text !== '' && Number.isFinite(Number(text))) return undefined;
        return issue(
          'float_parsing',
          loc,
          'Input should be a valid number, unable to parse string as a number',
          value,
        );
      }
      return issue('float_type', loc, 'Input should be a valid number', value);
    }
    case 'boolean': {
      if (typeof value === 'boolean') return undefined;
      if (
        (isNumber && (Number(value) === 0 || Number(value) === 1)) ||
        (typeof value === 'string' && BOOL_TEXT.has(value.trim().toLowerCase()))
      ) {
        return undefined;
      }
      if (isNumber || typeof value === 'string') {
        return issue(
          'bool_parsing',
          loc,
          'Input should be a valid boolean, unable to interpret input',
          value,
        );
      }
      return issue('bool_type', loc, 'Input should be a valid boolean', value);
    }
    case 'array':
      return Array.isArray(value)
        ? undefined
        : issue('list_type', loc, 'Input should be a valid list', value);
    case 'object':
      return isRecord(value)
        ? undefined
        : issue('dict_type', loc, 'Input should be a valid dictionary', value);
    default:
      return undefined;
  }
}

/**
 * [?] A file field fal cannot fetch: the type fal documents for it is `file_download_error`;
 * the exact text is a guess.
 */
function fileIssue(value: string, loc: (string | number)[]): ValidationIssue | undefined {
  if (URL_OR_DATA.test(value)) return undefined;
  return issue(
    'file_download_error',
    loc,
    'Failed to download the file. Please check if the URL is accessible.',
    value,
  );
}

/**
 * Checks input the way a pydantic v2 model would when the app runs: required fields
 * (`missing`), lax types (`string_type`, `int_parsing`, …), literals (`literal_error`), numeric
 * bounds (`greater_than_equal`, `less_than_equal`), lengths (`too_short`, `too_long`,
 * `string_too_short`, `string_too_long`) and file URLs. Extra fields are ignored, and `null`
 * is accepted for an optional field (fal's schemas make them `Optional`). Submit never calls
 * this; the 422 appears at result time (reference §3, §5).
 */
export function validateInput(definition: ModelDefinition, input: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!isRecord(input)) {
    return [issue('dict_type', ['body'], 'Input should be a valid dictionary', input ?? null)];
  }
  for (const [name, field] of Object.entries(definition.input)) {
    const loc = ['body', name];
    const value = input[name];
    if (value === undefined) {
      if (field.required) issues.push(issue('missing', loc, 'Field required', input));
      continue;
    }
    // A required field sent as null fails its type check, as pydantic does.
    if (value === null && !field.required) continue;
    const typeIssue = checkType(field.type, value, loc);
    if (typeIssue) {
      issues.push(typeIssue);
      continue;
    }
    if (field.type === 'file') {
      const bad = fileIssue(value as string, loc);
      if (bad) issues.push(bad);
      continue;
    }
    if (field.enum && !field.enum.includes(value)) {
      const expected = expectedList(field.enum);
      issues.push(issue('literal_error', loc, `Input should be ${expected}`, value, { expected }));
      continue;
    }
    if (Array.isArray(value)) {
      if (field.minItems !== undefined && value.length < field.minItems) {
        issues.push(
          issue(
            'too_short',
            loc,
            `List should have at least ${field.minItems} item${plural(field.minItems)} after validation, not ${value.length}`,
            value,
            { field_type: 'List', min_length: field.minItems, actual_length: value.length },
          ),
        );
      } else if (field.maxItems !== undefined && value.length > field.maxItems) {
        issues.push(
          issue(
            'too_long',
            loc,
            `List should have at most ${field.maxItems} item${plural(field.maxItems)} after validation, not ${value.length}`,
            value,
            { field_type: 'List', max_length: field.maxItems, actual_length: value.length },
          ),
        );
      }
      if (field.itemsType) {
        value.forEach((item, index) => {
          const itemLoc = [...loc, index];
          const bad =
            checkType(field.itemsType, item, itemLoc) ??
            (field.itemsType === 'file' ? fileIssue(item as string, itemLoc) : undefined);
          if (bad) issues.push(bad);
        });
      }
      continue;
    }
    if (typeof value === 'string' && field.type === 'string') {
      if (field.minLength !== undefined && value.length < field.minLength) {
        issues.push(
          issue(
            'string_too_short',
            loc,
            `String should have at least ${field.minLength} character${plural(field.minLength)}`,
            value,
            { min_length: field.minLength },
          ),
        );
      } else if (field.maxLength !== undefined && value.length > field.maxLength) {
        issues.push(
          issue(
            'string_too_long',
            loc,
            `String should have at most ${field.maxLength} character${plural(field.maxLength)}`,
            value,
            { max_length: field.maxLength },
          ),
        );
      }
      continue;
    }
    if (field.type === 'integer' || field.type === 'number') {
      const number = Number(value);
      if (field.minimum !== undefined && number < field.minimum) {
        issues.push(
          issue(
            'greater_than_equal',
            loc,
            `Input should be greater than or equal to ${field.minimum}`,
            value,
            { ge: field.minimum },
          ),
        );
      } else if (field.maximum !== undefined && number > field.maximum) {
        issues.push(
          issue(
            'less_than_equal',
            loc,
            `Input should be less than or equal to ${field.maximum}`,
            value,
            { le: field.maximum },
          ),
        );
      }
    }
  }
  return issues;
}
