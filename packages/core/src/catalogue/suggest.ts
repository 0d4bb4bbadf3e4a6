/**
 * "Did you mean …?" for endpoint ids: edit distance over the ids fal's catalogue lists, and the
 * rule that tells a typo (refused before a submit) from a private app (no public catalogue
 * lists those, so they are only warned about).
 */

/** Levenshtein distance, giving up (returning `max + 1`) once it must exceed `max`. */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      current.push(value);
      if (value < best) best = value;
    }
    if (best > max) return max + 1;
    previous = current;
  }
  return previous[b.length] as number;
}

/** How far an id may be from a suggestion: 40 % of its length, at least 3 edits. */
const reach = (id: string) => Math.max(3, Math.ceil(id.length * 0.4));

/**
 * The catalogue ids closest to `endpointId`, best first: ids within a few edits, and ids that
 * extend it (`fal-ai/flux` → `fal-ai/flux/dev`); none much further than the best. Case is
 * ignored.
 */
export function closestEndpointIds(endpointId: string, known: Iterable<string>, max = 3): string[] {
  const wanted = endpointId.toLowerCase();
  const limit = reach(wanted);
  const scored: { id: string; score: number }[] = [];
  for (const id of known) {
    if (id === endpointId) continue;
    const candidate = id.toLowerCase();
    // Only the case differs: the closest of all.
    const distance = candidate === wanted ? 0.5 : editDistance(wanted, candidate, limit);
    // A longer id under this one is a near miss whatever its length.
    const score = candidate.startsWith(`${wanted}/`) ? Math.min(distance, 1.5) : distance;
    if (score <= limit) scored.push({ id, score });
  }
  scored.sort((x, y) => x.score - y.score || x.id.localeCompare(y.id));
  // A near miss is not diluted with far ones: one edit away beats six.
  const best = scored[0]?.score ?? 0;
  return scored
    .filter((entry) => entry.score <= Math.max(best * 2, best + 1))
    .slice(0, max)
    .map((entry) => entry.id);
}

/** `fal-ai` of `fal-ai/flux/dev`. */
export const ownerOf = (endpointId: string): string => endpointId.split('/')[0] ?? endpointId;

/**
 * Whether an id the catalogue does not list is a mistake worth refusing: its owner publishes
 * models in the catalogue (a private app lives under its owner's own name, which does not), or
 * a listed id is at most two edits away (`fal-a/nano-banana-pro`).
 */
export function looksLikeTypo(endpointId: string, known: readonly string[]): boolean {
  const owner = ownerOf(endpointId).toLowerCase();
  if (known.some((id) => ownerOf(id).toLowerCase() === owner)) return true;
  const wanted = endpointId.toLowerCase();
  return known.some((id) => editDistance(wanted, id.toLowerCase(), 2) <= 2);
}
