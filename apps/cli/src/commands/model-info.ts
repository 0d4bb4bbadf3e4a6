import type { FieldSpec, ModelDefinition, ModelInfoOutput } from '@falai/core';
import { InputError } from '@falai/core';
import { BaseCommand } from '../base-command.js';
import { endpointArg } from '../flags.js';

/** Seed command: one model's fields, limits, prompt references and an example. */
export default class ModelInfo extends BaseCommand<typeof ModelInfo> {
  static override summary = "Show a model's fields, limits, prompt references and an example.";
  static override description =
    'Describes one model from the registry: required and optional fields with their types, enums and ranges, file fields, limits (video duration, resolution, size; reference counts), the @Image/@Video/@Element prompt references and an example input. --json adds the JSON Schema of the input.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> fal-ai/kling-video/o3/pro/video-to-video/edit',
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro --json',
  ];
  static override args = { endpoint: endpointArg() };

  async run(): Promise<ModelInfoOutput> {
    const registry = await this.registry();
    const endpointId = this.args.endpoint;
    const model = registry.get(endpointId);
    if (!model) {
      const known = registry.list().map((entry) => entry.endpointId);
      throw new InputError(
        `Unknown model ${endpointId}. Known models: ${known.join(', ')}. Add your own as JSON in FALAI_MODELS_DIR.`,
        [{ path: ['endpoint'], message: 'unknown model', kind: 'reference' }],
        { code: 'MODEL_UNKNOWN' },
      );
    }
    const entries = Object.entries(model.input);
    const required = entries.filter(([, spec]) => spec.required).map(([name]) => name);
    const optional = entries.filter(([, spec]) => !spec.required).map(([name]) => name);
    const fileFields = entries.filter(([, spec]) => hasFile(spec)).map(([name]) => name);
    const notes = notesFor(model);
    this.render(model, required, notes);
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
    };
  }

  private render(model: ModelDefinition, required: string[], notes: string[]): void {
    this.log(`${model.endpointId} — ${model.name} (${model.category})`);
    this.log(model.description);
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
