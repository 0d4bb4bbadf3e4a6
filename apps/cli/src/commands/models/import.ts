import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ModelCatalogue, ModelDefinition, ModelsImportOutput } from '@falai/core';
import { FalaiError, InputError, NetworkError } from '@falai/core';
import { didYouMean } from '@falai/core/internal';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { forceFlag } from '../../flags.js';

/**
 * Turns a fal OpenAPI document into model files, so a new endpoint is validated without code.
 * Accepts the per-model queue OpenAPI (`…/openapi.json?endpoint_id=<id>`), the Platform API's
 * `GET /v1/models?expand=openapi-3.0` answer (one file per listed model), or an endpoint id,
 * whose document is fetched from fal's catalogue.
 */
export default class ModelsImport extends BaseCommand<typeof ModelsImport> {
  static override summary =
    "Create model definitions from a fal OpenAPI document or fal's catalogue.";
  static override description =
    "Reads a fal OpenAPI document from a file or an http(s) URL — the per-model queue OpenAPI or the Platform API's models list with expand=openapi-3.0 — or, given an endpoint id, fetches the endpoint's document from fal's catalogue; converts each model into a falai model definition and writes it to the user models folder (FALAI_MODELS_DIR, else <config dir>/models, or --out), where the registry loads it beside the built-in models (a model file wins over fal's catalogue). File fields are guessed from field names (*_url, *_urls) and media limits are not in OpenAPI: review the file, add limits, and run `falai model-info <id>`.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> fal-ai/flux/dev',
    '<%= config.bin %> <%= command.id %> ./openapi.json',
    "<%= config.bin %> <%= command.id %> 'https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev' --json",
    '<%= config.bin %> <%= command.id %> ./platform-models.json --out ./models --force',
  ];
  static override args = {
    source: Args.string({
      description:
        "path or http(s) URL of the OpenAPI document, or an endpoint id to fetch from fal's catalogue",
      required: true,
    }),
  };
  static override flags = {
    out: Flags.string({
      description:
        'folder to write the model files to (default: FALAI_MODELS_DIR or <config dir>/models)',
    }),
    endpoint: Flags.string({
      description: 'only this endpoint id (when the document lists several)',
    }),
    force: forceFlag(),
  };

  async run(): Promise<ModelsImportOutput> {
    const { loadOpenApi, convertOpenApi, convertPlatformModels } = await import(
      '@falai/core/internal'
    );
    const settings = await this.settings();
    const dir = resolve(this.flags.out ?? settings.modelsDir ?? join(settings.configDir, 'models'));
    const { source } = this.args;
    let definitions: ModelDefinition[];
    if (isEndpointId(source)) {
      definitions = [await this.fromCatalogue(await this.catalogue(), source)];
    } else {
      const document = await loadOpenApi(source);
      definitions = Array.isArray((document as { models?: unknown }).models)
        ? convertPlatformModels(document).filter(
            (model) => !this.flags.endpoint || model.endpointId === this.flags.endpoint,
          )
        : [
            convertOpenApi(
              document,
              this.flags.endpoint ? { endpointId: this.flags.endpoint } : {},
            ),
          ];
    }
    if (definitions.length === 0) {
      throw new FalaiError(
        'MODEL_UNKNOWN',
        `The document lists no model ${this.flags.endpoint ?? ''}`.trim() +
          '. Check --endpoint against the endpoint ids in the document.',
      );
    }
    const imported: ModelsImportOutput['imported'] = [];
    for (const definition of definitions) {
      const path = join(dir, `${definition.endpointId}.json`);
      await writeModelFile(path, definition, this.flags.force);
      imported.push({
        endpointId: definition.endpointId,
        name: definition.name,
        category: definition.category,
        path,
      });
      this.log(`Wrote ${path} (${definition.endpointId})`);
    }
    this.note(
      'File fields are guessed from field names and OpenAPI has no media limits: review the files, then run `falai model-info <endpoint>`.',
    );
    return { imported, count: imported.length, dir };
  }

  /** The endpoint's definition, fetched from fal's catalogue now (not an older cached copy). */
  private async fromCatalogue(catalogue: ModelCatalogue, endpointId: string) {
    const answer = await catalogue.lookup(endpointId, { refresh: true });
    if (answer.kind === 'unavailable') throw new NetworkError(answer.message);
    if (answer.kind === 'unknown') {
      const hint = didYouMean(answer.suggestions);
      throw new InputError(
        `fal's catalogue does not list ${endpointId}${hint ? `; ${hint}` : '.'} Find ids with \`falai models search <words>\`.`,
        [{ path: ['source'], message: 'not in fal catalogue', kind: 'unknown-model' }],
        { code: 'MODEL_UNKNOWN', details: { suggestions: answer.suggestions } },
      );
    }
    for (const warning of answer.warnings) this.note(`⚠️  ${warning}`);
    if (!answer.definition) {
      throw new FalaiError(
        'MODEL_UNKNOWN',
        `fal's catalogue has no usable schema for ${endpointId}; nothing was written. Describe the model yourself (see models/README.md).`,
      );
    }
    return answer.definition;
  }
}

/**
 * An endpoint id (`owner/alias[/path]`) rather than a document: not a URL, not an existing
 * file, no `.json` ending, and not a relative or absolute path.
 */
function isEndpointId(source: string): boolean {
  if (/^https?:\/\//i.test(source) || existsSync(source)) return false;
  if (/\.json$/i.test(source) || /^(\.{1,2}|~)?[\\/]/.test(source)) return false;
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+(\/[\w.-]+)*$/.test(source);
}

/** Writes a model file atomically; an existing file is kept unless `force`. */
async function writeModelFile(
  path: string,
  definition: ModelDefinition,
  force: boolean,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(definition, null, 2)}\n`, { mode: 0o644 });
  if (!force) {
    try {
      await writeFile(path, '', { flag: 'wx' });
    } catch (error) {
      await rm(temp, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new FalaiError(
          'OUTPUT_EXISTS',
          `${path} already exists. Pass --force to replace it, or --out to write elsewhere.`,
        );
      }
      throw error;
    }
  }
  await rename(temp, path);
}
