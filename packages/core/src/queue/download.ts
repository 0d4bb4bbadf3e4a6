import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { AbortedError, FalaiError, InputError, MediaError, NetworkError } from '../errors/index.js';
import { decodeDataUri } from '../store/output-summary.js';
import type { OutputFile } from '../store/record.js';
import { formatBytes } from './byte-size.js';
import { isValidRequestId, quoteUntrusted } from './request-id.js';

/** A file a model produced, as found in its result. Every field is fal's (untrusted) text. */
export interface OutputRef {
  readonly url: string;
  readonly contentType?: string;
  readonly fileName?: string;
  readonly fileSize?: number;
}

/** Largest output file saved unless the caller raises it. @default 4 GiB */
export const DEFAULT_DOWNLOAD_MAX_BYTES = 4 * 1024 ** 3;
/** A download fails when no byte arrives for this long. @default 60 s */
export const DEFAULT_DOWNLOAD_IDLE_TIMEOUT_MS = 60_000;

/**
 * Every output file in a result, in document order: `images[].url`, `video.url`, and any
 * other `{url, content_type|file_name|file_size}` object whose url is http(s) or `data:`.
 * Plain URL strings that are not inside such an object are ignored (a prompt may echo URLs
 * the user sent).
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
    if (typeof url === 'string' && /^(https?:|data:)/i.test(url) && fileish) {
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
  'text/plain': 'txt',
};

/**
 * The extension an output is expected to get, from its declared type (a fixed list, so fal's
 * text never reaches a file name), else `bin`. Only a forecast: the saved file's extension
 * comes from its bytes ({@link downloadOutputs}); `file_name` and the URL path are never used.
 */
export function extensionFor(ref: { url: string; contentType?: string }): string {
  const mime =
    ref.contentType?.split(';')[0]?.trim().toLowerCase() ??
    (ref.url.startsWith('data:') ? /^data:([^;,]+)/.exec(ref.url)?.[1]?.toLowerCase() : undefined);
  return (mime && MIME_EXT[mime]) || 'bin';
}

/** Keeps file names to `[A-Za-z0-9._-]`, never a path separator or a leading dot. */
export function sanitiseFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 200) || 'output';
}

/** Options of {@link downloadOutputs}. */
export interface DownloadOutputsOptions {
  /** The request the result belongs to; names the files (checked like fal's ids). */
  readonly requestId: string;
  readonly result: unknown;
  /** Output folder; created when missing. */
  readonly outDir: string;
  /** Replace existing files. @default false */
  readonly force?: boolean;
  /** @default 4 */
  readonly concurrency?: number | undefined;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch | undefined;
  /**
   * Stops every transfer: partial files are removed and the call rejects with ABORTED, or
   * TIMEOUT when the reason is a `TimeoutError` (e.g. `AbortSignal.timeout(ms)` for a
   * command-wide `--timeout`).
   */
  readonly signal?: AbortSignal | undefined;
  /** A transfer fails when no byte arrives for this long (no total limit). @default 60000 */
  readonly idleTimeoutMs?: number;
  /** Largest file saved; a bigger one fails before or while it is read. @default 4 GiB */
  readonly maxBytes?: number;
  /** How the user raises `maxBytes` (a flag or setting name), for the error message. */
  readonly maxBytesHint?: string;
  /**
   * The file name (no folder) of output `index` of `count`, whose bytes are of type `ext`;
   * default `<request-id>-<index>.<ext>`. Called again once the bytes are known.
   */
  readonly fileName?: (index: number, count: number, ext: string) => string;
  /** What earlier downloads of this request saved (the store record's `outputs`). */
  readonly previous?: readonly OutputFile[];
  /** Called for each file that was already downloaded and is left as it is. */
  readonly onKept?: (file: OutputFile) => void;
}

interface Plan {
  readonly ref: OutputRef;
  readonly index: number;
  readonly count: number;
  /** The decoded bytes of a `data:` output. */
  bytes?: Buffer;
  /** The expected extension: sniffed for data, the declared type's for URLs. */
  ext: string;
  kept?: OutputFile | undefined;
}

/**
 * Saves every output of a result in `outDir` as `<request-id>-<index>.<ext>` (or `fileName`),
 * the extension taken from the bytes (sniffed), never from a name fal sent; names are reduced
 * to `[A-Za-z0-9._-]`, so nothing fal sends can leave `outDir`. `data:` outputs are decoded to
 * files. Refuses to replace an existing file unless `force` (OUTPUT_EXISTS, checked before any
 * byte is written), except one an earlier download saved (`previous`), which is kept and
 * reported to `onKept`. Each file is streamed to a temporary `.part` file with an idle timeout
 * and a size cap, checked against Content-Length and the result's `file_size`, then moved into
 * place; `.part` files are removed on every exit (error, abort, cap, stall). When one file
 * fails the others are stopped. File-system errors (disk full, permissions) are rethrown as
 * they are, with their `code` and `path`.
 */
export async function downloadOutputs(options: DownloadOutputsOptions): Promise<OutputFile[]> {
  if (!isValidRequestId(options.requestId))
    throw new InputError(
      `Invalid request id ${quoteUntrusted(String(options.requestId))}: outputs are named after fal's request ids (letters, digits, "-" and "_").`,
      [{ path: ['requestId'], message: 'invalid request id', kind: 'request-id' }],
    );
  const refs = findOutputFiles(options.result);
  if (refs.length === 0) return [];
  if (options.signal?.aborted) throw stopped(options, options.signal.reason);
  const outDir = resolve(options.outDir);
  const count = refs.length;
  const pathFor = (index: number, ext: string) =>
    join(
      outDir,
      sanitiseFileName(
        options.fileName?.(index, count, ext) ?? `${options.requestId}-${index}.${ext}`,
      ),
    );
  const max = options.maxBytes ?? DEFAULT_DOWNLOAD_MAX_BYTES;
  const plans: Plan[] = refs.map((ref, index) => ({ ref, index, count, ext: extensionFor(ref) }));
  for (const plan of plans) {
    if (!plan.ref.url.startsWith('data:')) continue;
    plan.bytes = decodeDataUrl(plan.ref.url, plan, options);
    if (plan.bytes.length > max) throw tooLarge(plan, options, max, plan.bytes.length, 'inline');
    plan.ext = await sniffedExtension(plan.bytes);
  }
  const forecast = plans.map((plan) => pathFor(plan.index, plan.ext));
  if (new Set(forecast).size < forecast.length) {
    throw new InputError(
      `The ${forecast.length} outputs would get the same file name (${forecast[0]}); put {index} in --name.`,
      [{ path: ['name'], message: 'outputs share one file name', kind: 'output-name' }],
    );
  }
  if (!options.force) {
    for (const plan of plans) {
      plan.kept = await keptFromBefore(plan, options.previous ?? [], pathFor);
      if (plan.kept) continue;
      const path = forecast[plan.index] as string;
      if (plan.bytes && (await holds(path, plan.bytes))) {
        const mime = (await sniff(plan.bytes)).mime;
        plan.kept = { url: 'data:', path, size: plan.bytes.length, mime };
        continue;
      }
      if (await exists(path))
        throw new FalaiError(
          'OUTPUT_EXISTS',
          `${path} already exists and does not hold this output as falai saved it; pass --force to overwrite it or --out <folder> to save elsewhere.`,
          { details: { path } },
        );
    }
  }
  await mkdir(outDir, { recursive: true });

  // One controller stops every transfer: the caller's signal, or the first file that fails.
  const all = new AbortController();
  const onAbort = () => all.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const limit = pLimit(options.concurrency ?? 4);
  let firstError: unknown;
  try {
    const settled = await Promise.allSettled(
      plans.map((plan) => {
        if (plan.kept) {
          options.onKept?.(plan.kept);
          return plan.kept;
        }
        return limit(async () => {
          if (all.signal.aborted) throw all.signal.reason;
          try {
            return await saveOne(plan, outDir, pathFor, options, all.signal);
          } catch (error) {
            firstError ??= error;
            all.abort(error);
            throw error;
          }
        });
      }),
    );
    if (options.signal?.aborted) throw stopped(options, options.signal.reason);
    if (firstError !== undefined) throw firstError;
    return settled.map((item) => (item as PromiseFulfilledResult<OutputFile>).value);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** An earlier download's file that still holds this output (same URL, same size on disk). */
async function keptFromBefore(
  plan: Plan,
  previous: readonly OutputFile[],
  pathFor: (index: number, ext: string) => string,
): Promise<OutputFile | undefined> {
  const url = plan.ref.url.startsWith('data:') ? undefined : plan.ref.url;
  for (const earlier of previous) {
    if (url === undefined || earlier.url !== url) continue;
    const ext = /\.([A-Za-z0-9]{1,8})$/.exec(earlier.path)?.[1] ?? 'bin';
    if (resolve(earlier.path) !== pathFor(plan.index, ext)) continue;
    const onDisk = await stat(earlier.path).catch(() => undefined);
    if (!onDisk?.isFile() || onDisk.size !== earlier.size) continue;
    // fal's file_size is what it served; provenance written into the file may have grown it.
    const served = earlier.fetchedSize ?? onDisk.size;
    if (plan.ref.fileSize !== undefined && plan.ref.fileSize !== served) continue;
    return { ...earlier, path: resolve(earlier.path) };
  }
  return undefined;
}

function describeRef(ref: OutputRef, index: number): string {
  if (ref.url.startsWith('data:')) return `output ${index} (inline data)`;
  try {
    const url = new URL(ref.url);
    return `output ${index} (${quoteUntrusted(`${url.origin}${url.pathname}`, 120)})`;
  } catch {
    return `output ${index}`;
  }
}

/** The caller's signal fired: TIMEOUT for a timeout reason, else ABORTED. */
function stopped(options: DownloadOutputsOptions, reason: unknown): AbortedError {
  const timedOut =
    (reason instanceof Error || reason instanceof DOMException) && reason.name === 'TimeoutError';
  return new AbortedError(
    timedOut ? 'TIMEOUT' : 'ABORTED',
    `Saving the outputs of ${options.requestId} ${timedOut ? 'ran out of time' : 'was stopped'}; partial files were removed. Run falai download ${options.requestId} to save them.`,
    { details: { requestId: options.requestId } },
  );
}

/** Raised inside a transfer; turned into the right FalaiError by {@link saveOne}. */
class TooLarge extends Error {
  constructor(
    readonly size: number,
    readonly how: 'announced' | 'received' | 'inline',
  ) {
    super('too large');
  }
}

function tooLarge(
  plan: Plan,
  options: DownloadOutputsOptions,
  max: number,
  size: number,
  how: TooLarge['how'],
): MediaError {
  const seen =
    how === 'announced'
      ? `${formatBytes(size)} announced`
      : how === 'inline'
        ? formatBytes(size)
        : `more than ${formatBytes(max)} received`;
  return new MediaError(
    `${describeRef(plan.ref, plan.index)} of ${options.requestId} is larger than the download size cap of ${formatBytes(max)} (${seen}); nothing was kept. Raise the cap with ${options.maxBytesHint ?? 'the maxBytes download option'} to save it.`,
    { details: { requestId: options.requestId, index: plan.index, maxBytes: max, size } },
  );
}

async function saveOne(
  plan: Plan,
  outDir: string,
  pathFor: (index: number, ext: string) => string,
  options: DownloadOutputsOptions,
  stop: AbortSignal,
): Promise<OutputFile> {
  const { ref } = plan;
  const max = options.maxBytes ?? DEFAULT_DOWNLOAD_MAX_BYTES;
  const temp = join(
    outDir,
    `.${sanitiseFileName(options.requestId)}-${plan.index}.${process.pid}.${randomBytes(4).toString('hex')}.part`,
  );
  try {
    let size: number;
    if (ref.url.startsWith('data:')) {
      const bytes = plan.bytes ?? decodeDataUrl(ref.url, plan, options);
      await pipeline(Readable.from([bytes]), createWriteStream(temp, { mode: 0o644 }), {
        signal: stop,
      });
      size = bytes.length;
    } else {
      size = await fetchToFile(plan, temp, options, stop, max);
    }
    if (ref.fileSize !== undefined && ref.fileSize !== size) {
      throw new NetworkError(
        `Downloaded ${size} bytes of ${describeRef(ref, plan.index)} but the result says file_size ${ref.fileSize}; run falai download ${options.requestId} --force to try again.`,
        { details: { requestId: options.requestId, index: plan.index, size } },
      );
    }
    const sniffed = await sniff(temp);
    const path = pathFor(plan.index, safeExtension(sniffed.ext));
    if (options.force) {
      await rename(temp, path);
    } else {
      try {
        await link(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          if (await sameBytes(temp, path)) {
            const kept: OutputFile = { url: outputUrl(ref), path, size, mime: sniffed.mime };
            options.onKept?.(kept);
            return kept;
          }
          throw new FalaiError(
            'OUTPUT_EXISTS',
            `${path} already exists and holds other bytes; pass --force to overwrite it or --out <folder> to save elsewhere.`,
            { details: { path } },
          );
        }
        throw error;
      }
    }
    return { url: outputUrl(ref), path, size, mime: sniffed.mime };
  } catch (error) {
    if (options.signal?.aborted) throw stopped(options, options.signal.reason);
    if (error instanceof TooLarge) throw tooLarge(plan, options, max, error.size, error.how);
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

async function sniff(source: string | Uint8Array): Promise<{ mime: string; ext: string }> {
  const { sniffFile } = await import('../media/sniff.js');
  return sniffFile(source);
}

/** An extension from file-type's answer, reduced to what a file name may hold. */
function safeExtension(ext: string): string {
  return (
    ext
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 8)
      .toLowerCase() || 'bin'
  );
}

async function sniffedExtension(bytes: Uint8Array): Promise<string> {
  return safeExtension((await sniff(bytes)).ext);
}

/** True when the file at `path` holds exactly `bytes`. */
async function holds(path: string, bytes: Buffer): Promise<boolean> {
  const onDisk = await stat(path).catch(() => undefined);
  if (!onDisk?.isFile() || onDisk.size !== bytes.length) return false;
  const { readFile } = await import('node:fs/promises');
  return bytes.equals(await readFile(path));
}

/** What a record keeps of an output's URL: never the bytes of a data URI. */
function outputUrl(ref: OutputRef): string {
  return ref.url.startsWith('data:') ? 'data:' : ref.url;
}

/**
 * The bytes of a `data:` output, decoded by the one data-URI decoder (`decodeDataUri`, which
 * the webhook receiver's inline outputs use too). A URI without a comma has no data part.
 */
function decodeDataUrl(url: string, plan: Plan, options: DownloadOutputsOptions): Buffer {
  if (!url.includes(','))
    throw new MediaError(
      `${describeRef(plan.ref, plan.index)} of ${options.requestId} is a data URI without a comma; it cannot be decoded.`,
    );
  return Buffer.concat([...decodeDataUri(url).chunks]);
}

/**
 * Streams one URL into `temp`: an idle timer covers connecting, the headers and every gap
 * between chunks; the size cap is checked against Content-Length first and against the bytes
 * as they arrive. No credentials are sent (fal's CDN URLs are public).
 */
async function fetchToFile(
  plan: Plan,
  temp: string,
  options: DownloadOutputsOptions,
  stop: AbortSignal,
  max: number,
): Promise<number> {
  const what = describeRef(plan.ref, plan.index);
  const idleMs = options.idleTimeoutMs ?? DEFAULT_DOWNLOAD_IDLE_TIMEOUT_MS;
  const controller = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort(new Error('stalled'));
    }, idleMs);
  };
  const onStop = () => controller.abort(stop.reason);
  if (stop.aborted) throw stop.reason;
  stop.addEventListener('abort', onStop, { once: true });
  const failed = (error: unknown): never => {
    if (error instanceof TooLarge || FalaiError.isInstance(error)) throw error;
    if (stalled)
      throw new NetworkError(
        `Downloading ${what} of ${options.requestId} stalled: no data for ${idleMs} ms. The partial file was removed; run falai download ${options.requestId} to try again.`,
        { details: { code: 'STALLED', idleTimeoutMs: idleMs, requestId: options.requestId } },
      );
    if (stop.aborted) throw stop.reason;
    if (isFileSystemError(error)) throw error;
    throw new NetworkError(
      `Could not download ${what} of ${options.requestId}: ${(error as Error).message}. Check your connection and run falai download ${options.requestId} again.`,
      { cause: error },
    );
  };
  try {
    arm();
    let response: Response;
    try {
      response = await (options.fetch ?? globalThis.fetch)(plan.ref.url, {
        signal: controller.signal,
        redirect: 'follow',
      });
    } catch (error) {
      return failed(error);
    }
    arm();
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => {});
      throw new NetworkError(
        `Downloading ${what} of ${options.requestId} failed with HTTP ${response.status}; the file may have expired on fal's CDN.`,
        { details: { status: response.status, requestId: options.requestId } },
      );
    }
    const announced = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(announced) && announced > max) {
      await response.body.cancel().catch(() => {});
      throw new TooLarge(announced, 'announced');
    }
    let count = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        arm();
        count += chunk.length;
        if (count > max) {
          callback(new TooLarge(count, 'received'));
          return;
        }
        callback(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
        counter,
        createWriteStream(temp, { mode: 0o644 }),
        { signal: controller.signal },
      );
    } catch (error) {
      return failed(error);
    }
    if (Number.isFinite(announced) && announced !== count) {
      throw new NetworkError(
        `Downloaded ${count} of ${announced} bytes of ${what}; the connection broke. Run falai download ${options.requestId} again.`,
        { details: { requestId: options.requestId, size: count, announced } },
      );
    }
    return count;
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', onStop);
  }
}

function isFileSystemError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    typeof code === 'string' &&
    typeof (error as NodeJS.ErrnoException).syscall === 'string' &&
    !code.startsWith('UND_ERR') &&
    !['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)
  );
}

/** True when two files hold the same bytes. */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b).catch(() => undefined)]);
  if (!sb?.isFile() || sa.size !== sb.size) return false;
  const ra = createReadStream(a, { highWaterMark: 1 << 20 });
  const rb = createReadStream(b, { highWaterMark: 1 << 20 });
  const ia = ra[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const ib = rb[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let bufA: Buffer = Buffer.alloc(0);
  let bufB: Buffer = Buffer.alloc(0);
  try {
    for (;;) {
      if (bufA.length === 0) {
        const next = await ia.next();
        if (!next.done) bufA = next.value;
      }
      if (bufB.length === 0) {
        const next = await ib.next();
        if (!next.done) bufB = next.value;
      }
      if (bufA.length === 0 || bufB.length === 0) return bufA.length === bufB.length;
      const n = Math.min(bufA.length, bufB.length);
      if (!bufA.subarray(0, n).equals(bufB.subarray(0, n))) return false;
      bufA = bufA.subarray(n);
      bufB = bufB.subarray(n);
    }
  } finally {
    ra.destroy();
    rb.destroy();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
