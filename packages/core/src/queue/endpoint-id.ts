import { InputError } from '../errors/index.js';

/** A parsed fal endpoint id (fal-api-reference.md §2). */
export interface EndpointId {
  readonly owner: string;
  readonly alias: string;
  /** The rest after owner/alias, joined with `/`, e.g. `dev/image-to-image`. */
  readonly path?: string;
  /** `workflows` or `comfy` when the id starts with one of them. */
  readonly namespace?: 'workflows' | 'comfy';
}

const NAMESPACES = new Set(['workflows', 'comfy']);
const LEGACY_NUMERIC = /^([0-9]+)-([a-zA-Z0-9-]+)$/;
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

function invalid(id: string, why: string): InputError {
  return new InputError(
    `Invalid endpoint id "${id}": ${why}. Use the form <owner>/<app>[/<path>], e.g. fal-ai/flux/dev.`,
    [{ path: [], message: why, kind: 'endpoint' }],
    { details: { endpointId: id } },
  );
}

/**
 * Parses an endpoint id like fal-js `parseEndpointId`: a legacy numeric
 * `123-app` becomes `123/app`; a leading `workflows`/`comfy` is a namespace.
 */
export function parseEndpointId(id: string): EndpointId {
  if (typeof id !== 'string' || id.trim() === '') throw invalid(String(id), 'it is empty');
  const trimmed = id.trim();
  if (/^[a-z]+:\/\//i.test(trimmed)) throw invalid(trimmed, 'pass the id, not a URL');
  let normalised = trimmed.replace(/^\/+|\/+$/g, '');
  if (!normalised.includes('/')) {
    const legacy = LEGACY_NUMERIC.exec(normalised);
    if (!legacy) throw invalid(trimmed, 'it needs an owner and an app separated by "/"');
    normalised = `${legacy[1]}/${legacy[2]}`;
  }
  const parts = normalised.split('/');
  for (const part of parts) {
    if (part === '') throw invalid(trimmed, 'it contains an empty segment ("//")');
    if (part === '.' || part === '..') throw invalid(trimmed, 'it contains "." or ".." segments');
    if (!SEGMENT.test(part)) throw invalid(trimmed, `segment "${part}" has unsupported characters`);
  }
  const first = parts[0] as string;
  if (NAMESPACES.has(first)) {
    if (parts.length < 3) throw invalid(trimmed, `a ${first} id needs ${first}/<owner>/<app>`);
    const [, owner, alias, ...rest] = parts as [string, string, string, ...string[]];
    return {
      namespace: first as 'workflows' | 'comfy',
      owner,
      alias,
      ...(rest.length ? { path: rest.join('/') } : {}),
    };
  }
  const [owner, alias, ...rest] = parts as [string, string, ...string[]];
  return { owner, alias, ...(rest.length ? { path: rest.join('/') } : {}) };
}

/** The canonical id string (normalised form of the input). */
export function formatEndpointId(id: EndpointId): string {
  return [id.namespace, id.owner, id.alias, id.path].filter(Boolean).join('/');
}

/**
 * The base path for status, result, cancel and the status stream:
 * `[namespace/]owner/alias`. Submit uses the full id. fal's live queue answers 405
 * for status under the full id (§2), so the client always uses this form.
 */
export function queueBasePath(endpointId: string): string {
  const parsed = parseEndpointId(endpointId);
  return [parsed.namespace, parsed.owner, parsed.alias].filter(Boolean).join('/');
}
