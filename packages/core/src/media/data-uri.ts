import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { MediaError } from '../errors/falai-error.js';
import { formatBytes, sourceSize } from './bytes.js';
import { sniffFile } from './sniff.js';

/** The seed refused data URIs above 200 MB and warned above 50 MB; so do we by default. */
export const DEFAULT_DATA_URI_MAX_BYTES = 200 * 1024 * 1024;
/** Above this size a data URI still works but is slow to send; callers get a warning. */
export const DEFAULT_DATA_URI_WARN_BYTES = 50 * 1024 * 1024;

/** Limits shared by {@link toDataUri} and {@link encodeDataUri}. */
export interface ToDataUriOptions {
  readonly maxBytes?: number;
  readonly warnBytes?: number;
  readonly onWarning?: (message: string) => void;
  /**
   * Bytes read per chunk (rounded down to a multiple of 3, at least 3). Only worth changing in
   * tests, to cross many chunk boundaries with a small file. Default 48 KiB.
   */
  readonly chunkBytes?: number;
}

/** A data URI held in memory, for small files (`prepareInput` keeps these under its threshold). */
export interface DataUriResult {
  readonly uri: string;
  readonly mime: string;
  readonly size: number;
  /** `sha256:<hex>` of the file's bytes. */
  readonly digest: string;
}

/**
 * A data URI that has been checked (size limits, MIME type) but not read yet: iterate `chunks`
 * once to get its text piece by piece, so a 200 MB file never sits in memory.
 */
export interface DataUriEncoding {
  readonly mime: string;
  /** Size of the file in bytes. */
  readonly size: number;
  /** `data:<mime>;base64,`, the first chunk. */
  readonly prefix: string;
  /** Characters in the whole URI (prefix + base64), known before reading. */
  readonly length: number;
  /**
   * The URI in order: the prefix, then the base64 of each chunk of the file. Iterable once;
   * the file is opened on the first step and closed when iteration ends or stops early.
   */
  readonly chunks: AsyncIterable<string>;
  /**
   * `sha256:<hex>` of the bytes; settles when `chunks` has been read to the end, and rejects
   * if reading failed or stopped early. Await it only after iterating.
   */
  readonly digest: Promise<string>;
}

/** Used only when the content is not recognised (e.g. SVG or plain text). */
const BY_EXTENSION: Record<string, string> = {
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain',
  '.json': 'application/json',
};

/**
 * A multiple of 3 so every chunk but the last encodes to whole base64 groups (no padding).
 * 48 KiB encodes to a 64 Ki-character string, under V8's large-object size: the garbage stays
 * in the young generation and cheap scavenges reclaim it. 768 KiB chunks were ~30% faster but
 * peaked 60 MB higher on a 200 MB file.
 */
const DEFAULT_CHUNK = 3 * 16 * 1024;

function chunkSize(requested: number | undefined): number {
  if (requested === undefined) return DEFAULT_CHUNK;
  return Math.max(3, Math.floor(requested / 3) * 3);
}

/**
 * Checks the limits and sniffs the MIME type of a file about to become a data URI, without
 * reading more than its first bytes: every refusal happens before any output.
 */
async function inspect(
  path: string,
  options: ToDataUriOptions,
): Promise<{ size: number; mime: string }> {
  const maxBytes = options.maxBytes ?? DEFAULT_DATA_URI_MAX_BYTES;
  const warnBytes = options.warnBytes ?? DEFAULT_DATA_URI_WARN_BYTES;
  const size = await sourceSize(path);
  if (size > maxBytes) {
    throw new MediaError(
      `${path} is ${formatBytes(size)}; data URIs are limited to ${formatBytes(maxBytes)}. Upload the file to fal storage instead (e.g. \`falai upload\`, or submit with uploads enabled).`,
    );
  }
  if (size > warnBytes) {
    options.onWarning?.(
      `${path} is ${formatBytes(size)}; data URIs above ${formatBytes(warnBytes)} are slow to send. Consider uploading it instead.`,
    );
  }
  const sniffed = await sniffFile(path);
  const mime =
    sniffed.mime === 'application/octet-stream' || sniffed.mime === 'text/plain'
      ? (BY_EXTENSION[extname(path).toLowerCase()] ?? sniffed.mime)
      : sniffed.mime;
  return { size, mime };
}

/**
 * Reads exactly `size` bytes into one reused buffer, yielding full chunks (a multiple of 3)
 * and a shorter last one. Each yielded view is overwritten by the next read, so callers
 * consume it before asking for more. A file that shrinks or grows meanwhile is an error.
 */
async function* readChunks(path: string, size: number, chunk: number): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(chunk, Math.max(size, 1)));
    let position = 0;
    while (position < size) {
      const want = Math.min(buffer.length, size - position);
      let filled = 0;
      while (filled < want) {
        const { bytesRead } = await handle.read(buffer, filled, want - filled, position + filled);
        if (bytesRead === 0) {
          throw new MediaError(
            `${path} shrank while it was being read. Try again once it is complete.`,
          );
        }
        filled += bytesRead;
      }
      position += filled;
      yield buffer.subarray(0, filled);
    }
    const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, size);
    if (bytesRead > 0) {
      throw new MediaError(`${path} grew while it was being read. Try again once it is complete.`);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Prepares a file as a streamed `data:<mime>;base64,…` URI: the size limits and the MIME
 * type (from the content) are settled here, before any byte is encoded, so a caller can
 * refuse cleanly before writing anything. Then `chunks` reads the file piece by piece; memory
 * stays at one chunk whatever the file size. Use it to write big URIs to a stream.
 */
export async function encodeDataUri(
  path: string,
  options: ToDataUriOptions = {},
): Promise<DataUriEncoding> {
  const { size, mime } = await inspect(path, options);
  const prefix = `data:${mime};base64,`;
  const chunk = chunkSize(options.chunkBytes);
  let settle!: { resolve: (digest: string) => void; reject: (error: unknown) => void };
  const digest = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A caller that stops early and never awaits the digest must not see an unhandled rejection.
  digest.catch(() => {});
  let started = false;
  async function* generate(): AsyncGenerator<string> {
    if (started) throw new MediaError('A data URI encoding can be read only once.');
    started = true;
    const hash = createHash('sha256');
    let done = false;
    try {
      yield prefix;
      for await (const bytes of readChunks(path, size, chunk)) {
        hash.update(bytes);
        yield bytes.toString('base64');
      }
      done = true;
      settle.resolve(`sha256:${hash.digest('hex')}`);
    } catch (error) {
      settle.reject(error);
      throw error;
    } finally {
      if (!done) settle.reject(new MediaError(`Reading ${path} stopped before the end.`));
    }
  }
  return {
    mime,
    size,
    prefix,
    length: prefix.length + Math.ceil(size / 3) * 4,
    chunks: { [Symbol.asyncIterator]: generate },
    digest,
  };
}

/**
 * Encodes a local file as a `data:<mime>;base64,…` string, for small files (inputs under the
 * upload threshold). The base64 text goes into one buffer of exactly the URI's length, decoded
 * to a string once. Big files should be uploaded (`uploadFile`) or streamed with
 * {@link encodeDataUri}: a string holds the whole URI, about 1.33× the file.
 */
export async function toDataUri(
  path: string,
  options: ToDataUriOptions = {},
): Promise<DataUriResult> {
  const encoding = await encodeDataUri(path, options);
  const out = Buffer.allocUnsafe(encoding.length);
  let at = 0;
  for await (const piece of encoding.chunks) at += out.write(piece, at, 'latin1');
  return {
    uri: out.toString('latin1', 0, at),
    mime: encoding.mime,
    size: encoding.size,
    digest: await encoding.digest,
  };
}
