import { randomUUID } from 'node:crypto';

/** An endpoint id split as fal's clients do (reference §2). */
export interface ParsedEndpointId {
  namespace?: string;
  owner: string;
  alias: string;
  path?: string | undefined;
  /** `[namespace/]owner/alias`: where status, result and cancel live. */
  base: string;
}

const NAMESPACES = new Set(['workflows', 'comfy']);

/**
 * Splits a full endpoint id into owner, alias and path, so that status URLs can use the
 * owner/alias base path. Returns undefined when the id has too few segments.
 */
export function parseEndpointId(id: string): ParsedEndpointId | undefined {
  const parts = id.split('/').filter((part) => part.length > 0);
  const first = parts[0];
  if (first !== undefined && NAMESPACES.has(first)) {
    const [namespace, owner, alias, ...rest] = parts;
    if (!namespace || !owner || !alias) return undefined;
    return {
      namespace,
      owner,
      alias,
      path: rest.length > 0 ? rest.join('/') : undefined,
      base: `${namespace}/${owner}/${alias}`,
    };
  }
  const [owner, alias, ...rest] = parts;
  if (!owner || !alias) return undefined;
  return {
    owner,
    alias,
    path: rest.length > 0 ? rest.join('/') : undefined,
    base: `${owner}/${alias}`,
  };
}

/** Makes request ids: sequential in deterministic mode so snapshots stay stable. */
export function createRequestIdFactory(deterministic: boolean): () => string {
  let counter = 0;
  return () => {
    if (!deterministic) return randomUUID();
    counter += 1;
    return `00000000-0000-4000-8000-${counter.toString().padStart(12, '0')}`;
  };
}

/** Epoch ms with sub-millisecond resolution, so benchmarks can measure small delays. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
