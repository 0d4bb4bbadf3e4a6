import { MediaError } from '../errors/falai-error.js';
import { formatBytes } from '../media/bytes.js';
import { DEFAULT_DATA_URI_MAX_BYTES } from '../media/data-uri.js';

/**
 * Bytes a program hands over in an input instead of a path or URL: a Buffer or any typed
 * array, an ArrayBuffer, a Blob (or File), a Node readable stream or a web ReadableStream.
 */
export type BinaryInput =
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | NodeJS.ReadableStream
  | ReadableStream<Uint8Array>;

/**
 * What a file field of an input takes: an http(s) URL, a data URI or a local path (a string),
 * or bytes in memory (a Buffer, typed array, ArrayBuffer, Blob, Node or web stream). Paths and
 * bytes are sent as data URIs or uploaded to fal storage.
 */
export type FileInput = string | BinaryInput;

/** Options of {@link readBinaryInputs}. */
export interface ReadBinaryInputsOptions {
  /** Largest binary value read (a stream is read up to this). @default 200 MiB */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal | undefined;
}

/** What {@link readBinaryInputs} found. */
export interface BinaryInputs {
  /** The input with every binary value replaced by a `data:` URI of its bytes. */
  readonly input: Record<string, unknown>;
  /** The bytes by dotted field path (`image_urls.0`), for uploads that skip the base64. */
  readonly bytes: ReadonlyMap<string, Uint8Array>;
}

/** True for a value {@link readBinaryInputs} reads as bytes. */
export function isBinaryInput(value: unknown): value is BinaryInput {
  if (typeof value !== 'object' || value === null) return false;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return true;
  if (typeof Blob !== 'undefined' && value instanceof Blob) return true;
  const candidate = value as {
    pipe?: unknown;
    getReader?: unknown;
    [Symbol.asyncIterator]?: unknown;
  };
  if (typeof candidate.getReader === 'function') return true;
  return (
    typeof candidate.pipe === 'function' && typeof candidate[Symbol.asyncIterator] === 'function'
  );
}

/**
 * Turns the bytes a program put in an input into what fal accepts: each binary value (see
 * {@link BinaryInput}) becomes a `data:` URI with the type its content shows (a Blob's own
 * type when its bytes are not recognised), so validation and media checks see it like any
 * other inline file, and `prepareInput` may upload the bytes instead. Streams are read to the
 * end, bounded by `maxBytes`. Other values are left as they are; the input is not modified.
 */
export async function readBinaryInputs(
  input: Record<string, unknown>,
  options: ReadBinaryInputsOptions = {},
): Promise<BinaryInputs> {
  const max = options.maxBytes ?? DEFAULT_DATA_URI_MAX_BYTES;
  const bytes = new Map<string, Uint8Array>();
  const visit = async (value: unknown, path: readonly (string | number)[]): Promise<unknown> => {
    if (isBinaryInput(value)) {
      const field = path.map(String).join('.');
      const data = await readBytes(value, field, max, options.signal);
      bytes.set(field, data);
      return toDataUri(data, value);
    }
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (const [index, item] of value.entries()) out.push(await visit(item, [...path, index]));
      return out;
    }
    if (
      typeof value === 'object' &&
      value !== null &&
      Object.getPrototypeOf(value) === Object.prototype
    ) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        // defineProperty: a key named __proto__ stays data (prepareInput refuses it later).
        Object.defineProperty(out, key, {
          value: await visit(item, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return value;
  };
  if (!containsBinary(input)) return { input, bytes };
  return { input: (await visit(input, [])) as Record<string, unknown>, bytes };
}

function containsBinary(value: unknown): boolean {
  if (isBinaryInput(value)) return true;
  if (Array.isArray(value)) return value.some(containsBinary);
  if (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype
  )
    return Object.values(value).some(containsBinary);
  return false;
}

function tooLarge(field: string, max: number): MediaError {
  return new MediaError(
    `${field}: the bytes given are larger than ${formatBytes(max)}, the most falai reads into memory for one input. Write them to a file and pass its path (large files are uploaded to fal storage as they are read).`,
    { details: { field, maxBytes: max } },
  );
}

async function readBytes(
  value: BinaryInput,
  field: string,
  max: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  if (value instanceof ArrayBuffer) {
    if (value.byteLength > max) throw tooLarge(field, max);
    return new Uint8Array(value);
  }
  if (ArrayBuffer.isView(value)) {
    if (value.byteLength > max) throw tooLarge(field, max);
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (typeof Blob !== 'undefined' && value instanceof Blob) {
    if (value.size > max) throw tooLarge(field, max);
    return new Uint8Array(await value.arrayBuffer());
  }
  const iterable =
    typeof (value as ReadableStream<Uint8Array>).getReader === 'function'
      ? webChunks(value as ReadableStream<Uint8Array>)
      : (value as AsyncIterable<Uint8Array | string>);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of iterable) {
    if (signal?.aborted) throw signal.reason;
    const part = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += part.byteLength;
    if (size > max) {
      (value as { destroy?: () => void }).destroy?.();
      throw tooLarge(field, max);
    }
    chunks.push(part);
  }
  return Buffer.concat(chunks, size);
}

async function* webChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** A data URI of the bytes: the type from their content, else a Blob's type, else octet-stream. */
async function toDataUri(bytes: Uint8Array, source: BinaryInput): Promise<string> {
  const { sniffFile } = await import('../media/sniff.js');
  const sniffed = await sniffFile(bytes);
  const declared =
    typeof Blob !== 'undefined' &&
    source instanceof Blob &&
    /^[\w.+-]+\/[\w.+-]+$/.test(source.type)
      ? source.type
      : undefined;
  const unrecognised = sniffed.mime === 'application/octet-stream' || sniffed.mime === 'text/plain';
  const mime = unrecognised && declared !== undefined ? declared : sniffed.mime;
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}
