import { readFile } from 'node:fs/promises';
import { FalaiError, InputError, NetworkError } from '../errors/falai-error.js';
import { isObject } from '../json/values.js';
import { checkDefinition, type FieldSpec, type ModelDefinition } from './definition.js';

/**
 * Converts fal's OpenAPI documents (the per-model "Queue OpenAPI for <id>", or the Platform
 * API's `GET /v1/models?expand=openapi-3.0` answer) into model files, so users add models
 * without writing code.
 */

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json => (isObject(value) ? value : {});

function resolveRef(doc: Json, schema: unknown, depth = 0): Json {
  let s = asObject(schema);
  if (depth > 20) return s;
  if (typeof s.$ref === 'string') {
    const parts = s.$ref.replace(/^#\//, '').split('/');
    let target: unknown = doc;
    for (const part of parts) {
      // Own keys only: a "$ref" naming __proto__ must not walk into Object.prototype.
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      const holder = asObject(target);
      target = Object.hasOwn(holder, key) ? holder[key] : undefined;
    }
    const { $ref: _ref, ...rest } = s;
    s = { ...resolveRef(doc, target, depth + 1), ...rest };
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const { allOf, ...rest } = s;
    const merged: Json = {};
    for (const part of allOf) Object.assign(merged, resolveRef(doc, part, depth + 1));
    s = { ...merged, ...rest };
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = s[key];
    if (Array.isArray(options)) {
      const real = options
        .filter((o) => asObject(o).type !== 'null')
        .map((o) => resolveRef(doc, o, depth + 1));
      const { [key]: _drop, ...rest } = s;
      // Prefer the option the default fits (e.g. a preset name over a custom-size object).
      const jsType = (t: unknown) => (t === 'integer' ? 'number' : t === 'array' ? 'object' : t);
      const fits = real.find((o) => s.default !== undefined && jsType(o.type) === typeof s.default);
      s = { ...(fits ?? real[0] ?? {}), ...rest };
    }
  }
  return s;
}

function guessMedia(name: string): 'image' | 'video' | 'file' {
  if (/video/i.test(name)) return 'video';
  if (/image|img|mask|photo|frame/i.test(name)) return 'image';
  return 'file';
}

const isFileName = (name: string) => /(^|_)urls?$/i.test(name);

function convertField(doc: Json, name: string, raw: unknown, required: boolean): FieldSpec {
  const s = resolveRef(doc, raw);
  const out: Record<string, unknown> = {};
  let type = typeof s.type === 'string' ? s.type : Array.isArray(s.enum) ? 'string' : 'string';
  if (type === 'string' && isFileName(name) && !Array.isArray(s.enum)) {
    type = 'file';
    out.media = guessMedia(name);
  }
  if (!['string', 'integer', 'number', 'boolean', 'array', 'object', 'file'].includes(type))
    type = 'string';
  out.type = type;
  if (required) out.required = true;
  if (typeof s.description === 'string' && s.description.trim())
    out.description = s.description.trim();
  if (s.default !== undefined && s.default !== null) out.default = s.default;
  if (Array.isArray(s.enum) && s.enum.length > 0)
    out.enum = s.enum.filter((e) => typeof e === 'string' || typeof e === 'number');
  for (const key of ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems']) {
    if (typeof s[key] === 'number') out[key] = s[key];
  }
  if (typeof s.exclusiveMinimum === 'number' && out.minimum === undefined)
    out.minimum = s.exclusiveMinimum;
  if (typeof s.exclusiveMaximum === 'number' && out.maximum === undefined)
    out.maximum = s.exclusiveMaximum;
  if (type === 'array') {
    const itemName = isFileName(name) ? name.replace(/s$/i, '') : `${name}_item`;
    out.items = convertField(doc, itemName, s.items ?? {}, false);
  }
  if (type === 'object' && isObject(s.properties)) out.properties = convertProperties(doc, s);
  if (Array.isArray(s.examples) && s.examples.length > 0) out.example = s.examples[0];
  else if (s.example !== undefined) out.example = s.example;
  return out as unknown as FieldSpec;
}

function convertProperties(doc: Json, schema: Json): Record<string, FieldSpec> {
  const props = asObject(schema.properties);
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const order = Array.isArray(schema['x-fal-order-properties'])
    ? (schema['x-fal-order-properties'] as unknown[]).map(String)
    : [];
  const names = [
    ...order.filter((n) => Object.hasOwn(props, n)),
    ...Object.keys(props).filter((n) => !order.includes(n)),
  ];
  const out: Record<string, FieldSpec> = {};
  for (const name of names) out[name] = convertField(doc, name, props[name], required.has(name));
  return out;
}

function placeholderFor(spec: FieldSpec): unknown {
  if (spec.example !== undefined) return spec.example;
  if (spec.default !== undefined) return spec.default;
  if (spec.enum?.length) return spec.enum[0];
  switch (spec.type) {
    case 'file':
      return spec.media === 'video'
        ? 'https://example.com/video.mp4'
        : spec.media === 'image'
          ? 'https://example.com/image.png'
          : 'https://example.com/file.bin';
    case 'integer':
    case 'number':
      return spec.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return spec.items ? [placeholderFor(spec.items)] : [];
    case 'object':
      return {};
    default:
      return 'example';
  }
}

function findSchemas(doc: Json, endpointId: string): { input: Json; output: Json } {
  const schemas = asObject(asObject(doc.components).schemas);
  const paths = asObject(doc.paths);
  const post = asObject(asObject(paths[`/${endpointId}`]).post);
  const body = asObject(
    asObject(asObject(asObject(post.requestBody).content)['application/json']).schema,
  );
  let input = Object.keys(body).length ? resolveRef(doc, body) : undefined;
  const resultPath = Object.keys(paths).find(
    (p) => p.endsWith('/requests/{request_id}') && asObject(paths[p]).get,
  );
  const ok = asObject(asObject(asObject(asObject(paths[resultPath ?? '']).get).responses)['200']);
  const outRef = asObject(asObject(asObject(ok.content)['application/json']).schema);
  let output = Object.keys(outRef).length ? resolveRef(doc, outRef) : undefined;
  const bySuffix = (suffix: string) =>
    Object.keys(schemas).find((k) => k.endsWith(suffix) && k !== `Queue${suffix}`);
  if (!input?.properties) {
    const key = bySuffix('Input');
    input = key ? resolveRef(doc, schemas[key]) : undefined;
  }
  if (!output?.properties) {
    const key = bySuffix('Output');
    output = key ? resolveRef(doc, schemas[key]) : undefined;
  }
  if (!input?.properties) {
    throw new InputError(
      `The OpenAPI document for ${endpointId} has no input schema (no POST /${endpointId} body and no "<Name>Input" schema). Use the per-model queue OpenAPI document.`,
      [],
    );
  }
  return { input, output: output ?? { properties: {} } };
}

/** Keyword paths (`input.image_url`, `input.elements.items.properties.x`) of file fields. */
function guessedFileFields(props: Readonly<Record<string, FieldSpec>>, at: string): string[] {
  const out: string[] = [];
  const visit = (spec: FieldSpec, path: string) => {
    if (spec.type === 'file') out.push(path);
    if (spec.items) visit(spec.items, `${path}.items`);
    for (const [name, child] of Object.entries(spec.properties ?? {}))
      visit(child, `${path}.properties.${name}`);
  };
  for (const [name, spec] of Object.entries(props)) visit(spec, `${at}.${name}`);
  return out;
}

function endpointIdOf(doc: Json): string | undefined {
  const info = asObject(doc.info);
  const meta = asObject(info['x-fal-metadata']);
  if (typeof meta.endpointId === 'string') return meta.endpointId;
  const title = typeof info.title === 'string' ? /^Queue OpenAPI for (.+)$/.exec(info.title) : null;
  if (title?.[1]) return title[1].trim();
  const post = Object.keys(asObject(doc.paths)).find(
    (p) => !p.includes('{') && asObject(asObject(doc.paths)[p]).post,
  );
  return post?.replace(/^\//, '');
}

function convertOne(
  doc: Json,
  endpointId: string | undefined,
  metadata: Json = {},
): ModelDefinition {
  const id = endpointId ?? endpointIdOf(doc);
  if (!id) {
    throw new InputError(
      'Cannot tell which endpoint this OpenAPI document describes (no info.x-fal-metadata.endpointId). Pass options.endpointId.',
      [],
    );
  }
  const info = asObject(doc.info);
  const meta = asObject(info['x-fal-metadata']);
  const { input, output } = findSchemas(doc, id);
  const fields = convertProperties(doc, input);
  const outFields = convertProperties(doc, output);
  const examples = Array.isArray(input.examples) ? input.examples : [];
  const example: Record<string, unknown> = isObject(examples[0]) ? { ...examples[0] } : {};
  for (const [name, spec] of Object.entries(fields)) {
    if (spec.required && example[name] === undefined) example[name] = placeholderFor(spec);
  }
  const kind = 'images' in outFields ? 'images' : 'video' in outFields ? 'video' : 'other';
  const description =
    [metadata.description, info.description].find(
      (d): d is string => typeof d === 'string' && d.trim() !== '',
    ) ?? `fal model ${id} (converted from its OpenAPI document).`;
  const def = {
    endpointId: id,
    name:
      typeof metadata.display_name === 'string' && metadata.display_name
        ? metadata.display_name
        : id,
    description: description.trim(),
    category:
      [metadata.category, meta.category].find(
        (c): c is string => typeof c === 'string' && c !== '',
      ) ?? 'other',
    input: fields,
    output: { kind, schema: outFields },
    example,
    // Types, enums and ranges come from fal's own schema; only what the converter guesses is
    // unconfirmed, since an unconfirmed rule only warns (a parent path would soften them all).
    unconfirmed: [
      ...guessedFileFields(fields, 'input').map((path) => ({
        path: `${path}.media`,
        note: 'converted from fal OpenAPI; a file field and its media kind are guessed from the field name (*_url, *_urls)',
      })),
      {
        path: 'limits',
        note: 'converted from fal OpenAPI; media limits are not in the OpenAPI document',
      },
    ],
    sources: [`fal OpenAPI: ${typeof info.title === 'string' ? info.title : id}`],
  };
  const problems = checkDefinition(def);
  if (problems.length > 0) {
    throw new InputError(
      `The converted definition of ${id} is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      problems.map((p) => ({ path: p.field.split('.'), message: p.message, kind: 'definition' })),
    );
  }
  return def as ModelDefinition;
}

/** Every model of a Platform API `GET /v1/models?expand=openapi-3.0` answer. */
export function convertPlatformModels(document: object): ModelDefinition[] {
  const models = (document as { models?: unknown }).models;
  if (!Array.isArray(models)) {
    throw new InputError('Not a Platform API models document: expected {"models": [...]}', []);
  }
  return models.map((entry) => {
    const m = asObject(entry);
    const id = typeof m.endpoint_id === 'string' ? m.endpoint_id : undefined;
    const openapi = asObject(m.openapi);
    if (isObject(openapi.error)) {
      const err = asObject(openapi.error);
      throw new InputError(
        `fal returned no OpenAPI for ${id ?? 'a model'}: ${String(err.message ?? err.code ?? 'unknown error')}`,
        [],
      );
    }
    if (!openapi.paths && !openapi.components) {
      throw new InputError(
        `The entry for ${id ?? 'a model'} has no "openapi" document; fetch it with ?expand=openapi-3.0`,
        [],
      );
    }
    return convertOne(openapi, id, asObject(m.metadata));
  });
}

/**
 * One model definition from a per-model OpenAPI document, or from a Platform API answer
 * (pick the model with `endpointId` when it lists several).
 */
export function convertOpenApi(
  document: object,
  options: { readonly endpointId?: string } = {},
): ModelDefinition {
  if (Array.isArray((document as { models?: unknown }).models)) {
    const all = (document as { models: unknown[] }).models;
    const wanted = options.endpointId
      ? all.filter((m) => asObject(m).endpoint_id === options.endpointId)
      : all;
    if (wanted.length !== 1) {
      throw new InputError(
        wanted.length === 0
          ? `The document has no model ${options.endpointId ?? ''}`.trim()
          : `The document lists ${wanted.length} models; pass endpointId or use convertPlatformModels`,
        [],
      );
    }
    return convertPlatformModels({ models: wanted })[0] as ModelDefinition;
  }
  return convertOne(document as Json, options.endpointId);
}

/** Reads an OpenAPI document from a path or an http(s) URL. */
export async function loadOpenApi(source: string): Promise<object> {
  let text: string;
  if (/^https?:\/\//i.test(source)) {
    let response: Response;
    try {
      response = await fetch(source, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new NetworkError(`Cannot fetch ${source}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!response.ok) {
      throw new FalaiError(
        response.status === 404 ? 'NOT_FOUND' : 'API_ERROR',
        `Fetching ${source} failed with HTTP ${response.status}. Check the URL (e.g. https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<id>).`,
      );
    }
    text = await response.text();
  } else {
    try {
      text = await readFile(source, 'utf8');
    } catch (error) {
      throw new InputError(`Cannot read OpenAPI file ${source}: ${(error as Error).message}`, [], {
        cause: error,
      });
    }
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed)) throw new Error('not a JSON object');
    return parsed;
  } catch (error) {
    throw new InputError(
      `${source} is not a JSON OpenAPI document: ${(error as Error).message}`,
      [],
      {
        cause: error,
      },
    );
  }
}
