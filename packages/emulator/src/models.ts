import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One input field of a model definition, as far as the emulator needs it. */
export interface FieldDefinition {
  type?: string;
  required?: boolean;
  enum?: unknown[];
  default?: unknown;
  minItems?: number;
  /** `type` of array items, when the definition says. */
  itemsType?: string;
  minimum?: number;
  maximum?: number;
}

/** The parts of a model definition the emulator uses (validation and output shape). */
export interface ModelDefinition {
  endpointId: string;
  category?: string;
  input: Record<string, FieldDefinition>;
  outputKind: 'images' | 'video';
  /** Property names of the output object, when the definition lists them. */
  outputFields: string[];
}

/** A pydantic-style error item, as fal returns in a 422 `detail` array. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/**
 * The repository's `models/` folder. This file sits in `src/` or `dist/`, so the repo root is
 * three levels up from it in both layouts.
 */
export function defaultModelsDir(): string {
  return fileURLToPath(new URL('../../../models/', import.meta.url));
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function listJsonFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    const full = join(dir, entry);
    let isDir = false;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      continue;
    }
    if (isDir) files.push(...listJsonFiles(full));
    else if (entry.endsWith('.json')) files.push(full);
  }
  return files;
}

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

/** Loads every `*.json` below the folders; later folders override earlier ones. */
export function loadModels(dirs: string[]): {
  models: Map<string, ModelDefinition>;
  warnings: string[];
} {
  const models = new Map<string, ModelDefinition>();
  const warnings: string[] = [];
  for (const dir of dirs) {
    for (const file of listJsonFiles(dir)) {
      const fallbackId = relative(dir, file).slice(0, -'.json'.length).split(sep).join('/');
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        warnings.push(`${file}: ${(error as Error).message}`);
        continue;
      }
      const definition = parseDefinition(parsed, fallbackId);
      if (typeof definition === 'string') warnings.push(`${file}: ${definition}`);
      else models.set(definition.endpointId, definition);
    }
  }
  return { models, warnings };
}

const URL_OR_DATA = /^(https?:\/\/|data:)/i;

function typeMatches(type: string | undefined, value: unknown): boolean {
  switch (type) {
    case 'string':
    case 'file':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
    default:
      return true;
  }
}

/**
 * Checks input the way a model would when it runs: required fields, enum values and basic
 * types. Submit never calls this; the 422 appears at result time (reference §3, §5).
 */
export function validateInput(definition: ModelDefinition, input: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!isRecord(input)) {
    return [{ loc: ['body'], msg: 'Input should be a valid dictionary', type: 'value_error' }];
  }
  for (const [name, field] of Object.entries(definition.input)) {
    const value = input[name];
    if (value === undefined || value === null) {
      if (field.required)
        issues.push({ loc: ['body', name], msg: 'Field required', type: 'value_error' });
      continue;
    }
    if (!typeMatches(field.type, value)) {
      issues.push({
        loc: ['body', name],
        msg: `Input should be a valid ${field.type}`,
        type: 'value_error',
      });
      continue;
    }
    const push = (msg: string) => issues.push({ loc: ['body', name], msg, type: 'value_error' });
    if (Array.isArray(value) && field.itemsType) {
      value.forEach((item, index) => {
        const ok =
          field.itemsType === 'file'
            ? typeof item === 'string' && URL_OR_DATA.test(item)
            : typeMatches(field.itemsType, item);
        if (!ok) {
          issues.push({
            loc: ['body', name, index],
            msg: `Input should be a valid ${field.itemsType === 'file' ? 'URL or data URI' : field.itemsType}`,
            type: 'value_error',
          });
        }
      });
    }
    if (field.type === 'file' && !URL_OR_DATA.test(value as string)) {
      push('Input should be a valid URL or data URI');
    } else if (field.enum && !field.enum.includes(value)) {
      push(`Input should be ${field.enum.map((option) => `'${String(option)}'`).join(', ')}`);
    } else if (
      Array.isArray(value) &&
      field.minItems !== undefined &&
      value.length < field.minItems
    ) {
      push(`List should have at least ${field.minItems} item(s)`);
    } else if (typeof value === 'number' && field.minimum !== undefined && value < field.minimum) {
      push(`Input should be greater than or equal to ${field.minimum}`);
    } else if (typeof value === 'number' && field.maximum !== undefined && value > field.maximum) {
      push(`Input should be less than or equal to ${field.maximum}`);
    }
  }
  return issues;
}
