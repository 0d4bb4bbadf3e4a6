/**
 * fal's catalogue beside the model registry: definitions of any endpoint (fetched with their
 * OpenAPI document, converted, cached on disk with a TTL, served stale when fal cannot be
 * reached), "did you mean …?" for ids fal does not list, search and prices.
 */

export {
  assertResolved,
  type DefinitionProvider,
  didYouMean,
  type ModelResolution,
  type ProvidedDefinition,
  type ProviderAnswer,
  type ResolveOptions,
} from '../models/provider.js';
export { type CatalogueModel, catalogueCacheFolder } from './cache.js';
export {
  CATALOGUE_INDEX_PAGE_SIZE,
  type CataloguePrice,
  type CataloguePricesResult,
  type CatalogueSearchHit,
  type CatalogueSearchOptions,
  type CatalogueSearchResult,
  createModelCatalogue,
  DEFAULT_CATALOGUE_TTL_MS,
  formatAge,
  type MissingPrice,
  type ModelCatalogue,
  type ModelCatalogueOptions,
} from './catalogue.js';
export { matchesSearch } from './search.js';
export { closestEndpointIds, editDistance, looksLikeTypo } from './suggest.js';
