import type { FieldSpec, ModelDefinition, ModelInfoSourceOutput, ModelRegistry } from '@falai/core';
import { InputError } from '@falai/core';
import type { ModelResolution } from '@falai/core/internal';
import { assertResolved, formatAge } from '@falai/core/internal';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { endpointArg } from '../flags.js';

/** Seed command: one model's fields, limits, prompt references and an example. */
export default class ModelInfo extends BaseCommand<typeof ModelInfo> {
  static override summary = "Show a model's fields, limits, prompt references and an example.";
  static override description =
    "Describes one model: required and optional fields with their types, enums and ranges, file fields, limits (video duration, resolution, size; reference counts), the @Image/@Video/@Element prompt references and an example input. Any fal endpoint works: without a model file (built in, FALAI_MODELS_DIR or <config dir>/models, which win), the definition comes from fal's catalogue (its OpenAPI schema, converted) and is cached; offline the cached copy is used, even when old. --json adds the JSON Schema of the input.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> fal-ai/kling-video/o3/pro/video-to-video/edit',
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro --json',
    '<%= config.bin %> <%= command.id %> fal-ai/flux/dev --refresh',
  ];
  static override args = { endpoint: endpointArg() };
  static override flags = {
    refresh: Flags.boolean({
      description:
        "Fetch the definition from fal's catalogue again, even when the cached copy is fresh (model files are not affected).",
    }),
  };

  async run(): Promise<ModelInfoSourceOutput> {
    const registry = await this.registry();
    const endpointId = this.args.endpoint;
    const resolution = await registry.resolve(
      endpointId,
      this.flags.refresh ? { refresh: true } : {},
    );
    const model = resolution.definition;
    if (!model) throw unknownModel(registry, resolution);
    for (const warning of resolution.warnings) this.note(`⚠️  ${warning}`);
    if (this.flags.refresh && resolution.status === 'file')
      this.note(
        `${endpointId} is described by a model file; --refresh only concerns fal's catalogue.`,
      );
    const entries = Object.entries(model.input);
    const required = entries.filter(([, spec]) => spec.required).map(([name]) => name);
    const optional = entries.filter(([, spec]) => !spec.required).map(([name]) => name);
    const fileFields = entries.filter(([, spec]) => hasFile(spec)).map(([name]) => name);
    const notes = notesFor(model);
    this.render(model, required, notes, resolution);
    return {
      endpointId: model.endpointId,
      name: model.name,
      category: model.category,
      description: model.description,
      required,
      optional,
      fileFields,
      ...(model.limits ? { limits: model.limits } : {}),
      ...(model.references ? { references: model.references } : {}),
      notes,
      example: model.example,
      schema: registry.jsonSchema(endpointId) as Record<string, unknown>,
      source: resolution.source === 'none' ? 'catalogue' : resolution.source,
      ...(resolution.deprecated ? { deprecated: true } : {}),
      ...(resolution.fetchedAt ? { fetchedAt: resolution.fetchedAt } : {}),
      ...(resolution.stale ? { stale: true } : {}),
      ...(resolution.warnings.length > 0 ? { warnings: [...resolution.warnings] } : {}),
    };
  }

  private render(
    model: ModelDefinition,
    required: string[],
    notes: string[],
    resolution: ModelResolution,
  ): void {
    this.log(`${model.endpointId} — ${model.name} (${model.category})`);
    this.log(model.description);
    this.log(`Source: ${sourceLine(resolution)}`);
    this.log('');
    this.log('Fields:');
    for (const [name, spec] of Object.entries(model.input)) {
      this.log(`  ${required.includes(name) ? '*' : ' '} ${name}: ${describe(spec)}`);
    }
    this.log('  (* required)');
    if (notes.length > 0) {
      this.log('');
      for (const note of notes) this.log(`⚠️  Note: ${note}`);
    }
    this.log('');
    this.log('Example:');
    this.log(`  falai run ${model.endpointId} '${JSON.stringify(model.example)}'`);
  }
}

/** Where the definition came from, for humans. */
function sourceLine(resolution: ModelResolution): string {
  if (resolution.source === 'builtin') return 'built-in model file';
  if (resolution.source === 'user') return 'your model file';
  if (resolution.source === 'catalogue') return "fal's catalogue (fetched now)";
  const age = resolution.fetchedAt
    ? ` ${formatAge(Date.now() - Date.parse(resolution.fetchedAt))} ago`
    : '';
  return `fal's catalogue (cached${age}${resolution.stale ? ', older than a day' : ''})`;
}

/**
 * The error for an id without a definition: refused (fal does not list it: the closest ids),
 * listed without a usable schema, a private app, or unchecked (fal unreachable, nothing cached).
 */
function unknownModel(registry: ModelRegistry, resolution: ModelResolution): Error {
  const { endpointId } = resolution;
  assertResolved(resolution);
  const known = registry.list().map((entry) => entry.endpointId);
  const why = resolution.warnings.length > 0 ? `${resolution.warnings.join('; ')}. ` : '';
  const hint =
    resolution.status === 'listed'
      ? `Describe it yourself in FALAI_MODELS_DIR/${endpointId}.json.`
      : `Known models: ${known.join(', ')}; find others with \`falai models search <words>\`. Add your own as JSON in FALAI_MODELS_DIR.`;
  return new InputError(
    `Unknown model ${endpointId}. ${why}${hint}`,
    [{ path: ['endpoint'], message: 'unknown model', kind: 'reference' }],
    {
      code: 'MODEL_UNKNOWN',
      details: {
        issues: [{ path: ['endpoint'], message: 'unknown model', kind: 'reference' }],
        status: resolution.status,
        ...(resolution.suggestions.length > 0 ? { suggestions: resolution.suggestions } : {}),
      },
    },
  );
}

function hasFile(spec: FieldSpec): boolean {
  if (spec.type === 'file') return true;
  if (spec.items && hasFile(spec.items)) return true;
  return Object.values(spec.properties ?? {}).some(hasFile);
}

function describe(spec: FieldSpec): string {
  const parts: string[] = [spec.type === 'file' ? `file (${spec.media ?? 'any'})` : spec.type];
  if (spec.type === 'array' && spec.items) parts[0] = `array of ${describe(spec.items)}`;
  if (spec.enum) parts.push(`one of ${spec.enum.map((value) => JSON.stringify(value)).join('|')}`);
  if (spec.minimum !== undefined || spec.maximum !== undefined) {
    parts.push(`range ${spec.minimum ?? '…'}–${spec.maximum ?? '…'}`);
  }
  if (spec.minItems !== undefined || spec.maxItems !== undefined) {
    parts.push(`${spec.minItems ?? 0}–${spec.maxItems ?? '∞'} items`);
  }
  if (spec.formats) parts.push(`formats ${spec.formats.join('/')}`);
  if (spec.default !== undefined) parts.push(`default ${JSON.stringify(spec.default)}`);
  const text = parts.join(', ');
  return spec.description ? `${text} — ${spec.description}` : text;
}

/** The seed's notes, derived from the definition's limits and references. */
function notesFor(model: ModelDefinition): string[] {
  const notes: string[] = [];
  for (const token of model.references?.tokens ?? []) {
    notes.push(
      `Reference ${token.field} in the prompt as @${token.token}1${token.description ? ` (${token.description})` : ''}`,
    );
  }
  const total = model.limits?.totalReferences;
  if (total) notes.push(`Max ${total.max} total references (${total.fields.join(' + ')})`);
  const video = model.limits?.video;
  if (video) {
    const parts = [`formats ${video.formats.map((f) => `.${f}`).join('/')}`];
    if (video.minDurationSeconds !== undefined || video.maxDurationSeconds !== undefined)
      parts.push(`${video.minDurationSeconds ?? 0}–${video.maxDurationSeconds ?? '∞'} s`);
    if (video.minDimension !== undefined || video.maxDimension !== undefined)
      parts.push(`${video.minDimension ?? 0}–${video.maxDimension ?? '∞'} px`);
    if (video.maxBytes !== undefined)
      parts.push(`max ${Math.round(video.maxBytes / 1_000_000)} MB`);
    notes.push(`Video limits: ${parts.join(', ')}`);
  }
  return notes;
}
