import type { RequestKind } from './types.js';

/** A classified request path: which handler runs and with which parameters. */
export type Route =
  | { kind: 'jwks' }
  | { kind: 'upload-initiate'; multipart: boolean }
  | { kind: 'upload-put'; token: string }
  | { kind: 'upload-part'; token: string; part: number }
  | { kind: 'upload-complete'; token: string }
  | { kind: 'file' }
  | { kind: 'submit'; endpointId: string }
  | {
      kind: 'status' | 'stream' | 'result' | 'cancel';
      prefix: string;
      requestId: string;
    }
  | { kind: 'admin' }
  | { kind: 'platform' }
  | { kind: 'other'; token?: boolean };

const RESERVED = new Set(['storage', 'files', '.well-known', 'tokens', '_emulator']);

/** The emulator's own read-only view of its counters, for out-of-process callers. */
export const ADMIN_STATS_PATH = '/_emulator/stats';

/**
 * Classifies a request by method and path. Queue paths accept a trailing slash (the fal SDK
 * sends `…/status/`) and any prefix, so both owner/alias and full-id forms reach the handler.
 */
export function classify(method: string, pathname: string): Route {
  const trimmed = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const segments = trimmed.split('/').filter((segment) => segment.length > 0);
  const first = segments[0] ?? '';
  if (trimmed === '/.well-known/jwks.json') return { kind: 'jwks' };
  if (trimmed === ADMIN_STATS_PATH) return { kind: 'admin' };
  // fal's Platform API (api.fal.ai/v1) is served under the same origin at /v1/.
  if (first === 'v1') return { kind: 'platform' };
  if (first === 'files') return { kind: 'file' };
  if (first === 'tokens') return { kind: 'other', token: true };
  if (first === 'storage') {
    if (trimmed === '/storage/upload/initiate')
      return { kind: 'upload-initiate', multipart: false };
    if (trimmed === '/storage/upload/initiate-multipart') {
      return { kind: 'upload-initiate', multipart: true };
    }
    const [, , kind, token, extra] = segments;
    if (segments[1] === 'upload' && token) {
      if (kind === 'object' && extra === undefined) return { kind: 'upload-put', token };
      if (kind === 'multipart' && extra === 'complete') return { kind: 'upload-complete', token };
      if (kind === 'multipart' && extra !== undefined) {
        return { kind: 'upload-part', token, part: Number(extra) };
      }
    }
    return { kind: 'other' };
  }
  if (RESERVED.has(first)) return { kind: 'other' };
  const index = segments.lastIndexOf('requests');
  if (index >= 2) {
    const prefix = segments.slice(0, index).join('/');
    const [requestId, a, b, ...rest] = segments.slice(index + 1);
    if (requestId && rest.length === 0) {
      if (a === undefined) return { kind: 'result', prefix, requestId };
      if (a === 'status' && b === undefined) return { kind: 'status', prefix, requestId };
      if (a === 'status' && b === 'stream') return { kind: 'stream', prefix, requestId };
      if (a === 'cancel' && b === undefined) return { kind: 'cancel', prefix, requestId };
    }
  }
  if (method === 'POST' && segments.length >= 2) {
    return { kind: 'submit', endpointId: segments.join('/') };
  }
  return { kind: 'other' };
}

/** The HTTP method each route kind answers to. */
export const METHODS: Partial<Record<RequestKind, string[]>> = {
  jwks: ['GET', 'HEAD'],
  admin: ['GET'],
  file: ['GET', 'HEAD'],
  'upload-initiate': ['POST'],
  'upload-put': ['PUT'],
  'upload-part': ['PUT'],
  'upload-complete': ['POST'],
  submit: ['POST'],
  status: ['GET'],
  stream: ['GET'],
  result: ['GET'],
  cancel: ['PUT'],
};
