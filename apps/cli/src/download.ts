import { createWriteStream } from 'node:fs';
import { link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OutputFile } from '@falai/core';
import { FalaiError, NetworkError } from '@falai/core';
import pLimit from 'p-limit';

/** A file a model produced, as found in its result. */
export interface OutputRef {
  readonly url: string;
  readonly contentType?: string;
  readonly fileName?: string;
  readonly fileSize?: number;
}

/**
 * Every output file in a result, in document order: `images[].url`, `video.url`, and any
 * other `{url, content_type|file_name|file_size}` object. Plain URL strings that are not
 * inside such an object are ignored (a prompt may echo URLs the user sent).
 */
export function findOutputFiles(result: unknown): OutputRef[] {
  const found: OutputRef[] = [];
  const seen = new Set<string>();
  const visit = (node: unknown, parentKey: string | undefined): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, parentKey);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    const url = record.url;
    const fileish =
      typeof record.content_type === 'string' ||
      typeof record.file_name === 'string' ||
      typeof record.file_size === 'number' ||
      parentKey === 'images' ||
      parentKey === 'image' ||
      parentKey === 'video' ||
      parentKey === 'videos' ||
      parentKey === 'audio';
    if (typeof url === 'string' && /^(https?:|data:)/.test(url) && fileish) {
      if (!seen.has(url)) {
        seen.add(url);
        found.push({
          url,
          ...(typeof record.content_type === 'string' ? { contentType: record.content_type } : {}),
          ...(typeof record.file_name === 'string' ? { fileName: record.file_name } : {}),
          ...(typeof record.file_size === 'number' ? { fileSize: record.file_size } : {}),
        });
      }
      return;
    }
    for (const [key, value] of Object.entries(record)) visit(value, key);
  };
  visit(result, undefined);
  return found;
}

const MIME_EXT: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'application/json': 'json',
};

/** A safe file extension from a content type or URL path; `bin` when nothing fits. */
export function extensionFor(ref: {
  url: string;
  contentType?: string;
  fileName?: string;
}): string {
  const mime = ref.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mime && MIME_EXT[mime]) return MIME_EXT[mime]!;
  if (ref.url.startsWith('data:')) {
    const dataMime = /^data:([^;,]+)/.exec(ref.url)?.[1]?.toLowerCase();
    if (dataMime && MIME_EXT[dataMime]) return MIME_EXT[dataMime]!;
  }
  const candidates = [ref.fileName, safePathname(ref.url)];
  for (const name of candidates) {
    const ext = name ? /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toLowerCase() : undefined;
    if (ext) return ext === 'jpeg' ? 'jpg' : ext;
  }
  return 'bin';
}

function safePathname(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

/** Keeps file names to `[A-Za-z0-9._-]`, never a path separator or a leading dot. */
export function sanitiseFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 200) || 'output';
}

export interface DownloadOptions {
  readonly requestId: string;
  readonly result: unknown;
  /** Output folder; created when missing. */
  readonly outDir: string;
  readonly force?: boolean;
  /** @default 4 */
  readonly concurrency?: number;
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
}

/**
 * Saves every output of a result as `<out>/<request-id>-<index>.<ext>`. Refuses to replace
 * an existing file unless `force` (OUTPUT_EXISTS, checked for all files before any byte is
 * written), streams each file to a temporary name, checks its size against Content-Length
 * and the result's `file_size`, then moves it into place.
 */
export async function downloadOutputs(options: DownloadOptions): Promise<OutputFile[]> {
  const refs = findOutputFiles(options.result);
  if (refs.length === 0) return [];
  const outDir = resolve(options.outDir);
  const planned = refs.map((ref, index) => ({
    ref,
    path: join(outDir, sanitiseFileName(`${options.requestId}-${index}.${extensionFor(ref)}`)),
  }));
  if (!options.force) {
    for (const { path } of planned) {
      if (await exists(path)) {
        throw new FalaiError(
          'OUTPUT_EXISTS',
          `${path} already exists; pass --force to overwrite it or --out <folder> to save elsewhere.`,
          { details: { path } },
        );
      }
    }
  }
  await mkdir(outDir, { recursive: true });
  const limit = pLimit(options.concurrency ?? 4);
  return Promise.all(planned.map(({ ref, path }) => limit(() => saveOne(ref, path, options))));
}

async function saveOne(
  ref: OutputRef,
  path: string,
  options: DownloadOptions,
): Promise<OutputFile> {
  const temp = `${path}.${process.pid}.part`;
  let mime = ref.contentType;
  let size: number;
  try {
    if (ref.url.startsWith('data:')) {
      const comma = ref.url.indexOf(',');
      const header = ref.url.slice(5, comma);
      const body = ref.url.slice(comma + 1);
      const bytes = header.endsWith(';base64')
        ? Buffer.from(body, 'base64')
        : Buffer.from(decodeURIComponent(body));
      mime ??= header.split(';')[0] || undefined;
      await pipeline(Readable.from([bytes]), createWriteStream(temp, { mode: 0o644 }));
      size = bytes.length;
    } else {
      size = await fetchToFile(ref, temp, options, (type) => {
        mime ??= type;
      });
    }
    if (ref.fileSize !== undefined && ref.fileSize !== size) {
      throw new NetworkError(
        `Downloaded ${size} bytes of ${ref.url} but the result says file_size ${ref.fileSize}; run falai download ${options.requestId} --force to try again.`,
      );
    }
    if (options.force) {
      await rename(temp, path);
    } else {
      try {
        await link(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new FalaiError(
            'OUTPUT_EXISTS',
            `${path} appeared while downloading; pass --force to overwrite it.`,
            { details: { path } },
          );
        }
        throw error;
      }
      await rm(temp, { force: true });
    }
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return {
    url: ref.url.startsWith('data:') ? 'data:' : ref.url,
    path,
    size,
    ...(mime ? { mime } : {}),
  };
}

async function fetchToFile(
  ref: OutputRef,
  temp: string,
  options: DownloadOptions,
  onType: (type: string) => void,
): Promise<number> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(ref.url, options.signal ? { signal: options.signal } : {});
  } catch (error) {
    throw new NetworkError(
      `Could not download ${ref.url}: ${(error as Error).message}. Check your connection and run falai download again.`,
      { cause: error },
    );
  }
  if (!response.ok || !response.body) {
    throw new NetworkError(
      `Downloading ${ref.url} failed with HTTP ${response.status}; the file may have expired on fal's CDN.`,
    );
  }
  const type = response.headers.get('content-type')?.split(';')[0]?.trim();
  if (type) onType(type);
  const announced = Number(response.headers.get('content-length') ?? Number.NaN);
  let count = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      count += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(
    Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
    counter,
    createWriteStream(temp, { mode: 0o644 }),
  );
  if (Number.isFinite(announced) && announced !== count) {
    throw new NetworkError(
      `Downloaded ${count} of ${announced} bytes of ${ref.url}; the connection broke. Run falai download ${options.requestId} again.`,
    );
  }
  return count;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
