import { sep } from 'node:path';
import { loadBuiltInModels, type ModelFile, readModelFiles } from '@falai/models';
import { ConfigError, InputError } from '../errors/falai-error.js';
import { checkDefinition, type DefinitionProblem, type ModelDefinition } from './definition.js';
import { type FileRef, findFileFields } from './file-fields.js';
import { toJsonSchema } from './json-schema.js';
import {
  type DefinitionProvider,
  fileResolution,
  type ModelResolution,
  type ResolveOptions,
  refusedIssue,
  remoteDefinitions,
  resolutionWarnings,
} from './provider.js';
import type { ValidationReport } from './report.js';
import { type ValidateOptions, validateAgainst } from './validate.js';

/** One line of `falai models`. */
export interface ModelSummary {
  readonly endpointId: string;
  readonly name: string;
  readonly description: string;
  readonly category: string;
  readonly outputKind: string;
  /** `builtin`, or `user` with the file it came from. */
  readonly source: 'builtin' | 'user';
  readonly file: string;
  /** A user file replaced the built-in definition of the same id. */
  readonly overrides?: boolean;
}

/** A model file that could not be used, with the field at fault. */
export interface ModelFileProblem extends DefinitionProblem {
  readonly file: string;
  readonly source: 'builtin' | 'user';
}

/** The models falai knows, and validation of inputs against them. */
export interface ModelRegistry {
  list(): ModelSummary[];
  get(endpointId: string): ModelDefinition | undefined;
  has(endpointId: string): boolean;
  validate(
    endpointId: string,
    input: unknown,
    options?: ValidateOptions,
  ): Promise<ValidationReport>;
  /** JSON Schema (draft 2020-12) of a model's input, for `model-info --json`. */
  jsonSchema(endpointId: string): Record<string, unknown>;
  /** Every file-valued location in an input. */
  fileFields(endpointId: string, input: unknown): FileRef[];
  /** Model files that were skipped because they are broken. */
  problems(): ModelFileProblem[];
  /**
   * Where an id's definition comes from: a model file, else the provider (fal's catalogue),
   * which also says whether fal knows the id at all (`refused`, with the closest ids).
   */
  resolve(endpointId: string, options?: ResolveOptions): Promise<ModelResolution>;
}

export interface ModelRegistryOptions {
  /**
   * Directory of built-in models, instead of the definitions of the `@falai/models` package
   * (the only place built-in models come from otherwise).
   */
  readonly builtinDir?: string;
  /** User model directories (`$FALAI_MODELS_DIR`, `<config dir>/models`), later ones win. */
  readonly userDirs?: readonly string[];
  /** Throw a ConfigError on a broken user file instead of skipping it with a warning. */
  readonly strictFiles?: boolean;
  /** Definitions of the ids no model file describes (`createModelCatalogue`); files win. */
  readonly provider?: DefinitionProvider;
}

/** Checked model files: the usable definitions (with their files) and the problems. */
export interface LoadedModels {
  readonly models: ModelDefinition[];
  readonly files: string[];
  readonly problems: ModelFileProblem[];
}

/**
 * Checks model files as `@falai/models` reads them: the meta-schema, and that the endpoint id
 * matches the file's path, so a model is always found where its id says.
 */
function checkModelFiles(found: readonly ModelFile[], source: 'builtin' | 'user'): LoadedModels {
  const models: ModelDefinition[] = [];
  const files: string[] = [];
  const problems: ModelFileProblem[] = [];
  for (const { file, endpointId: expectedId, definition, error } of found) {
    if (error !== undefined) {
      problems.push({ file, source, field: '(file)', message: error });
      continue;
    }
    const issues = checkDefinition(definition);
    const id = (definition as { endpointId?: unknown } | null)?.endpointId;
    if (issues.length === 0 && id !== expectedId) {
      issues.push({
        field: 'endpointId',
        message: `"${String(id)}" does not match the file path; expected "${expectedId}"`,
      });
    }
    if (issues.length > 0) {
      for (const p of issues) problems.push({ file, source, ...p });
      continue;
    }
    models.push(definition as ModelDefinition);
    files.push(file);
  }
  return { models, files, problems };
}

/**
 * Reads and checks every model file of a directory. The endpoint id must match the file's
 * path below the directory, so a model is always found where its id says.
 */
export function loadModelDirectory(
  dir: string,
  source: 'builtin' | 'user' = 'builtin',
): LoadedModels {
  return checkModelFiles(readModelFiles(dir), source);
}

/** The built-in models (the `@falai/models` package), checked like any model folder. */
export function loadBuiltInModelDefinitions(): LoadedModels {
  return checkModelFiles(loadBuiltInModels(), 'builtin');
}

interface Entry {
  readonly def: ModelDefinition;
  readonly source: 'builtin' | 'user';
  readonly file: string;
  readonly overrides: boolean;
}

/** Creates a registry. Files are read on first use; each input schema is compiled once. */
export function createModelRegistry(options: ModelRegistryOptions = {}): ModelRegistry {
  let entries: Map<string, Entry> | undefined;
  let problems: ModelFileProblem[] = [];
  const remote = remoteDefinitions(options.provider);

  const load = (): Map<string, Entry> => {
    if (entries) return entries;
    const map = new Map<string, Entry>();
    const found: ModelFileProblem[] = [];
    const builtin = options.builtinDir
      ? loadModelDirectory(options.builtinDir, 'builtin')
      : loadBuiltInModelDefinitions();
    found.push(...builtin.problems);
    builtin.models.forEach((def, i) => {
      map.set(def.endpointId, {
        def,
        source: 'builtin',
        file: builtin.files[i] ?? '',
        overrides: false,
      });
    });
    for (const dir of options.userDirs ?? []) {
      const user = loadModelDirectory(dir, 'user');
      if (options.strictFiles && user.problems.length > 0) {
        const p = user.problems[0] as ModelFileProblem;
        throw new ConfigError(
          `Model file ${p.file} is invalid at "${p.field}": ${p.message}. Fix or remove the file.`,
          { details: { problems: user.problems } },
        );
      }
      found.push(...user.problems);
      user.models.forEach((def, i) => {
        const previous = map.get(def.endpointId);
        map.set(def.endpointId, {
          def,
          source: 'user',
          file: user.files[i] ?? '',
          overrides: previous?.source === 'builtin' || previous?.overrides === true,
        });
      });
    }
    problems = found;
    entries = map;
    return map;
  };

  const problemWarnings = (endpointId: string) =>
    problems
      .filter((p) => p.source === 'user')
      .filter((p) => p.file.split(sep).join('/').endsWith(`/${endpointId}.json`))
      .map((p) => ({
        path: [] as (string | number)[],
        kind: 'model-file',
        message: `Model file ${p.file} was skipped: "${p.field}" ${p.message}`,
        hint: 'fix the file (run `pnpm models:check <dir>` or `falai models`) or remove it',
      }));

  return {
    list: () =>
      [...load().values()]
        .map(({ def, source, file, overrides }) => ({
          endpointId: def.endpointId,
          name: def.name,
          description: def.description,
          category: def.category,
          outputKind: def.output.kind,
          source,
          file,
          ...(overrides ? { overrides } : {}),
        }))
        .sort((a, b) => a.endpointId.localeCompare(b.endpointId)),
    get: (endpointId) => load().get(endpointId)?.def ?? remote.definition(endpointId),
    has: (endpointId) => load().has(endpointId) || remote.definition(endpointId) !== undefined,
    problems: () => {
      load();
      return [...problems];
    },
    fileFields: (endpointId, input) =>
      findFileFields(load().get(endpointId)?.def ?? remote.definition(endpointId), input),
    jsonSchema: (endpointId) => {
      const def = load().get(endpointId)?.def ?? remote.definition(endpointId);
      if (!def) {
        throw new InputError(
          `Unknown model "${endpointId}". Run \`falai models\` to list known models, or add a model file to $FALAI_MODELS_DIR.`,
          [],
          { code: 'MODEL_UNKNOWN' },
        );
      }
      return toJsonSchema(def);
    },
    validate: async (endpointId, input, validateOptions = {}) => {
      const entry = load().get(endpointId);
      const fileWarnings = problemWarnings(endpointId);
      const resolved = entry ? undefined : await remote.resolve(endpointId);
      const def = entry?.def ?? resolved?.definition;
      if (!def) {
        const issue = resolved?.refused
          ? refusedIssue(resolved)
          : {
              path: [] as (string | number)[],
              kind: 'unknown-model',
              message: `No model definition for "${endpointId}": the input is not validated`,
              hint: `check the id with \`falai models\`, or describe it in $FALAI_MODELS_DIR/${endpointId}.json (convertOpenApi turns fal's OpenAPI into one)`,
            };
        const strict = validateOptions.strict === true || resolved?.refused === true;
        return {
          ok: !strict,
          endpointId,
          known: false,
          issues: strict ? [issue] : [],
          warnings: [...fileWarnings, ...resolutionWarnings(resolved), ...(strict ? [] : [issue])],
          notes: [],
        };
      }
      const found = await validateAgainst(def, input, validateOptions);
      const notes = entry?.overrides
        ? [
            `Using the user model file ${entry.file} (it overrides the built-in definition)`,
            ...found.notes,
          ]
        : [...(resolved?.notes ?? []), ...found.notes];
      return {
        ok: found.issues.length === 0,
        endpointId,
        known: true,
        issues: found.issues,
        warnings: [...fileWarnings, ...resolutionWarnings(resolved), ...found.warnings],
        notes,
      };
    },
    resolve: async (endpointId, resolveOptions) => {
      const entry = load().get(endpointId);
      if (entry) return fileResolution(endpointId, entry.def, entry.source);
      return remote.resolve(endpointId, resolveOptions);
    },
  };
}
