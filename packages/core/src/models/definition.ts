import * as v from 'valibot';
import { findUnsafeKey } from '../json/unsafe-keys.js';

/**
 * The meta-schema of a model file in `models/` (and in users' model directories).
 * Model files are data: this schema is the single authority on their shape, used by the
 * registry when it loads them and by `pnpm models:check`.
 */

/** Field types a model input may declare. `file` is a string holding a URL, data URI or path. */
export const FIELD_TYPES = [
  'string',
  'integer',
  'number',
  'boolean',
  'file',
  'array',
  'object',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** What a `file` field holds; decides which local checks apply. */
export const MEDIA_KINDS = ['image', 'video', 'file'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** Categories fal uses; other strings are allowed for user models. */
export const KNOWN_CATEGORIES = [
  'text-to-image',
  'image-to-image',
  'video-to-video',
  'image-to-video',
  'text-to-video',
] as const;

/** The output kinds the emulator and the CLI know how to fake or download. */
export const OUTPUT_KINDS = ['images', 'video', 'other'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/** One input (or output) field. Recursive through `items` and `properties`. */
export interface FieldSpec {
  readonly type: FieldType;
  readonly description?: string | undefined;
  readonly required?: boolean | undefined;
  readonly default?: unknown;
  readonly enum?: readonly (string | number)[] | undefined;
  readonly minimum?: number | undefined;
  readonly maximum?: number | undefined;
  readonly minLength?: number | undefined;
  readonly maxLength?: number | undefined;
  readonly minItems?: number | undefined;
  readonly maxItems?: number | undefined;
  readonly items?: FieldSpec | undefined;
  readonly properties?: Readonly<Record<string, FieldSpec>> | undefined;
  /** For `file` fields: what the file must be. */
  readonly media?: MediaKind | undefined;
  /** For `file` fields: accepted formats as file-type extensions (`jpg`, `png`, `mp4`, `mov`). */
  readonly formats?: readonly string[] | undefined;
  /** Example value shown by `model-info`. */
  readonly example?: unknown;
}

const nonEmptyString = v.pipe(v.string(), v.minLength(1, 'must not be empty'));
const count = v.pipe(v.number(), v.integer('must be an integer'), v.minValue(0, 'must be ≥ 0'));

/** Meta-schema of one field. */
export const FieldSpecSchema: v.GenericSchema<FieldSpec> = v.pipe(
  v.strictObject({
    type: v.picklist(FIELD_TYPES, `must be one of ${FIELD_TYPES.join(', ')}`),
    description: v.optional(v.string()),
    required: v.optional(v.boolean()),
    default: v.optional(v.unknown()),
    enum: v.optional(
      v.pipe(v.array(v.union([v.string(), v.number()])), v.minLength(1, 'must not be empty')),
    ),
    minimum: v.optional(v.number()),
    maximum: v.optional(v.number()),
    minLength: v.optional(count),
    maxLength: v.optional(count),
    minItems: v.optional(count),
    maxItems: v.optional(count),
    items: v.optional(v.lazy(() => FieldSpecSchema)),
    properties: v.optional(
      v.record(
        nonEmptyString,
        v.lazy(() => FieldSpecSchema),
      ),
    ),
    media: v.optional(v.picklist(MEDIA_KINDS, `must be one of ${MEDIA_KINDS.join(', ')}`)),
    formats: v.optional(v.array(nonEmptyString)),
    example: v.optional(v.unknown()),
  }),
  v.forward(
    v.check(
      (f) => f.type !== 'array' || f.items !== undefined,
      'an array field needs "items" describing its elements',
    ),
    ['items'],
  ),
  v.forward(
    v.check((f) => f.type !== 'file' || f.media !== undefined, 'a file field needs "media"'),
    ['media'],
  ),
  v.forward(
    v.check(
      (f) => f.minimum === undefined || f.maximum === undefined || f.minimum <= f.maximum,
      'minimum is greater than maximum',
    ),
    ['minimum'],
  ),
  v.forward(
    v.check(
      (f) => f.minItems === undefined || f.maxItems === undefined || f.minItems <= f.maxItems,
      'minItems is greater than maxItems',
    ),
    ['minItems'],
  ),
);

/** Limits for a video file (local files and data URIs are checked against them). */
export const VideoLimitsSchema = v.strictObject({
  /** Containers as file-type extensions: `mp4`, `mov`. */
  formats: v.pipe(v.array(nonEmptyString), v.minLength(1)),
  minDurationSeconds: v.optional(v.number()),
  maxDurationSeconds: v.optional(v.number()),
  /** Each of width and height must be at least this many pixels. */
  minDimension: v.optional(v.number()),
  /** Each of width and height must be at most this many pixels. */
  maxDimension: v.optional(v.number()),
  maxBytes: v.optional(v.number()),
});
export type VideoLimits = v.InferOutput<typeof VideoLimitsSchema>;

/** Limits for image files. */
export const ImageLimitsSchema = v.strictObject({
  formats: v.pipe(v.array(nonEmptyString), v.minLength(1)),
  maxBytes: v.optional(v.number()),
  minDimension: v.optional(v.number()),
  maxDimension: v.optional(v.number()),
});
export type ImageLimits = v.InferOutput<typeof ImageLimitsSchema>;

/** A cap on how many references (images + elements) one request may carry. */
export const TotalReferencesSchema = v.strictObject({
  max: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** Array fields whose lengths add up against `max`. */
  fields: v.pipe(v.array(nonEmptyString), v.minLength(1)),
  description: v.optional(v.string()),
});

export const LimitsSchema = v.strictObject({
  video: v.optional(VideoLimitsSchema),
  image: v.optional(ImageLimitsSchema),
  totalReferences: v.optional(TotalReferencesSchema),
  /** Data URIs above this size get a warning (fal: "hurts performance"). */
  dataUriWarnBytes: v.optional(v.number()),
  /** Local files above this size are refused. */
  maxFileBytes: v.optional(v.number()),
});
export type ModelLimits = v.InferOutput<typeof LimitsSchema>;

/** One kind of prompt reference, e.g. `@Image<n>` counting the items of `image_urls`. */
export const PromptTokenSchema = v.strictObject({
  /** The word after `@`: `Video`, `Image`, `Element`. */
  token: v.pipe(v.string(), v.regex(/^[A-Za-z]+$/, 'must be letters only, e.g. "Image"')),
  /** The input field the numbers count into (array length, or 1 for a single file). */
  field: nonEmptyString,
  /** When the field is given, the prompt is expected to mention it (else a note). */
  expected: v.optional(v.boolean()),
  description: v.optional(v.string()),
});

export const ReferencesSchema = v.strictObject({
  /** The field holding the prompt, usually `prompt`. */
  promptField: nonEmptyString,
  tokens: v.pipe(v.array(PromptTokenSchema), v.minLength(1)),
});
export type PromptReferences = v.InferOutput<typeof ReferencesSchema>;

export const OutputSchema = v.strictObject({
  kind: v.picklist(OUTPUT_KINDS, `must be one of ${OUTPUT_KINDS.join(', ')}`),
  schema: v.record(nonEmptyString, FieldSpecSchema),
});

/** An entry of `unconfirmed`: a dotted path in this file, optionally with why. */
export const UnconfirmedSchema = v.union([
  nonEmptyString,
  v.strictObject({ path: nonEmptyString, note: v.string() }),
]);

/** The whole model file. */
export const ModelDefinitionSchema = v.strictObject({
  $schema: v.optional(v.string()),
  endpointId: v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)+$/, 'must look like "owner/app[/path]"'),
  ),
  name: nonEmptyString,
  description: nonEmptyString,
  category: nonEmptyString,
  input: v.pipe(
    v.record(nonEmptyString, FieldSpecSchema),
    v.check((r) => Object.keys(r).length > 0, 'must declare at least one field'),
  ),
  limits: v.optional(LimitsSchema),
  references: v.optional(ReferencesSchema),
  output: OutputSchema,
  example: v.record(v.string(), v.unknown()),
  /**
   * Seconds a request typically takes, as fal's catalogue gives it (`metadata.duration_estimate`):
   * agents wait on quick models and submit-then-collect slow ones.
   */
  durationEstimate: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0))),
  unconfirmed: v.optional(v.array(UnconfirmedSchema)),
  /** Where the facts come from. */
  sources: v.optional(v.array(v.string())),
});
export type ModelDefinition = v.InferOutput<typeof ModelDefinitionSchema>;

/** One problem in a model file, with a dotted field path inside the file. */
export interface DefinitionProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * Checks a parsed model file: the meta-schema plus the cross-field rules that a schema
 * alone cannot express (references and limits must point at declared fields).
 */
export function checkDefinition(value: unknown): DefinitionProblem[] {
  // A model file is user data ($FALAI_MODELS_DIR): one naming __proto__ & co. is refused
  // before anything walks it (valibot would silently drop those keys).
  const unsafe = findUnsafeKey(value);
  if (unsafe) {
    return [
      {
        field: unsafe.join('.'),
        message: `"${String(unsafe[unsafe.length - 1])}" is not allowed as a key in a model file (__proto__, constructor and prototype reach into JavaScript objects); rename or remove it`,
      },
    ];
  }
  const parsed = v.safeParse(ModelDefinitionSchema, value, { abortEarly: false });
  if (!parsed.success) {
    return parsed.issues.map((issue) => ({
      field: v.getDotPath(issue) ?? '(file)',
      message: issue.message,
    }));
  }
  const def = parsed.output;
  const problems: DefinitionProblem[] = [];
  const fields = def.input;
  def.references?.tokens.forEach((t, i) => {
    if (!Object.hasOwn(fields, t.field))
      problems.push({
        field: `references.tokens.${i}.field`,
        message: `"${t.field}" is not an input field`,
      });
  });
  if (def.references && !Object.hasOwn(fields, def.references.promptField))
    problems.push({
      field: 'references.promptField',
      message: `"${def.references.promptField}" is not an input field`,
    });
  def.limits?.totalReferences?.fields.forEach((name, i) => {
    const spec = fields[name];
    if (spec?.type !== 'array')
      problems.push({
        field: `limits.totalReferences.fields.${i}`,
        message: `"${name}" is not an array input field`,
      });
  });
  const bounds = (spec: FieldSpec, at: string) => {
    if (spec.items) bounds(spec.items, `${at}.items`);
    for (const [name, child] of Object.entries(spec.properties ?? {}))
      bounds(child, `${at}.properties.${name}`);
    for (const keyword of ['minimum', 'maximum'] as const) {
      const bound = spec[keyword];
      // JSON.parse already rounded such a bound, so comparing against it would not be exact.
      if (bound !== undefined && Number.isInteger(bound) && !Number.isSafeInteger(bound))
        problems.push({
          field: `${at}.${keyword}`,
          message: `${bound} is beyond 2^53, where a JSON number loses digits; leave the bound out (fal still enforces it) or give one within ±9007199254740991`,
        });
    }
  };
  for (const [name, spec] of Object.entries(fields)) bounds(spec, `input.${name}`);
  for (const [name, spec] of Object.entries(fields)) {
    if (spec.enum && spec.default !== undefined && !spec.enum.includes(spec.default as string))
      problems.push({
        field: `input.${name}.default`,
        message: `default ${JSON.stringify(spec.default)} is not one of the enum values`,
      });
  }
  return problems;
}
