import { fileURLToPath } from 'node:url';

/** What a string in a file field is: fal accepts URLs and data URIs; falai adds local paths. */
export type FileRefKind = 'url' | 'data-uri' | 'path';

/** The classification of one file-field value; `problem` explains an unusable value. */
export type ClassifiedFileRef =
  | { readonly kind: 'url'; readonly url: string }
  | {
      readonly kind: 'data-uri';
      readonly mime: string;
      readonly base64: boolean;
      readonly dataOffset: number;
    }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'invalid'; readonly problem: string };

const DATA_URI = /^data:([^;,]*)((?:;[^;,]*)*),/i;
const SCHEME = /^([a-z][a-z0-9+.-]+):\/\//i;

/**
 * Tells a URL from a data URI from a local path, so one rule decides what the validator
 * accepts and what prepareInput reads from disk. `file://` URLs count as local paths.
 */
export function classifyFileRef(value: string): ClassifiedFileRef {
  if (/^https?:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      if (!url.hostname) return { kind: 'invalid', problem: 'the URL has no host' };
      return { kind: 'url', url: value };
    } catch {
      return { kind: 'invalid', problem: 'it is not a valid URL' };
    }
  }
  if (/^data:/i.test(value)) {
    const match = DATA_URI.exec(value);
    if (!match) return { kind: 'invalid', problem: 'it is a malformed data URI (no comma)' };
    const params = (match[2] ?? '').toLowerCase().split(';');
    return {
      kind: 'data-uri',
      mime: (match[1] || 'text/plain').toLowerCase(),
      base64: params.includes('base64'),
      dataOffset: match[0].length,
    };
  }
  if (/^file:\/\//i.test(value)) {
    try {
      return { kind: 'path', path: fileURLToPath(value) };
    } catch {
      return { kind: 'invalid', problem: 'it is not a valid file:// URL' };
    }
  }
  const scheme = SCHEME.exec(value);
  if (scheme) {
    return { kind: 'invalid', problem: `the scheme "${scheme[1]}:" is not supported` };
  }
  if (value.trim() === '') return { kind: 'invalid', problem: 'it is empty' };
  return { kind: 'path', path: value };
}

/** Bytes of a data URI (base64 or percent-encoded), for sniffing and probing. */
export function decodeDataUri(value: string): Uint8Array {
  const ref = classifyFileRef(value);
  if (ref.kind !== 'data-uri') throw new TypeError('not a data URI');
  const payload = value.slice(ref.dataOffset);
  if (ref.base64) return Buffer.from(payload, 'base64');
  return Buffer.from(decodeURIComponent(payload), 'latin1');
}

/** Decoded size of a data URI without decoding it. */
export function dataUriSize(value: string): number {
  const ref = classifyFileRef(value);
  if (ref.kind !== 'data-uri') return 0;
  const len = value.length - ref.dataOffset;
  if (!ref.base64) return len;
  let pad = 0;
  if (value.endsWith('==')) pad = 2;
  else if (value.endsWith('=')) pad = 1;
  return Math.max(0, Math.floor((len * 3) / 4) - pad);
}
