import * as v from 'valibot';

/** One credential source `check-key` looked at. */
export const CredentialSourceSchema = v.object({
  source: v.string(),
  result: v.string(),
  found: v.boolean(),
  masked: v.optional(v.string()),
  fix: v.optional(v.string()),
});

/** `falai check-key --json`. Keys appear masked (at most an 8-character prefix), never whole. */
export const CheckKeyOutputSchema = v.object({
  found: v.literal(true),
  source: v.string(),
  masked: v.pipe(v.string(), v.maxLength(12)),
  sources: v.array(CredentialSourceSchema),
  verified: v.optional(v.boolean()),
  verifyMessage: v.optional(v.string()),
  /** Set when the key was changed on the way in (e.g. surrounding quotes removed). */
  note: v.optional(v.string()),
});
export type CheckKeyOutput = v.InferOutput<typeof CheckKeyOutputSchema>;

/** `falai models --json`. */
export const ModelsOutputSchema = v.object({
  models: v.array(
    v.object({
      endpointId: v.string(),
      name: v.optional(v.string()),
      category: v.optional(v.string()),
      description: v.optional(v.string()),
      source: v.optional(v.string()),
    }),
  ),
  count: v.number(),
});
export type ModelsOutput = v.InferOutput<typeof ModelsOutputSchema>;

/** `falai model-info --json`: the definition's facts plus the input's JSON Schema. */
export const ModelInfoOutputSchema = v.object({
  endpointId: v.string(),
  name: v.optional(v.string()),
  category: v.optional(v.string()),
  description: v.optional(v.string()),
  required: v.array(v.string()),
  optional: v.array(v.string()),
  fileFields: v.array(v.string()),
  limits: v.optional(v.unknown()),
  references: v.optional(v.unknown()),
  notes: v.array(v.string()),
  example: v.optional(v.unknown()),
  /** JSON Schema (draft 2020-12 style object) of the input. */
  schema: v.record(v.string(), v.unknown()),
});
export type ModelInfoOutput = v.InferOutput<typeof ModelInfoOutputSchema>;

/** `falai to-data-uri --json` and `falai video-to-uri --json`. */
export const DataUriOutputSchema = v.object({
  path: v.string(),
  uri: v.pipe(v.string(), v.startsWith('data:')),
  mime: v.string(),
  size: v.number(),
  digest: v.string(),
  warnings: v.array(v.string()),
  video: v.optional(
    v.object({
      container: v.string(),
      durationSeconds: v.number(),
      width: v.number(),
      height: v.number(),
    }),
  ),
});
export type DataUriOutput = v.InferOutput<typeof DataUriOutputSchema>;

/** `falai upload --json`. */
export const UploadOutputSchema = v.object({
  path: v.string(),
  url: v.string(),
  size: v.number(),
  contentType: v.string(),
});
export type UploadOutput = v.InferOutput<typeof UploadOutputSchema>;

/** `falai config get --json`. */
export const ConfigGetOutputSchema = v.object({
  key: v.string(),
  value: v.optional(v.unknown()),
  set: v.boolean(),
  path: v.string(),
});
export type ConfigGetOutput = v.InferOutput<typeof ConfigGetOutputSchema>;

/** `falai config set --json` and `falai config unset --json`. */
export const ConfigSetOutputSchema = v.object({
  key: v.string(),
  value: v.optional(v.unknown()),
  path: v.string(),
});
export type ConfigSetOutput = v.InferOutput<typeof ConfigSetOutputSchema>;

/** `falai config list --json`: the file's values (`key` masked) and the effective settings. */
export const ConfigListOutputSchema = v.object({
  path: v.string(),
  values: v.record(v.string(), v.unknown()),
  effective: v.record(v.string(), v.object({ value: v.unknown(), source: v.string() })),
});
export type ConfigListOutput = v.InferOutput<typeof ConfigListOutputSchema>;

/** `falai emulator --json`: one line printed once the emulator listens. */
export const EmulatorOutputSchema = v.object({
  url: v.string(),
  env: v.object({ FALAI_BASE_URL: v.string() }),
});
export type EmulatorOutput = v.InferOutput<typeof EmulatorOutputSchema>;

/** `falai models import --json`: the model files written from an OpenAPI document. */
export const ModelsImportOutputSchema = v.object({
  imported: v.array(
    v.object({
      endpointId: v.string(),
      name: v.string(),
      category: v.string(),
      path: v.string(),
    }),
  ),
  count: v.number(),
  dir: v.string(),
});
export type ModelsImportOutput = v.InferOutput<typeof ModelsImportOutputSchema>;
