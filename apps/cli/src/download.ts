import { createWriteStream } from 'node:fs';
import { link, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OutputFile } from '@falai/core';
import { FalaiError, InputError, NetworkError } from '@falai/core';
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
  /**
   * The file name (no folder) of output `index` of `count`, whose extension is `ext`
   * (see output-names.ts); default `<request-id>-<index>.<ext>`.
   */
  readonly fileName?: (index: number, count: number, ext: string) => string;
  /** What earlier downloads of this request saved (the store record's `outputs`). */
  readonly previous?: readonly OutputFile[];
  /** Called for each file that was already downloaded and is left as it is. */
  readonly onKept?: (file: OutputFile) => void;
}

/**
 * Saves every output of a result as `<out>/<request-id>-<index>.<ext>` (or `fileName`).
 * Refuses to replace an existing file unless `force` (OUTPUT_EXISTS, checked for all files
 * before any byte is written), except one that already holds that output (`alreadySaved`),
 * which is kept and reported to `onKept`. Streams each file to a temporary name, checks its
 * size against Content-Length and the result's `file_size`, then moves it into place.
 */
export async function downloadOutputs(options: DownloadOptions): Promise<OutputFile[]> {
  const refs = findOutputFiles(options.result);
  if (refs.length === 0) return [];
  const outDir = resolve(options.outDir);
  const planned = refs.map((ref, index) => {
    const ext = extensionFor(ref);
    const name =
      options.fileName?.(index, refs.length, ext) ?? `${options.requestId}-${index}.${ext}`;
    return {
      ref,
      path: join(outDir, sanitiseFileName(name)),
      kept: undefined as OutputFile | undefined,
    };
  });
  if (new Set(planned.map(({ path }) => path)).size < planned.length) {
    throw new InputError(
      `The ${planned.length} outputs would get the same file name (${planned[0]?.path}); put {index} in --name.`,
      [{ path: ['name'], message: 'outputs share one file name', kind: 'output-name' }],
    );
  }
  if (!options.force) {
    for (const item of planned) {
      if (!(await exists(item.path))) continue;
      item.kept = await alreadySaved(item.ref, item.path, options.previous ?? []);
      if (!item.kept) {
        throw new FalaiError(
          'OUTPUT_EXISTS',
          `${item.path} already exists and does not hold this output as falai saved it; pass --force to overwrite it or --out <folder> to save elsewhere.`,
          { details: { path: item.path } },
        );
      }
    }
  }
  await mkdir(outDir, { recursive: true });
  const limit = pLimit(options.concurrency ?? 4);
  return Promise.all(
    planned.map(({ ref, path, kept }) => {
      if (kept) {
        options.onKept?.(kept);
        return kept;
      }
      return limit(() => saveOne(ref, path, options));
    }),
  );
}

/**
 * The file at `path` when it already holds this output, so a second download has nothing to
 * write: for a data URI, the same bytes; for a URL, what an earlier download recorded (same
 * URL and path) with the size on disk unchanged (fal's output URLs never change content).
 */
async function alreadySaved(
  ref: OutputRef,
  path: string,
  previous: readonly OutputFile[],
): Promise<OutputFile | undefined> {
  const onDisk = await stat(path).catch(() => undefined);
  if (!onDisk?.isFile()) return undefined;
  if (ref.url.startsWith('data:')) {
    const bytes = dataUriBytes(ref.url);
    if (bytes.length !== onDisk.size || !bytes.equals(await readFile(path))) return undefined;
    const mime = ref.contentType ?? (/^data:([^;,]+)/.exec(ref.url)?.[1] || undefined);
    return { url: 'data:', path, size: bytes.length, ...(mime ? { mime } : {}) };
  }
  const earlier = previous.find((file) => file.url === ref.url && resolve(file.path) === path);
  if (!earlier || earlier.size !== onDisk.size) return undefined;
  if (ref.fileSize !== undefined && ref.fileSize !== onDisk.size) return undefined;
  return { ...earlier, path };
}

function dataUriBytes(url: string): Buffer {
  const comma = url.indexOf(',');
  const header = url.slice(5, comma);
  const body = url.slice(comma + 1);
  return header.endsWith(';base64')
    ? Buffer.from(body, 'base64')
    : Buffer.from(decodeURIComponent(body));
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
