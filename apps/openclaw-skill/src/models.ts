import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@falai/core';

/**
 * The parts of a model definition (`models/*.json`, meta-schema in core's
 * `models/definition.ts`) that the skill documents. Structural, so core's `ModelDefinition`
 * objects can be passed as they are.
 */
export interface SkillField {
  readonly type: string;
  readonly description?: string;
  readonly required?: boolean;
  readonly default?: unknown;
  readonly enum?: readonly (string | number)[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly items?: SkillField;
  readonly properties?: Readonly<Record<string, SkillField>>;
  readonly media?: string;
  readonly formats?: readonly string[];
}

/** Media limits as the registry declares them. */
export interface SkillMediaLimits {
  readonly formats: readonly string[];
  readonly minDurationSeconds?: number;
  readonly maxDurationSeconds?: number;
  readonly minDimension?: number;
  readonly maxDimension?: number;
  readonly maxBytes?: number;
}

/** One model as the skill documents it. */
export interface SkillModel {
  readonly endpointId: string;
  readonly name: string;
  readonly description: string;
  readonly category: string;
  readonly input: Readonly<Record<string, SkillField>>;
  readonly limits?: {
    readonly video?: SkillMediaLimits;
    readonly image?: SkillMediaLimits;
    readonly totalReferences?: {
      readonly max: number;
      readonly fields: readonly string[];
      readonly description?: string;
    };
    readonly maxFileBytes?: number;
  };
  readonly references?: {
    readonly promptField: string;
    readonly tokens: readonly {
      readonly token: string;
      readonly field: string;
      readonly expected?: boolean;
      readonly description?: string;
    }[];
  };
  readonly output: { readonly kind: string };
  readonly example: Readonly<Record<string, unknown>>;
}

/**
 * The repo's `models/` folder, found from this module in `src/` and in `dist/` alike. Only
 * meaningful in a checkout; an installed CLI passes the registry's models instead.
 */
export function repoModelsDir(): string {
  return fileURLToPath(new URL('../../../models/', import.meta.url));
}

async function jsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function isModel(value: unknown): value is SkillModel {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.endpointId === 'string' &&
    typeof record.name === 'string' &&
    typeof record.category === 'string' &&
    typeof record.input === 'object' &&
    record.input !== null &&
    typeof record.example === 'object' &&
    record.example !== null &&
    typeof record.output === 'object'
  );
}

/**
 * Reads every model file below the given folders (later folders override earlier ones, as
 * user models override built-ins). A file that is not a model definition is an error naming
 * the file, because a silently missing model would vanish from the skill's docs.
 */
export async function loadModelFiles(dirs: readonly string[]): Promise<SkillModel[]> {
  const byId = new Map<string, SkillModel>();
  for (const dir of dirs) {
    let files: string[];
    try {
      files = await jsonFiles(dir);
    } catch (error) {
      throw new ConfigError(
        `Cannot read the models folder ${dir}: ${(error as Error).message}. Pass an existing folder of model files.`,
        { cause: error },
      );
    }
    for (const file of files) {
      if (file.endsWith(`${sep}package.json`)) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new ConfigError(`Model file ${file} is not valid JSON: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (!isModel(parsed)) {
        throw new ConfigError(
          `Model file ${file} is not a model definition (needs endpointId, name, category, input, output, example); see models/README.md.`,
        );
      }
      const expected = relative(dir, file)
        .replace(/\.json$/, '')
        .split(sep)
        .join('/');
      if (parsed.endpointId !== expected) {
        throw new ConfigError(
          `Model file ${file} declares endpointId "${parsed.endpointId}" but its path says "${expected}"; rename the file or fix the id.`,
        );
      }
      byId.set(parsed.endpointId, parsed);
    }
  }
  return sortModels([...byId.values()]);
}

/** Stable order for generated docs: text-to-image first, then edits, then video; then by id. */
export function sortModels(models: readonly SkillModel[]): SkillModel[] {
  const rank = (category: string) => {
    const order = ['text-to-image', 'image-to-image', 'text-to-video', 'image-to-video'];
    const index = order.indexOf(category);
    return index === -1 ? order.length : index;
  };
  return [...models].sort(
    (a, b) => rank(a.category) - rank(b.category) || a.endpointId.localeCompare(b.endpointId),
  );
}
