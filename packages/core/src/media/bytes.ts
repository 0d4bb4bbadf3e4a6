import { open, stat } from 'node:fs/promises';
import { MediaError } from '../errors/falai-error.js';

/** A file path or bytes already in memory (a decoded data URI). */
export type MediaSource = string | Uint8Array;

/** How a media source is named in messages. */
export function sourceName(source: MediaSource): string {
  return typeof source === 'string' ? source : `(${source.byteLength} bytes in memory)`;
}

/** Size of a path or of bytes; a missing path becomes a MediaError that says so. */
export async function sourceSize(source: MediaSource): Promise<number> {
  if (typeof source !== 'string') return source.byteLength;
  try {
    const info = await stat(source);
    if (!info.isFile()) throw new MediaError(`${source} is not a regular file.`);
    return info.size;
  } catch (error) {
    if (error instanceof MediaError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new MediaError(
        `File not found: ${source}. Check the path (relative paths start at the current directory).`,
        { cause: error },
      );
    throw new MediaError(`Cannot read ${source}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Random access to a path or bytes: media checks read a few headers, never the whole file.
 * `close` must be called for paths.
 */
export interface ByteReader {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Opens a reader over a path or bytes. */
export async function openReader(source: MediaSource): Promise<ByteReader> {
  if (typeof source !== 'string') {
    return {
      size: source.byteLength,
      read: async (offset, length) =>
        source.subarray(offset, Math.min(offset + length, source.byteLength)),
      close: async () => {},
    };
  }
  const size = await sourceSize(source);
  const handle = await open(source, 'r');
  return {
    size,
    read: async (offset, length) => {
      const want = Math.max(0, Math.min(length, size - offset));
      const buffer = Buffer.alloc(want);
      const { bytesRead } = await handle.read(buffer, 0, want, offset);
      return buffer.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}

/** The first `length` bytes of a source. */
export async function readHead(source: MediaSource, length: number): Promise<Uint8Array> {
  const reader = await openReader(source);
  try {
    return await reader.read(0, length);
  } finally {
    await reader.close();
  }
}

/** `12.3 MB`: sizes in messages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
