import { type FileHandle, open, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { ApiError, MediaError } from '../errors/index.js';
import { bytesStream, type HttpContext, httpCall } from './http.js';
import type { RetryPolicy } from './retry.js';
import type { UploadOptions, UploadResult } from './types.js';

/** fal-js switches to multipart above 90 MiB (§9). */
export const DEFAULT_MULTIPART_THRESHOLD_BYTES = 90 * 1024 * 1024;
/** fal-js part size (§9). */
export const DEFAULT_PART_SIZE_BYTES = 10 * 1024 * 1024;

const MIME_BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.avi': 'video/x-msvideo',
  '.mkv': 'video/x-matroska',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.json': 'application/json',
  '.txt': 'text/plain',
};

/** A content type from a file name; octet-stream when unknown. */
export function guessContentType(fileName: string): string {
  return MIME_BY_EXTENSION[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

interface UploadSource {
  readonly size: number;
  readonly fileName?: string;
  readonly type?: string;
  /** The bytes in [start, end) as a web stream, read lazily (a fresh one per attempt). */
  stream(start: number, end: number): ReadableStream<Uint8Array>;
  /**
   * The bytes in [start, end) in memory, for one multipart part. A file is read into `into`
   * (at least `end - start` long) and the view returned; bytes in memory are returned as is.
   */
  read(start: number, end: number, into?: Buffer): Promise<Uint8Array>;
}

/** Bytes per chunk handed to the HTTP client: small enough to keep memory flat, big enough to be fast. */
const READ_CHUNK = 256 * 1024;

/**
 * The bytes [start, end) of a file as a pull-driven web stream: a read happens only when the
 * HTTP client asks for more, so at most one chunk waits in memory (`Readable.toWeb` on
 * Node 20 reads ahead without backpressure). The file is closed at the end or on cancel.
 */
function fileRange(path: string, start: number, end: number): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined;
  let position = start;
  const close = async () => {
    const open = handle;
    handle = undefined;
    await open?.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (position >= end) {
            await close();
            controller.close();
            return;
          }
          handle ??= await open(path, 'r');
          const want = Math.min(READ_CHUNK, end - position);
          const buffer = Buffer.allocUnsafe(want);
          const { bytesRead } = await handle.read(buffer, 0, want, position);
          if (bytesRead === 0) throw shrank(path);
          position += bytesRead;
          controller.enqueue(buffer.subarray(0, bytesRead));
        } catch (error) {
          await close().catch(() => {});
          controller.error(error);
        }
      },
      cancel: close,
    },
    { highWaterMark: 0 },
  );
}

function shrank(path: string): MediaError {
  return new MediaError(
    `${path} shrank while it was being uploaded. Try again once it is complete.`,
    { details: { path } },
  );
}

/** Reads [start, end) of a file into `into` (fresh memory when absent). */
async function readRange(path: string, start: number, end: number, into?: Buffer) {
  const buffer = into ?? Buffer.allocUnsafe(end - start);
  const handle = await open(path, 'r');
  try {
    let filled = 0;
    while (filled < end - start) {
      const { bytesRead } = await handle.read(buffer, filled, end - start - filled, start + filled);
      if (bytesRead === 0) throw shrank(path);
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

async function openSource(source: string | Uint8Array | Blob): Promise<UploadSource> {
  if (typeof source === 'string') {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(source);
    } catch (error) {
      throw new MediaError(
        `Cannot upload ${source}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}. Check the path.`,
        { cause: error, details: { path: source } },
      );
    }
    if (!info.isFile())
      throw new MediaError(`Cannot upload ${source}: it is not a regular file.`, {
        details: { path: source },
      });
    return {
      size: info.size,
      fileName: basename(source),
      stream: (start, end) => fileRange(source, start, end),
      read: (start, end, into) => readRange(source, start, end, into),
    };
  }
  if (source instanceof Uint8Array) {
    return {
      size: source.byteLength,
      stream: (start, end) => bytesStream(source.subarray(start, end), READ_CHUNK),
      read: async (start, end) => source.subarray(start, end),
    };
  }
  const blob = source;
  const name = (blob as Blob & { name?: unknown }).name;
  return {
    size: blob.size,
    ...(typeof name === 'string' && name ? { fileName: name } : {}),
    ...(blob.type ? { type: blob.type } : {}),
    stream: (start, end) => blob.slice(start, end).stream() as ReadableStream<Uint8Array>,
    read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
  };
}

function counting(
  stream: ReadableStream<Uint8Array>,
  onChunk: (bytes: number) => void,
): ReadableStream<Uint8Array> {
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        onChunk(chunk.byteLength);
        controller.enqueue(chunk);
      },
    }),
  );
}

function uploadTarget(data: unknown, what: string): { uploadUrl: string; fileUrl: string } {
  const record = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const uploadUrl = record.upload_url;
  const fileUrl = record.file_url;
  if (typeof uploadUrl !== 'string' || typeof fileUrl !== 'string')
    throw new ApiError(`fal's ${what} answer lacks upload_url/file_url; cannot upload.`, {
      status: 200,
      detail: data,
    });
  for (const [name, value] of [
    ['upload_url', uploadUrl],
    ['file_url', fileUrl],
  ] as const) {
    let protocol: string | undefined;
    try {
      protocol = new URL(value).protocol;
    } catch {}
    if (protocol !== 'https:' && protocol !== 'http:')
      throw new ApiError(
        `fal's ${what} answer has a ${name} that is not an http(s) URL; cannot upload.`,
        { status: 200, details: { status: 200, field: name } },
      );
  }
  return { uploadUrl, fileUrl };
}

/** Parts follow fal-js: `<origin><pathname>/<n><search>`, then `…/complete<search>`. */
function partUrl(uploadUrl: string, suffix: string): string {
  const url = new URL(uploadUrl);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/${suffix}${url.search}`;
}

/**
 * Uploads to fal storage (§9): initiate + one PUT streamed from disk, or above the
 * threshold the multipart protocol with sequential parts, each read from disk into one reused
 * part-sized window, sent with its Content-Length and retried on its own. Memory stays at one
 * part (10 MiB) whatever the file size. Pre-signed URLs never get the Authorization header.
 */
export async function uploadFile(
  ctx: HttpContext,
  restUrl: string,
  policy: RetryPolicy,
  source: string | Uint8Array | Blob,
  options: UploadOptions & { readonly idleTimeoutMs: number; readonly maxAnswerBytes: number },
): Promise<UploadResult> {
  const file = await openSource(source);
  const fileName = options.fileName ?? file.fileName;
  const contentType =
    options.contentType ??
    file.type ??
    (fileName ? guessContentType(fileName) : 'application/octet-stream');
  const name =
    fileName ?? `${Date.now()}.${(contentType.split('/')[1] ?? 'bin').split(/[-;+]/)[0]}`;
  const threshold = options.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD_BYTES;
  const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  if (partSize <= 0 || !Number.isFinite(partSize))
    throw new MediaError(`partSizeBytes must be a positive number, got ${partSize}.`);
  // No total limit: a large file on a slow uplink takes as long as it takes. A call fails (and
  // a PUT is retried, see the upload policy's retryStalls) only when nothing moves.
  const common = {
    signal: options.signal,
    idleTimeoutMs: options.idleTimeoutMs,
    maxBodyBytes: options.maxAnswerBytes,
  };
  const total = file.size;
  const multipart = total > threshold;

  const initiated = await httpCall(ctx, {
    operation: 'upload',
    method: 'POST',
    url: `${restUrl}/storage/upload/${multipart ? 'initiate-multipart' : 'initiate'}?storage_type=fal-cdn-v3`,
    json: { content_type: contentType, file_name: name },
    auth: true,
    policy,
    ...common,
  });
  const { uploadUrl, fileUrl } = uploadTarget(initiated.data, 'upload initiate');
  const parts = multipart ? Math.ceil(total / partSize) : 1;

  if (!multipart) {
    let sent = 0;
    await httpCall(ctx, {
      operation: 'upload',
      label: 'PUT',
      method: 'PUT',
      url: uploadUrl,
      expect: 'any',
      headers: { 'content-type': contentType, 'content-length': String(total) },
      rawBody: () => {
        sent = 0;
        return counting(file.stream(0, total), (bytes) => {
          sent += bytes;
          options.onProgress?.(sent, total);
        });
      },
      auth: false,
      policy,
      ...common,
    });
    if (total === 0) options.onProgress?.(0, 0);
    return { url: fileUrl, size: total, contentType };
  }

  // One window for all the parts of a file: each attempt reads its part from disk into it and
  // streams views of it, so memory holds one part and makes no garbage for the GC to lag on
  // (fresh buffers per chunk let ~64 MB of dead ones pile up before V8 collects them). It is
  // overwritten only after fal answered 2xx for the previous part, i.e. read all of it.
  const window =
    typeof source === 'string' ? Buffer.allocUnsafe(Math.min(partSize, total)) : undefined;
  const sent: { partNumber: number; etag: string }[] = [];
  let done = 0;
  let reported = 0;
  for (let start = 0, partNumber = 1; start < total; start += partSize, partNumber++) {
    const end = Math.min(start + partSize, total);
    const response = await httpCall(ctx, {
      operation: 'upload',
      label: `part ${partNumber} of ${parts}`,
      method: 'PUT',
      url: partUrl(uploadUrl, String(partNumber)),
      expect: 'any',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(end - start),
      },
      // Read again for each attempt: a retried part re-reads its range from disk.
      rawBody: async () => {
        let partSent = 0;
        return counting(bytesStream(await file.read(start, end, window), READ_CHUNK), (bytes) => {
          partSent += bytes;
          // A retry re-sends the part from its start; progress never goes backwards.
          if (done + partSent > reported) {
            reported = done + partSent;
            options.onProgress?.(reported, total);
          }
        });
      },
      auth: false,
      policy,
      ...common,
    });
    const data = response.data as Record<string, unknown> | undefined;
    const etag = data?.etag ?? response.headers.get('etag');
    if (typeof etag !== 'string')
      throw new ApiError(`fal storage did not return an etag for part ${partNumber}.`, {
        status: response.status,
        detail: response.data,
      });
    sent.push({ partNumber, etag });
    done = end;
  }
  await httpCall(ctx, {
    operation: 'upload',
    label: 'complete',
    method: 'POST',
    url: partUrl(uploadUrl, 'complete'),
    expect: 'any',
    json: { parts: sent },
    auth: false,
    policy,
    ...common,
  });
  return { url: fileUrl, size: total, contentType };
}
