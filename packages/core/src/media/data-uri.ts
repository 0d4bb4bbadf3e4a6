import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { MediaError } from '../errors/falai-error.js';
import { formatBytes, sourceSize } from './bytes.js';
import { sniffFile } from './sniff.js';

/** The seed refused data URIs above 200 MB and warned above 50 MB; so do we by default. */
export const DEFAULT_DATA_URI_MAX_BYTES = 200 * 1024 * 1024;
export const DEFAULT_DATA_URI_WARN_BYTES = 50 * 1024 * 1024;

export interface ToDataUriOptions {
  readonly maxBytes?: number;
  readonly warnBytes?: number;
  readonly onWarning?: (message: string) => void;
}

export interface DataUriResult {
  readonly uri: string;
  readonly mime: string;
  readonly size: number;
  /** `sha256:<hex>` of the file's bytes. */
  readonly digest: string;
}

/** Used only when the content is not recognised (e.g. SVG or plain text). */
const BY_EXTENSION: Record<string, string> = {
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain',
  '.json': 'application/json',
};

/** Reads in chunks of a multiple of 3 bytes so every chunk encodes to whole base64 groups. */
const CHUNK = 3 * 256 * 1024;

/**
 * Encodes a local file as a `data:<mime>;base64,…` URI. The MIME type comes from the
 * content. The base64 text is written straight into one preallocated buffer while the file
 * streams, so memory stays near the size of the result, not several copies of it.
 */
export async function toDataUri(
  path: string,
  options: ToDataUriOptions = {},
): Promise<DataUriResult> {
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
  const prefix = `data:${mime};base64,`;
  const out = Buffer.allocUnsafe(prefix.length + Math.ceil(size / 3) * 4);
  let at = out.write(prefix, 0, 'latin1');
  const hash = createHash('sha256');
  let carry: Buffer = Buffer.alloc(0);
  let read = 0;
  const stream = createReadStream(path, { highWaterMark: CHUNK });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    read += chunk.byteLength;
    if (read > size) {
      stream.destroy();
      throw new MediaError(`${path} grew while it was being read. Try again once it is complete.`);
    }
    hash.update(chunk);
    const data = carry.byteLength ? Buffer.concat([carry, chunk]) : chunk;
    const whole = data.byteLength - (data.byteLength % 3);
    at += out.write(data.subarray(0, whole).toString('base64'), at, 'latin1');
    carry = Buffer.from(data.subarray(whole));
  }
  if (carry.byteLength) at += out.write(carry.toString('base64'), at, 'latin1');
  if (read !== size) {
    throw new MediaError(`${path} changed while it was being read. Try again once it is complete.`);
  }
  return { uri: out.toString('latin1', 0, at), mime, size, digest: `sha256:${hash.digest('hex')}` };
}
