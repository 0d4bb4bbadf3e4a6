import { chmod, copyFile, cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, FalaiError } from '@falai/core';
import { SKILL_FILES } from './constants.js';
import { mustDeclare, scanEnvNames } from './env-vars.js';
import { exists, listFiles } from './fs-util.js';
import { loadModelFiles, repoModelsDir, type SkillModel, sortModels } from './models.js';
import { renderSkillMarkdown } from './render/skill-md.js';
import { renderWrapperScript } from './wrapper.js';

/** Options of {@link buildSkill}. */
export interface BuildSkillOptions {
  /** The skill folder to write (created; a previous build there is replaced). */
  readonly outDir: string;
  /** Models to document; default: core's model registry, else the repo's `models/`. */
  readonly models?: readonly SkillModel[];
  /** Read model files from these folders instead (later folders override earlier ones). */
  readonly modelsDirs?: readonly string[];
  /**
   * The single-file CLI build to ship as `scripts/falai-cli.mjs`.
   * @default the repo's `apps/cli/dist-bundle/falai.mjs` (`pnpm --filter falai bundle`)
   */
  readonly cliBundlePath?: string;
  /** Frontmatter `version`. @default this package's version */
  readonly version?: string;
  /** Write into a non-empty folder that is not a previous skill build. @default false */
  readonly force?: boolean;
}

/** What {@link buildSkill} wrote. */
export interface BuiltSkill {
  /** Absolute path of the skill folder. */
  readonly dir: string;
  /** Files in it, relative, sorted. */
  readonly files: readonly string[];
  /** Endpoint ids documented in SKILL.md. */
  readonly models: readonly string[];
  readonly version: string;
}

/** The repo's CLI bundle, found from this module in `src/` and `dist/` alike. */
export function defaultCliBundlePath(): string {
  return fileURLToPath(new URL('../../cli/dist-bundle/falai.mjs', import.meta.url));
}

async function packageVersion(): Promise<string> {
  const manifest = fileURLToPath(new URL('../package.json', import.meta.url));
  try {
    const parsed = JSON.parse(await readFile(manifest, 'utf8')) as { version?: string };
    return parsed.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

interface RegistryLike {
  list(): readonly { readonly endpointId?: string; readonly id?: string }[];
  get(id: string): SkillModel | undefined;
}

/** Models from core's registry when core provides one (the source of truth for built-ins). */
async function registryModels(): Promise<SkillModel[] | undefined> {
  const core = (await import('@falai/core')) as unknown as {
    createModelRegistry?: (options?: object) => RegistryLike;
  };
  if (typeof core.createModelRegistry !== 'function') return undefined;
  const registry = core.createModelRegistry();
  const models: SkillModel[] = [];
  for (const summary of registry.list()) {
    const id = summary.endpointId ?? summary.id;
    const model = id ? registry.get(id) : undefined;
    if (model) models.push(model);
  }
  return models.length > 0 ? sortModels(models) : undefined;
}

async function resolveModels(options: BuildSkillOptions): Promise<SkillModel[]> {
  if (options.models) return sortModels(options.models);
  if (options.modelsDirs) return loadModelFiles(options.modelsDirs);
  return (await registryModels()) ?? loadModelFiles([repoModelsDir()]);
}

/** Clears a previous build (keeping dot-folders such as `.clawhub/`), or refuses. */
async function prepareOutDir(dir: string, force: boolean): Promise<void> {
  if (!(await exists(dir))) {
    await mkdir(dir, { recursive: true });
    return;
  }
  const entries = await readdir(dir);
  const previousBuild = entries.includes(SKILL_FILES.skillMd);
  if (entries.length > 0 && !previousBuild && !force) {
    throw new FalaiError(
      'OUTPUT_EXISTS',
      `${dir} is not empty and holds no SKILL.md; choose an empty or new folder for the skill (or pass force).`,
    );
  }
  for (const entry of entries) {
    if (entry.startsWith('.')) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
  }
}

/**
 * Writes the `falai` skill folder: SKILL.md generated from the models, `references/models.json`,
 * `scripts/falai.mjs` (the entry point), `scripts/falai-cli.mjs` (the bundled CLI) and the
 * bundle's built-in model files (`scripts/models/`, when the bundle has them beside it).
 * Environment variables the bundle mentions are declared in SKILL.md, as ClawHub requires.
 */
export async function buildSkill(options: BuildSkillOptions): Promise<BuiltSkill> {
  const dir = resolve(options.outDir);
  const bundlePath = resolve(options.cliBundlePath ?? defaultCliBundlePath());
  let bundle: string;
  try {
    bundle = await readFile(bundlePath, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `The single-file falai CLI was not found at ${bundlePath}. Build it with \`pnpm --filter falai bundle\`, or pass its path (--cli-bundle).`,
      { cause: error },
    );
  }
  const models = await resolveModels(options);
  if (models.length === 0) {
    throw new ConfigError('No model definitions found; the skill needs at least one model.');
  }
  const version = options.version ?? (await packageVersion());
  const extraEnvVars = [...scanEnvNames(bundle)].filter(mustDeclare);

  await prepareOutDir(dir, options.force ?? false);
  const write = async (file: string, content: string) => {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    return path;
  };
  await write(SKILL_FILES.skillMd, renderSkillMarkdown({ models, version, extraEnvVars }));
  await write(
    SKILL_FILES.models,
    `${JSON.stringify(
      {
        $comment: 'Generated by @falai/openclaw-skill from the falai model registry; do not edit.',
        models: Object.fromEntries(models.map((model) => [model.endpointId, model])),
      },
      null,
      2,
    )}\n`,
  );
  await chmod(await write(SKILL_FILES.wrapper, renderWrapperScript()), 0o755);
  await mkdir(dirname(join(dir, SKILL_FILES.cliBundle)), { recursive: true });
  await copyFile(bundlePath, join(dir, SKILL_FILES.cliBundle));
  // The bundle finds its built-in model files in `models/` beside itself.
  const bundledModels = join(dirname(bundlePath), 'models');
  if (await exists(bundledModels)) {
    await cp(bundledModels, join(dir, dirname(SKILL_FILES.cliBundle), 'models'), {
      recursive: true,
    });
  }

  return {
    dir,
    files: (await listFiles(dir)).filter((file) => !file.startsWith('.')),
    models: models.map((model) => model.endpointId),
    version,
  };
}
