import type { PlatformModel } from '../platform/schemas.js';
import type { CatalogueModel } from './cache.js';

/** Bounds on what falai keeps of a catalogue entry (fal's answers are outside data). */
const cut = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** What falai keeps of one catalogue model. */
export function catalogueModelOf(model: PlatformModel): CatalogueModel {
  const meta = model.metadata;
  return {
    endpointId: model.endpointId,
    name: cut(meta?.displayName || model.endpointId, 300),
    category: cut(meta?.category ?? 'other', 100),
    status: cut(meta?.status ?? 'active', 50),
    description: cut(meta?.description ?? '', 1000),
    tags: (meta?.tags ?? []).slice(0, 50).map((tag) => cut(tag, 100)),
    ...(typeof meta?.durationEstimate === 'number' && Number.isFinite(meta.durationEstimate)
      ? { durationEstimate: meta.durationEstimate }
      : {}),
  };
}

/** Words of free text, lower-cased. */
const words = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^a-z0-9.]+/)
    .filter((word) => word.length > 0);

/**
 * Whether a cached model matches a search: every word of the text appears in its id, name,
 * category, description or tags, and the category is the one asked for. [?] fal's own matching
 * and ranking are not documented; this is the plain reading of "free text".
 */
export function matchesSearch(
  model: CatalogueModel,
  text: string | undefined,
  category: string | undefined,
): boolean {
  if (category !== undefined && model.category !== category) return false;
  if (text === undefined || text.trim() === '') return true;
  const haystack = [model.endpointId, model.name, model.category, model.description, ...model.tags]
    .join(' ')
    .toLowerCase();
  return words(text).every((word) => haystack.includes(word));
}
