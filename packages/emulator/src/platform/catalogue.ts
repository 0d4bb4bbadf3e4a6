import type { FieldDefinition, ModelDefinition } from '../models.js';
// The data travels with the code: tsc copies the files into dist/, and a bundler (the falai
// CLI's esbuild) inlines them, so they are found from src/, dist/, a bundle and a packed
// install alike (a path built from import.meta.url breaks once the code is bundled).
import catalogueFile from './data/catalogue.json' with { type: 'json' };
import pricesFile from './data/prices.json' with { type: 'json' };

/** A JSON Schema object as the catalogue stores it. */
export type JsonSchema = Record<string, unknown>;

/** `metadata` of a catalogue model, in fal's shape (fal-platform-api.md §1). */
export interface ModelMetadata {
  display_name: string;
  category: string;
  description: string;
  status: 'active' | 'deprecated';
  tags: string[];
  updated_at: string;
  is_favorited: boolean | null;
  thumbnail_url: string;
  model_url: string;
  license_type?: 'commercial' | 'research' | 'private';
  date: string;
  group?: { key: string; label: string };
  highlighted: boolean;
  kind?: 'inference' | 'training';
  duration_estimate?: number;
  pinned: boolean;
}

/** One model of `data/catalogue.json` (beside this file). */
export interface CatalogueModel {
  endpoint_id: string;
  metadata: ModelMetadata;
  /** The input JSON Schema (`<Pascal>Input`). */
  input: JsonSchema;
  /** The output JSON Schema (`<Pascal>Output`). */
  output: JsonSchema;
  /** When set, `expand=openapi-3.0` answers this instead of a document. */
  openapi_error?: { code: string; message: string };
}

/** How the emulator computes `x-fal-billable-units` for a model (data, see prices.json). */
export interface BillingRule {
  measure:
    | 'images'
    | 'megapixels'
    | 'video_seconds'
    | 'audio_seconds'
    | 'characters'
    | 'calls'
    | 'run_seconds'
    | 'units';
  /** Divisor: `characters` per 1000, `audio_seconds` per 60 (minutes). @default 1 */
  per?: number;
  /** Input field counted by `characters`. */
  field?: string;
  /** Units billed per call by `units`. */
  units_per_call?: number;
}

/** One price of `data/prices.json`. */
export interface PriceEntry {
  endpoint_id: string;
  unit_price: number;
  unit: string;
  currency: string;
  billing: BillingRule;
  historical_cost_per_call: number;
}

/** The loaded data files. */
export interface CatalogueData {
  models: CatalogueModel[];
  /** Shared component schemas, referenced as `#/components/schemas/<name>`. */
  schemas: Record<string, JsonSchema>;
  prices: PriceEntry[];
  /** Pixel sizes of fal's `image_size` presets. */
  imageSizePresets: Record<string, [number, number]>;
}

let cached: CatalogueData | undefined;

/** `data/catalogue.json` and `data/prices.json`, shaped once per process. */
export function loadCatalogueData(): CatalogueData {
  if (cached) return cached;
  const catalogue = catalogueFile as unknown as {
    models: CatalogueModel[];
    schemas: Record<string, JsonSchema>;
  };
  const pricing = pricesFile as unknown as {
    prices: PriceEntry[];
    image_size_presets: Record<string, [number, number]>;
  };
  cached = {
    models: catalogue.models,
    schemas: catalogue.schemas,
    prices: pricing.prices,
    imageSizePresets: pricing.image_size_presets,
  };
  return cached;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `fal-ai/flux/dev` → `FluxDev`, the way fal names a model's schemas. */
export function pascalName(endpointId: string): string {
  const tail = endpointId.startsWith('fal-ai/') ? endpointId.slice('fal-ai/'.length) : endpointId;
  return tail
    .split(/[/\-_.]/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

/** Names of the shared schemas a schema refers to, followed transitively. */
function referencedSchemas(
  roots: unknown[],
  shared: Record<string, JsonSchema>,
): Record<string, JsonSchema> {
  const found: Record<string, JsonSchema> = {};
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isRecord(value)) return;
    const ref = value.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
      const name = ref.slice('#/components/schemas/'.length);
      const schema = shared[name];
      if (schema && !(name in found)) {
        found[name] = schema;
        visit(schema);
      }
    }
    for (const child of Object.values(value)) visit(child);
  };
  for (const root of roots) visit(root);
  return found;
}

const QUEUE_STATUS: JsonSchema = {
  type: 'object',
  title: 'QueueStatus',
  required: ['status', 'request_id'],
  properties: {
    status: { type: 'string', enum: ['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED'] },
    request_id: { type: 'string', description: 'The request id.' },
    response_url: { type: 'string', description: 'The response url.' },
    status_url: { type: 'string', description: 'The status url.' },
    cancel_url: { type: 'string', description: 'The cancel url.' },
    logs: { type: 'object', description: 'The logs.', additionalProperties: true },
    metrics: { type: 'object', description: 'The metrics.', additionalProperties: true },
    queue_position: { type: 'integer', description: 'The queue position.' },
  },
};

/**
 * The per-model "Queue OpenAPI for <id>" document in fal's shape (fal-api-reference.md §12):
 * OpenAPI 3.0.4, `x-fal-metadata`, the `apiKeyAuth` scheme, `QueueStatus` plus the model's
 * `<Pascal>Input`/`<Pascal>Output` schemas, and the four queue paths on queue.fal.run.
 */
export function openApiDocument(model: CatalogueModel, shared: Record<string, JsonSchema>) {
  const id = model.endpoint_id;
  const name = pascalName(id);
  const inputRef = { $ref: `#/components/schemas/${name}Input` };
  const outputRef = { $ref: `#/components/schemas/${name}Output` };
  const statusRef = { $ref: '#/components/schemas/QueueStatus' };
  const requestIdParameter = {
    name: 'request_id',
    in: 'path',
    required: true,
    schema: { type: 'string', description: 'Request ID' },
  };
  return {
    openapi: '3.0.4',
    info: {
      title: `Queue OpenAPI for ${id}`,
      version: '1.0.0',
      description: `The OpenAPI schema for the ${id} queue.`,
      'x-fal-metadata': {
        endpointId: id,
        category: model.metadata.category,
        thumbnailUrl: model.metadata.thumbnail_url,
        playgroundUrl: `https://fal.ai/models/${id}`,
        documentationUrl: `https://fal.ai/models/${id}/api`,
      },
    },
    components: {
      securitySchemes: {
        apiKeyAuth: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'Fal Key',
        },
      },
      schemas: {
        QueueStatus: QUEUE_STATUS,
        [`${name}Input`]: model.input,
        [`${name}Output`]: model.output,
        ...referencedSchemas([model.input, model.output], shared),
      },
    },
    paths: {
      [`/${id}/requests/{request_id}/status`]: {
        get: {
          parameters: [
            requestIdParameter,
            {
              name: 'logs',
              in: 'query',
              required: false,
              schema: {
                type: 'number',
                description: 'Whether to include logs (`1`) in the response or not (`0`).',
              },
            },
          ],
          responses: {
            '200': {
              description: 'The request status.',
              content: { 'application/json': { schema: statusRef } },
            },
          },
        },
      },
      [`/${id}/requests/{request_id}/cancel`]: {
        put: {
          parameters: [requestIdParameter],
          responses: {
            '200': {
              description: 'The request was cancelled.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      success: {
                        type: 'boolean',
                        description: 'Whether the request was cancelled successfully.',
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
      [`/${id}`]: {
        post: {
          requestBody: { required: true, content: { 'application/json': { schema: inputRef } } },
          responses: {
            '200': {
              description: 'The request status.',
              content: { 'application/json': { schema: statusRef } },
            },
          },
        },
      },
      [`/${id}/requests/{request_id}`]: {
        get: {
          parameters: [requestIdParameter],
          responses: {
            '200': {
              description: 'Result of the request.',
              content: { 'application/json': { schema: outputRef } },
            },
          },
        },
      },
    },
    servers: [{ url: 'https://queue.fal.run' }],
    security: [{ apiKeyAuth: [] }],
  };
}

/** What a model outputs, read from its output schema. */
export type OutputKind =
  | { kind: 'images' }
  | { kind: 'video' }
  | { kind: 'image'; field: string }
  | { kind: 'audio'; field: string };

/** The output kind of a catalogue model: a list of images, a video, one image, or audio. */
export function outputKind(model: CatalogueModel): OutputKind {
  const properties = isRecord(model.output.properties) ? model.output.properties : {};
  if ('images' in properties) return { kind: 'images' };
  if ('video' in properties) return { kind: 'video' };
  for (const field of ['audio', 'audio_file', 'audio_url']) {
    if (field in properties) return { kind: 'audio', field };
  }
  return { kind: 'image', field: 'image' };
}

function fieldDefinition(schema: JsonSchema, required: boolean): FieldDefinition {
  const type = typeof schema.type === 'string' ? schema.type : undefined;
  const items = isRecord(schema.items) ? schema.items : undefined;
  const number = (key: string) => (typeof schema[key] === 'number' ? schema[key] : undefined);
  return {
    type,
    required,
    enum: Array.isArray(schema.enum) ? schema.enum : undefined,
    default: schema.default,
    minItems: number('minItems'),
    maxItems: number('maxItems'),
    minLength: number('minLength'),
    maxLength: number('maxLength'),
    itemsType: typeof items?.type === 'string' ? items.type : undefined,
    minimum: number('minimum'),
    maximum: number('maximum'),
  };
}

/**
 * The emulator's validation and output definition of a catalogue model that has no file in
 * `models/`: fields, types, enums and ranges from its input schema, so a submit is checked
 * (422 at result time) as fal's app would check it.
 */
export function definitionOf(model: CatalogueModel): ModelDefinition {
  const properties = isRecord(model.input.properties) ? model.input.properties : {};
  const required = new Set(Array.isArray(model.input.required) ? model.input.required : []);
  const input: Record<string, FieldDefinition> = {};
  for (const [name, schema] of Object.entries(properties)) {
    if (isRecord(schema)) input[name] = fieldDefinition(schema, required.has(name));
  }
  const output = isRecord(model.output.properties) ? model.output.properties : {};
  const kind = outputKind(model).kind;
  return {
    endpointId: model.endpoint_id,
    category: model.metadata.category,
    input,
    outputKind: kind === 'video' ? 'video' : 'images',
    outputFields: Object.keys(output),
  };
}

/** Words of free text, lower-cased. */
const words = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^a-z0-9.]+/)
    .filter((word) => word.length > 0);

/**
 * Whether a model matches `q`: every word of the query appears in its id, display name,
 * category, description or tags. [?] fal's ranking and matching rules are not documented.
 */
export function matchesQuery(model: CatalogueModel, query: string): boolean {
  const haystack = [
    model.endpoint_id,
    model.metadata.display_name,
    model.metadata.category,
    model.metadata.description,
    ...model.metadata.tags,
  ]
    .join(' ')
    .toLowerCase();
  return words(query).every((word) => haystack.includes(word));
}
