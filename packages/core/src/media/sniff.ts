import { type MediaSource, readHead } from './bytes.js';

/** What the bytes of a file are, whatever its name says. */
export interface SniffResult {
  readonly mime: string;
  /** file-type's extension (`jpg`, `png`, `mp4`, `mov`), or `txt`/`bin`. */
  readonly ext: string;
  readonly kind: 'image' | 'video' | 'other';
}

const HEAD_BYTES = 4100;

function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.byteLength === 0) return false;
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(0, Math.min(bytes.byteLength, 1024)),
    );
    return true;
  } catch {
    return false;
  }
}

/**
 * Detects the real type of a file from its first bytes (file-type), so a PNG named
 * `.jpg` or a text file named `.mp4` is caught before fal rejects it.
 */
export async function sniffFile(source: MediaSource): Promise<SniffResult> {
  const head = await readHead(source, HEAD_BYTES);
  const { fileTypeFromBuffer } = await import('file-type');
  const found = await fileTypeFromBuffer(head);
  if (!found) {
    return looksLikeText(head)
      ? { mime: 'text/plain', ext: 'txt', kind: 'other' }
      : { mime: 'application/octet-stream', ext: 'bin', kind: 'other' };
  }
  const kind = found.mime.startsWith('image/')
    ? 'image'
    : found.mime.startsWith('video/')
      ? 'video'
      : 'other';
  return { mime: found.mime, ext: found.ext, kind };
}

/** Extensions that name the same format (`jpeg` files sniff as `jpg`). */
export function sameFormat(a: string, b: string): boolean {
  const norm = (x: string) => {
    const e = x.toLowerCase().replace(/^\./, '');
    if (e === 'jpeg' || e === 'jpe') return 'jpg';
    if (e === 'qt') return 'mov';
    if (e === 'm4v') return 'mp4';
    return e;
  };
  return norm(a) === norm(b);
}
