import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import { checkDefinition, type ModelDefinition } from '../models/definition.js';

/**
 * The catalogue cache on disk, one folder per Platform API base (fal's and an emulator's never
 * mix): `models/<endpoint id>.json` (a converted definition and the model's catalogue facts),
 * `index.json` (every catalogue id with its name, category and status), `prices.json` and
 * `history-costs.json` (fal's historical cost per call, for estimates prices cannot make).
 * Writes are atomic (a temp file renamed into place); a damaged or foreign file reads as
 * missing, so a bad cache only costs a fetch.
 */

/** Largest cache file read; anything bigger is treated as damaged. */
const MAX_CACHE_FILE_BYTES = 16 * 1024 * 1024;

const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));

/** One catalogue model as falai keeps it: what search, suggestions and warnings need. */
export const CatalogueModelSchema = v.object({
  endpointId: Text(300),
  name: Text(300),
  category: Text(100),
  /** `active`, `deprecated`, or whatever else fal says. */
  status: Text(50),
  description: Text(1000),
  tags: v.pipe(v.array(Text(100)), v.maxLength(50)),
  /** Seconds fal expects a request to take. */
  durationEstimate: v.optional(v.pipe(v.number(), v.finite())),
});
export type CatalogueModel = v.InferOutput<typeof CatalogueModelSchema>;

const DefinitionEntrySchema = v.object({
  version: v.literal(1),
  endpointId: v.string(),
  fetchedAt: v.string(),
  model: CatalogueModelSchema,
  /** The converted definition; absent when fal had no usable schema. */
  definition: v.optional(v.unknown()),
  /** Why there is no definition. */
  schemaError: v.optional(v.string()),
});
export type DefinitionEntry = Omit<v.InferOutput<typeof DefinitionEntrySchema>, 'definition'> & {
  readonly definition?: ModelDefinition;
};

const IndexSchema = v.object({
  version: v.literal(1),
  /** When the whole catalogue was last listed; null while it only holds models seen in answers. */
  listedAt: v.nullable(v.string()),
  models: v.array(CatalogueModelSchema),
});
export type CatalogueIndex = v.InferOutput<typeof IndexSchema>;

/** Finite and never below zero (JSON has no Infinity: it would be written as null). */
const Amount = v.pipe(v.number(), v.finite(), v.minValue(0));

const PriceSchema = v.object({
  unitPrice: Amount,
  unit: Text(100),
  currency: Text(10),
  fetchedAt: v.string(),
});
const PricesSchema = v.object({
  version: v.literal(1),
  prices: v.record(v.string(), PriceSchema),
});
export type CachedPrice = v.InferOutput<typeof PriceSchema>;

/** fal's historical cost of one call of an endpoint (`estimateCost` with `historical_api_price`). */
const HistoryCostSchema = v.object({
  costPerCall: Amount,
  fetchedAt: v.string(),
});
const HistoryCostsSchema = v.object({
  version: v.literal(1),
  costs: v.record(v.string(), HistoryCostSchema),
});
export type CachedHistoryCost = v.InferOutput<typeof HistoryCostSchema>;

/** The cache folder of one Platform API base under `cacheDir`. */
export function catalogueCacheFolder(cacheDir: string, apiUrl: string): string {
  const url = new URL(apiUrl);
  const readable = `${url.host}${url.pathname}`.replace(/[^A-Za-z0-9.-]+/g, '_').slice(0, 60);
  const hash = createHash('sha256').update(apiUrl).digest('hex').slice(0, 8);
  return join(cacheDir, 'catalogue', `${readable}-${hash}`);
}

function parse<T>(schema: v.GenericSchema<unknown, T>, text: string): T | undefined {
  try {
    const parsed = v.safeParse(schema, JSON.parse(text));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

/** The entries of `values` that `schema` accepts. */
function valid<T>(
  schema: v.GenericSchema<unknown, T>,
  values: Readonly<Record<string, T>>,
): Record<string, T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => v.is(schema, value)));
}

/** A checked entry: the definition must pass the model meta-schema and name the same id. */
function checkedEntry(
  entry: v.InferOutput<typeof DefinitionEntrySchema> | undefined,
  endpointId: string,
): DefinitionEntry | undefined {
  if (!entry || entry.endpointId !== endpointId || entry.model.endpointId !== endpointId)
    return undefined;
  const { definition, ...rest } = entry;
  if (definition === undefined) return rest;
  if (checkDefinition(definition).length > 0) return undefined;
  if ((definition as ModelDefinition).endpointId !== endpointId) return undefined;
  return { ...rest, definition: definition as ModelDefinition };
}

/** Reads and writes one API base's cache folder. */
export class CatalogueCache {
  constructor(readonly dir: string) {}

  private modelPath(endpointId: string): string {
    // One flat file per id: encodeURIComponent leaves no separator, so no id leaves the folder.
    return join(this.dir, 'models', `${encodeURIComponent(endpointId)}.json`);
  }

  private get indexPath(): string {
    return join(this.dir, 'index.json');
  }

  private get pricesPath(): string {
    return join(this.dir, 'prices.json');
  }

  private get historyCostsPath(): string {
    return join(this.dir, 'history-costs.json');
  }

  private async read<T>(path: string, schema: v.GenericSchema<unknown, T>): Promise<T | undefined> {
    try {
      if ((await stat(path)).size > MAX_CACHE_FILE_BYTES) return undefined;
      return parse(schema, await readFile(path, 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** Best effort: a cache that cannot be written only costs a fetch next time. */
  private async write(path: string, value: unknown): Promise<void> {
    const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temp, `${JSON.stringify(value)}\n`, { mode: 0o644 });
      await rename(temp, path);
    } catch {
      await rm(temp, { force: true }).catch(() => {});
    }
  }

  async readModel(endpointId: string): Promise<DefinitionEntry | undefined> {
    return checkedEntry(
      await this.read(this.modelPath(endpointId), DefinitionEntrySchema),
      endpointId,
    );
  }

  /** The same read, synchronous, for callers that cannot wait (`registry.get`). */
  readModelSync(endpointId: string): DefinitionEntry | undefined {
    const path = this.modelPath(endpointId);
    try {
      if (statSync(path).size > MAX_CACHE_FILE_BYTES) return undefined;
      return checkedEntry(parse(DefinitionEntrySchema, readFileSync(path, 'utf8')), endpointId);
    } catch {
      return undefined;
    }
  }

  writeModel(entry: DefinitionEntry): Promise<void> {
    return this.write(this.modelPath(entry.endpointId), entry);
  }

  async removeModel(endpointId: string): Promise<void> {
    await rm(this.modelPath(endpointId), { force: true }).catch(() => {});
  }

  readIndex(): Promise<CatalogueIndex | undefined> {
    return this.read(this.indexPath, IndexSchema);
  }

  writeIndex(index: CatalogueIndex): Promise<void> {
    return this.write(this.indexPath, index);
  }

  /**
   * Adds or updates models seen in an answer, keeping the index's listing time. A model the
   * index schema would refuse is left out: one would make the whole file read as missing.
   */
  async mergeIndex(given: readonly CatalogueModel[]): Promise<void> {
    const models = given.filter((model) => v.is(CatalogueModelSchema, model));
    if (models.length === 0) return;
    const index = (await this.readIndex()) ?? { version: 1 as const, listedAt: null, models: [] };
    const byId = new Map(index.models.map((model) => [model.endpointId, model]));
    for (const model of models) byId.set(model.endpointId, model);
    await this.writeIndex({ ...index, models: [...byId.values()] });
  }

  async readPrices(): Promise<Record<string, CachedPrice>> {
    return (await this.read(this.pricesPath, PricesSchema))?.prices ?? {};
  }

  /** Adds or updates prices; one the schema would refuse is left out (see {@link mergeIndex}). */
  async mergePrices(given: Readonly<Record<string, CachedPrice>>): Promise<void> {
    const prices = valid(PriceSchema, given);
    if (Object.keys(prices).length === 0) return;
    const current = await this.readPrices();
    await this.write(this.pricesPath, { version: 1, prices: { ...current, ...prices } });
  }

  async readHistoryCosts(): Promise<Record<string, CachedHistoryCost>> {
    return (await this.read(this.historyCostsPath, HistoryCostsSchema))?.costs ?? {};
  }

  /** Adds or updates costs; one the schema would refuse is left out (see {@link mergeIndex}). */
  async mergeHistoryCosts(given: Readonly<Record<string, CachedHistoryCost>>): Promise<void> {
    const costs = valid(HistoryCostSchema, given);
    if (Object.keys(costs).length === 0) return;
    const current = await this.readHistoryCosts();
    await this.write(this.historyCostsPath, { version: 1, costs: { ...current, ...costs } });
  }
}
