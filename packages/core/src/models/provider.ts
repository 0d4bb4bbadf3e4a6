import { InputError, type InputIssue } from '../errors/falai-error.js';
import type { ModelDefinition } from './definition.js';

/**
 * Definitions from outside the model files: the registry asks a provider (fal's catalogue with
 * its on-disk cache, `createModelCatalogue`) for the endpoints no model file describes. Model
 * files always win; the provider is never asked about an id a file describes.
 */
export interface DefinitionProvider {
  /**
   * A definition already on hand (the provider's cache, any age), read without the network:
   * lets synchronous callers (`get`, `--set` coercion) see a catalogue model resolved before.
   */
  peek?(endpointId: string): ProvidedDefinition | undefined;
  /** Asks the source (fal's catalogue), falling back to the cache when it cannot be reached. */
  lookup(endpointId: string, options?: ResolveOptions): Promise<ProviderAnswer>;
}

/** A model the provider knows. */
export interface ProvidedDefinition {
  /** Absent when the source lists the model but has no usable schema for it. */
  readonly definition?: ModelDefinition;
  /** `catalogue`: fetched just now; `cache`: from the provider's cache. */
  readonly origin: 'catalogue' | 'cache';
  readonly deprecated: boolean;
  /** When the definition was fetched (ISO-8601). */
  readonly fetchedAt?: string;
  /** The cache is older than its time to live (served because the source was unreachable). */
  readonly stale?: boolean;
  readonly notes: readonly string[];
  readonly warnings: readonly string[];
}

/** What a provider says about one endpoint id. */
export type ProviderAnswer =
  | ({ readonly kind: 'found' } & ProvidedDefinition)
  | {
      /** The source does not list the id. */
      readonly kind: 'unknown';
      /** The closest ids it does list, best first. */
      readonly suggestions: readonly string[];
      /**
       * Refuse the id (a likely typo: the owner publishes in the catalogue, or an id is one or
       * two edits away). Otherwise it may be a private app, which no public catalogue lists.
       */
      readonly refuse: boolean;
      readonly warnings: readonly string[];
    }
  | {
      /** The source could not be asked and nothing is cached. */
      readonly kind: 'unavailable';
      readonly message: string;
    };

/** Options of `ModelRegistry.resolve` and `DefinitionProvider.lookup`. */
export interface ResolveOptions {
  /** Ask the source again even when the cache is fresh. @default false */
  readonly refresh?: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** Everything falai knows about an endpoint id before a submit. */
export interface ModelResolution {
  readonly endpointId: string;
  /** The definition inputs are validated against, when there is one. */
  readonly definition?: ModelDefinition;
  /**
   * - `file`: a model file (built-in or the user's) describes it; the catalogue is not asked.
   * - `listed`: fal's catalogue lists it (fetched now or cached).
   * - `unknown`: fal's catalogue does not list it.
   * - `unchecked`: no provider, or the catalogue could not be reached and nothing is cached.
   */
  readonly status: 'file' | 'listed' | 'unknown' | 'unchecked';
  /** Where the definition came from. */
  readonly source: 'builtin' | 'user' | 'catalogue' | 'cache' | 'none';
  /** fal's catalogue does not know the id and it looks like a typo: submits refuse it. */
  readonly refused: boolean;
  readonly deprecated: boolean;
  /** The closest catalogue ids, best first (for unknown ids). */
  readonly suggestions: readonly string[];
  readonly fetchedAt?: string;
  readonly stale?: boolean;
  readonly notes: readonly string[];
  readonly warnings: readonly string[];
}

/** The resolution of an id without a model file, from a provider's answer. */
export function resolutionFromAnswer(endpointId: string, answer: ProviderAnswer): ModelResolution {
  const base = { endpointId, refused: false, deprecated: false, suggestions: [] as string[] };
  if (answer.kind === 'found') {
    return {
      ...base,
      ...(answer.definition ? { definition: answer.definition } : {}),
      status: 'listed',
      source: answer.origin,
      deprecated: answer.deprecated,
      ...(answer.fetchedAt ? { fetchedAt: answer.fetchedAt } : {}),
      ...(answer.stale ? { stale: true } : {}),
      notes: answer.notes,
      warnings: answer.warnings,
    };
  }
  if (answer.kind === 'unknown') {
    return {
      ...base,
      status: 'unknown',
      source: 'none',
      refused: answer.refuse,
      suggestions: answer.suggestions,
      notes: [],
      warnings: answer.warnings,
    };
  }
  return { ...base, status: 'unchecked', source: 'none', notes: [], warnings: [answer.message] };
}

/** "did you mean a, b or c?" */
export function didYouMean(suggestions: readonly string[]): string | undefined {
  if (suggestions.length === 0) return undefined;
  const shown = suggestions.slice(0, 3);
  const last = shown.pop() as string;
  return `did you mean ${shown.length > 0 ? `${shown.join(', ')} or ${last}` : last}?`;
}

/** The validation issue of an id fal's catalogue refuses (kind `unknown-model`). */
export function refusedIssue(resolution: ModelResolution): InputIssue {
  const hint = didYouMean(resolution.suggestions);
  return {
    path: [],
    kind: 'unknown-model',
    message: `Unknown model "${resolution.endpointId}": fal's catalogue does not list it`,
    hint: hint ?? 'find the id with `falai models search <words>`',
  };
}

/**
 * Throws MODEL_UNKNOWN (exit 4) when fal's catalogue does not know the id and it looks like a
 * typo, naming the closest ids. Called before a submit, so nothing is sent for a wrong id.
 */
export function assertResolved(resolution: ModelResolution): void {
  if (!resolution.refused) return;
  const issue = refusedIssue(resolution);
  const hint = didYouMean(resolution.suggestions);
  throw new InputError(
    `Unknown model ${resolution.endpointId}: fal's catalogue does not list it${hint ? `; ${hint}` : '.'} Nothing was sent. Find ids with \`falai models search <words>\`.`,
    [issue],
    {
      code: 'MODEL_UNKNOWN',
      details: {
        issues: [issue],
        endpointId: resolution.endpointId,
        suggestions: resolution.suggestions,
      },
    },
  );
}

/** The resolution of an id a model file describes: the catalogue is not asked. */
export function fileResolution(
  endpointId: string,
  definition: ModelDefinition,
  source: 'builtin' | 'user',
): ModelResolution {
  return {
    endpointId,
    definition,
    status: 'file',
    source,
    refused: false,
    deprecated: false,
    suggestions: [],
    notes: [],
    warnings: [],
  };
}

/** What the registry keeps of a provider: resolutions asked once, and cached definitions. */
export interface RemoteDefinitions {
  /** A definition resolved before or in the provider's cache; never waits. */
  definition(endpointId: string): ModelDefinition | undefined;
  /** The provider's answer, asked once per id (again with `refresh`). */
  resolve(endpointId: string, options?: ResolveOptions): Promise<ModelResolution>;
}

/** The registry's side of a {@link DefinitionProvider}; without one, every id is `unchecked`. */
export function remoteDefinitions(provider: DefinitionProvider | undefined): RemoteDefinitions {
  const asked = new Map<string, Promise<ModelResolution>>();
  const settled = new Map<string, ModelResolution>();
  const peeked = new Map<string, ModelDefinition | undefined>();
  return {
    definition(endpointId) {
      const known = settled.get(endpointId);
      if (known) return known.definition;
      if (!provider?.peek) return undefined;
      if (!peeked.has(endpointId)) peeked.set(endpointId, provider.peek(endpointId)?.definition);
      return peeked.get(endpointId);
    },
    resolve(endpointId, options = {}) {
      if (!provider) {
        return Promise.resolve({
          endpointId,
          status: 'unchecked',
          source: 'none',
          refused: false,
          deprecated: false,
          suggestions: [],
          notes: [],
          warnings: [],
        });
      }
      const previous = asked.get(endpointId);
      if (previous && !options.refresh) return previous;
      const pending = provider.lookup(endpointId, options).then((answer) => {
        const resolution = resolutionFromAnswer(endpointId, answer);
        settled.set(endpointId, resolution);
        return resolution;
      });
      asked.set(endpointId, pending);
      pending.catch(() => {
        if (asked.get(endpointId) === pending) asked.delete(endpointId);
      });
      return pending;
    },
  };
}

/** The catalogue's warnings as validation warnings. */
export function resolutionWarnings(resolution: ModelResolution | undefined): InputIssue[] {
  return (resolution?.warnings ?? []).map((message) => ({ path: [], kind: 'catalogue', message }));
}
