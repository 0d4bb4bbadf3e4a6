/**
 * The model registry: declarative model files compiled to valibot schemas, validation of
 * inputs with every issue at once, `--set` coercion and the fal OpenAPI converter.
 */
export { checkModelDirectory, type ModelCheckResult } from './check.js';
export { coerceSetValue, setInputValue } from './coerce.js';
export {
  checkDefinition,
  type DefinitionProblem,
  FIELD_TYPES,
  type FieldSpec,
  FieldSpecSchema,
  type FieldType,
  type ImageLimits,
  KNOWN_CATEGORIES,
  MEDIA_KINDS,
  type MediaKind,
  type ModelDefinition,
  ModelDefinitionSchema,
  type ModelLimits,
  OUTPUT_KINDS,
  type OutputKind,
  type PromptReferences,
  type VideoLimits,
} from './definition.js';
export { type FileRef, findFileFields } from './file-fields.js';
export { isOverridable, OVERRIDABLE_KINDS } from './issues.js';
export { toJsonSchema } from './json-schema.js';
export { convertOpenApi, convertPlatformModels, loadOpenApi } from './openapi.js';
export {
  createModelRegistry,
  type LoadedModels,
  loadBuiltInModelDefinitions,
  loadModelDirectory,
  type ModelFileProblem,
  type ModelRegistry,
  type ModelRegistryOptions,
  type ModelSummary,
} from './registry.js';
export {
  type AssertValidOptions,
  assertValid,
  formatValidationReport,
  type ValidationReport,
} from './report.js';
export type { ValidateOptions } from './validate.js';
export { videoLimitsFor } from './video-limits.js';
