import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import { ApiError, MediaError } from '../errors/index.js';
import { type HttpContext, httpCall } from './http.js';
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
  /** The bytes in [start, end) as a web stream, read lazily. */
  stream(start: number, end: number): ReadableStream<Uint8Array>;
  /** The bytes in [start, end) in memory (one part at a time). */
  bytes(start: number, end: number): Promise<Uint8Array>;
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
      stream: (start, end) =>
        end <= start
          ? new ReadableStream({ start: (c) => c.close() })
          : (Readable.toWeb(
              createReadStream(source, { start, end: end - 1 }),
            ) as ReadableStream<Uint8Array>),
      bytes: async (start, end) => {
        const handle = await open(source, 'r');
        try {
          const buffer = Buffer.alloc(end - start);
          let offset = 0;
          while (offset < buffer.length) {
            const { bytesRead } = await handle.read(
              buffer,
              offset,
              buffer.length - offset,
              start + offset,
            );
            if (bytesRead === 0) break;
            offset += bytesRead;
          }
          return buffer.subarray(0, offset);
        } finally {
          await handle.close();
        }
      },
    };
  }
  if (source instanceof Uint8Array) {
    return {
      size: source.byteLength,
      stream: (start, end) => {
        const chunk = 1024 * 1024;
        let position = start;
        return new ReadableStream({
          pull(controller) {
            if (position >= end) {
              controller.close();
              return;
            }
            const next = Math.min(position + chunk, end);
            controller.enqueue(source.subarray(position, next));
            position = next;
          },
        });
      },
      bytes: async (start, end) => source.subarray(start, end),
    };
  }
  const blob = source;
  const name = (blob as Blob & { name?: unknown }).name;
  return {
    size: blob.size,
    ...(typeof name === 'string' && name ? { fileName: name } : {}),
    ...(blob.type ? { type: blob.type } : {}),
    stream: (start, end) => blob.slice(start, end).stream() as ReadableStream<Uint8Array>,
    bytes: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
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
  return { uploadUrl, fileUrl };
}

/** Parts follow fal-js: `<origin><pathname>/<n><search>`, then `…/complete<search>`. */
function partUrl(uploadUrl: string, suffix: string): string {
  const url = new URL(uploadUrl);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/${suffix}${url.search}`;
}

/**
 * Uploads to fal storage (§9): initiate + one PUT streamed from disk, or above the
 * threshold the multipart protocol with sequential parts, each retried. Neither path
 * holds the whole file in memory. Pre-signed URLs never get the Authorization header.
 */
export async function uploadFile(
  ctx: HttpContext,
  restUrl: string,
  policy: RetryPolicy,
  source: string | Uint8Array | Blob,
  options: UploadOptions = {},
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
  const common = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
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

  if (!multipart) {
    let sent = 0;
    await httpCall(ctx, {
      operation: 'upload',
      method: 'PUT',
      url: uploadUrl,
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

  const parts: { partNumber: number; etag: string }[] = [];
  let sent = 0;
  for (let start = 0, partNumber = 1; start < total; start += partSize, partNumber++) {
    const end = Math.min(start + partSize, total);
    const bytes = await file.bytes(start, end);
    const response = await httpCall(ctx, {
      operation: 'upload',
      method: 'PUT',
      url: partUrl(uploadUrl, String(partNumber)),
      headers: { 'content-type': 'application/octet-stream' },
      rawBody: () => bytes,
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
    parts.push({ partNumber, etag });
    sent += bytes.byteLength;
    options.onProgress?.(sent, total);
  }
  await httpCall(ctx, {
    operation: 'upload',
    method: 'POST',
    url: partUrl(uploadUrl, 'complete'),
    json: { parts },
    auth: false,
    policy,
    ...common,
  });
  return { url: fileUrl, size: total, contentType };
}
