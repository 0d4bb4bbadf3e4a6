import { stat } from 'node:fs/promises';
import { downloadLimits, type FalaiSettings } from '../config/settings.js';
import { AbortedError, FalaiError } from '../errors/falai-error.js';
import { buildProvenance, recordProvenanceOf } from '../provenance/build.js';
import { embedProvenance } from '../provenance/file.js';
import { type DownloadOutputsOptions, downloadOutputs } from '../queue/download.js';
import type { Redactor } from '../redact/redactor.js';
import { OMITTED_KEY, omittedDataUris } from '../store/output-summary.js';
import type { OutputFile, RecordProvenance } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import type { Deadline } from './wait.js';

/**
 * What a save reads from the settings: the download limits, and the redactor that keeps keys
 * out of the provenance written into the files (default: the process environment's keys).
 */
export type SaveSettings = Pick<FalaiSettings, 'downloadIdleTimeoutMs' | 'downloadMaxBytes'> &
  Partial<Pick<FalaiSettings, 'redactor'>>;

/** Options of {@link saveOutputs}. */
export interface SaveOutputsOptions
  extends Pick<
    DownloadOutputsOptions,
    'fileName' | 'force' | 'previous' | 'onKept' | 'fetch' | 'concurrency'
  > {
  /**
   * The settings whose download limits apply (`FALAI_DOWNLOAD_IDLE_TIMEOUT`,
   * `FALAI_DOWNLOAD_MAX_BYTES`; unset ones keep core's defaults). Required, so no path that
   * saves outputs can leave them out.
   */
  readonly settings: SaveSettings;
  readonly store: PendingStore;
  readonly requestId: string;
  /** The output (or a stored summary of it) whose files to save. */
  readonly result: unknown;
  /** Output folder; created when missing. */
  readonly outDir: string;
  /** Record the saved files on the request's store record. @default true */
  readonly record?: boolean;
  /** Stops the transfers (ABORTED); partial files are removed. */
  readonly signal?: AbortSignal | undefined;
  /** The job's bound: running out is a TIMEOUT that says how to save the files later. */
  readonly deadline?: Deadline | undefined;
}

/**
 * Saves a completed request's output files (core's `downloadOutputs`: names from the bytes,
 * the settings' idle timeout and size cap, no partial files) and records their paths on the store record,
 * next to the request id, endpoint, input summary and timings it already holds (provenance).
 * A deadline that runs out is `TIMEOUT`, a disk that cannot take the files is
 * `OUTPUT_WRITE_FAILED` naming the path; both say `falai download <id>` resumes, since the
 * request completed and is recorded.
 */
export async function saveOutputs(options: SaveOutputsOptions): Promise<OutputFile[]> {
  const { deadline, store, requestId, outDir } = options;
  const signals = [options.signal, deadline?.signal].filter(
    (signal): signal is AbortSignal => signal !== undefined,
  );
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  // Files an earlier save already wrote (and wrote provenance into) are left untouched.
  const kept = new Set<string>();
  const outputs = await downloadOutputs({
    requestId,
    result: options.result,
    outDir,
    force: options.force ?? false,
    ...(options.fileName ? { fileName: options.fileName } : {}),
    ...(options.previous ? { previous: options.previous } : {}),
    onKept: (file) => {
      kept.add(file.path);
      options.onKept?.(file);
    },
    fetch: options.fetch,
    ...downloadLimits(options.settings),
    concurrency: options.concurrency,
    signal,
  }).catch((error: unknown) => {
    throw saveError(error, requestId, outDir, deadline);
  });
  // A stored result names the files its inline outputs were written to: they are saved.
  const inline = inlineFilesIn(options.result, options.previous ?? []).filter(
    (file) => !outputs.some((saved) => saved.path === file.path),
  );
  for (const file of inline) options.onKept?.(file);
  outputs.unshift(...inline);
  if (outputs.length === 0) return outputs;
  const provenance = await embedOutputProvenance(
    store,
    requestId,
    options.result,
    outputs,
    kept,
    options.settings.redactor,
  );
  const saved = await withSizesOnDisk(outputs);
  if (options.record !== false) {
    await store.update(requestId, { outputs: saved, ...(provenance ? { provenance } : {}) });
  }
  return saved;
}

/**
 * Writes each saved file's provenance into it (PNG text, XMP in JPEG/WebP/MP4; other formats
 * are left as they are) from the request's store record, and returns what the record keeps
 * of it (seed, cost, parents, falai version). A request the store does not hold gets none.
 * A file that cannot be rewritten is `OUTPUT_WRITE_FAILED` (from `embedProvenance`).
 */
async function embedOutputProvenance(
  store: PendingStore,
  requestId: string,
  result: unknown,
  outputs: readonly OutputFile[],
  alreadySaved: ReadonlySet<string>,
  redactor: Redactor | undefined,
): Promise<RecordProvenance | undefined> {
  const record = await store.get(requestId);
  if (!record) return undefined;
  let kept: RecordProvenance | undefined;
  for (const [index, file] of outputs.entries()) {
    const provenance = buildProvenance({
      record,
      result,
      output: { index, url: file.url },
      ...(redactor ? { redactor } : {}),
    });
    kept ??= recordProvenanceOf(provenance);
    if (!alreadySaved.has(file.path)) await embedProvenance(file.path, provenance);
  }
  return kept;
}

/**
 * The files as they are on disk after their provenance was written: `size` is the size on
 * disk, and `fetchedSize` keeps what fal served when the two differ (a later download of
 * the same output recognises the file by it).
 */
async function withSizesOnDisk(outputs: readonly OutputFile[]): Promise<OutputFile[]> {
  return Promise.all(
    outputs.map(async (file) => {
      const onDisk = await stat(file.path).catch(() => undefined);
      if (!onDisk?.isFile() || onDisk.size === file.size) return file;
      const fetchedSize = file.fetchedSize ?? file.size;
      return {
        ...file,
        size: onDisk.size,
        ...(fetchedSize === undefined ? {} : { fetchedSize }),
      };
    }),
  );
}

/**
 * True when a stored result can stand in for fal's to save the files: every data-URI output
 * it kept as a digest names a file that is still there (the webhook receiver writes them),
 * and it is not the marker of an output too large to keep. Otherwise downloading fetches the
 * result from fal again.
 */
export async function storedResultHasFiles(result: unknown): Promise<boolean> {
  if (result === undefined) return false;
  if (
    typeof result === 'object' &&
    result !== null &&
    (result as Record<string, unknown>)[OMITTED_KEY] === 'value'
  ) {
    return false;
  }
  for (const marker of omittedDataUris(result)) {
    if (marker.path === undefined) return false;
    const onDisk = await stat(marker.path).catch(() => undefined);
    if (!onDisk?.isFile() || onDisk.size !== marker.size) return false;
  }
  return true;
}

/**
 * The files a stored result already names for its inline outputs (the webhook receiver's),
 * as the record's earlier `outputs` describe them when they do (their type is the one sniffed
 * from the bytes; the stored result keeps the declared one).
 */
function inlineFilesIn(result: unknown, previous: readonly OutputFile[]): OutputFile[] {
  return omittedDataUris(result).flatMap((marker) => {
    if (marker.path === undefined) return [];
    const earlier = previous.find((file) => file.url === 'data:' && file.path === marker.path);
    return [earlier ?? { url: 'data:', path: marker.path, size: marker.size, mime: marker.mime }];
  });
}

/** File-system errors that mean the outputs cannot be written where they were to go. */
const WRITE_FAILURES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is too large for this file system',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'the path is a folder',
  EIO: 'an input/output error',
};

/**
 * What a failed save becomes: the deadline passing is a `TIMEOUT`, a disk that cannot take
 * the files is `OUTPUT_WRITE_FAILED` naming the path; both say `falai download <id>` resumes.
 * Anything else is left as it is.
 */
function saveError(
  error: unknown,
  requestId: string,
  outDir: string,
  deadline: Deadline | undefined,
): unknown {
  if (FalaiError.isInstance(error) && error.code === 'OUTPUT_EXISTS') return error;
  if (deadline?.signal.aborted) {
    return new AbortedError(
      'TIMEOUT',
      `Stopped saving the outputs of ${requestId} after ${deadline.label} (it covers the whole job). The request completed; save its files with: falai download ${requestId}`,
      { cause: error, details: { requestId } },
    );
  }
  const failure = errnoIn(error);
  if (!failure) return error;
  const path = (failure.path ?? outDir).replace(/\.\d+\.[0-9a-f]+\.part$|\.\d+\.part$/, '');
  const why = WRITE_FAILURES[failure.code] ?? failure.code;
  const fix = ['ENOSPC', 'EDQUOT', 'EFBIG'].includes(failure.code)
    ? 'Free some space or choose another folder with --out'
    : 'Choose a folder you can write to with --out (or fix this one)';
  return new FalaiError(
    'OUTPUT_WRITE_FAILED',
    `Could not save the outputs of ${requestId} to ${path}: ${why} (${failure.code}). ${fix}, then resume with: falai download ${requestId}`,
    { cause: error, details: { requestId, path, errno: failure.code } },
  );
}

/** The first file-system error of WRITE_FAILURES in an error or its causes. */
function errnoIn(error: unknown): { code: string; path?: string } | undefined {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    const { code, path } = current as { code?: unknown; path?: unknown };
    if (typeof code === 'string' && code in WRITE_FAILURES) {
      return typeof path === 'string' ? { code, path } : { code };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
