import { statSync } from 'node:fs';
import {
  ConfigError,
  type FieldSpec,
  type LoadedModels,
  loadBuiltInModelDefinitions,
  loadModelDirectory,
  type ModelDefinition,
} from '@falai/core';
import type { VideoLimits } from '@falai/core/internal';

/** One model as the skill documents it: core's model definition, the single authority. */
export type SkillModel = ModelDefinition;

/** One input field of a model. */
export type SkillField = FieldSpec;

/** Media limits of a model; image limits are the same fields minus the durations. */
export type SkillMediaLimits = VideoLimits;

/**
 * Reads every model file below the given folders (later folders override earlier ones, as
 * user models override built-ins) with core's loader and meta-schema; without folders, the
 * built-in models (the `@falai/models` package, through core). A broken file is an error
 * naming the file, not a skipped model: a silently missing model would vanish from the
 * skill's docs.
 */
export function loadModelFiles(dirs?: readonly string[]): SkillModel[] {
  if (dirs === undefined) return sortModels(usable(loadBuiltInModelDefinitions()));
  const byId = new Map<string, SkillModel>();
  for (const dir of dirs) {
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ConfigError(
        `Cannot read the models folder ${dir}: it is not a folder. Pass an existing folder of model files.`,
      );
    }
    for (const model of usable(loadModelDirectory(dir))) byId.set(model.endpointId, model);
  }
  return sortModels([...byId.values()]);
}

/** The models of a loaded folder, or a ConfigError naming the first broken file. */
function usable({ models, problems }: LoadedModels): SkillModel[] {
  const [problem] = problems;
  if (problem) {
    throw new ConfigError(
      `Model file ${problem.file} is invalid at "${problem.field}": ${problem.message}. Fix it (see models/README.md) or remove it.`,
      { details: { problems } },
    );
  }
  return models;
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
