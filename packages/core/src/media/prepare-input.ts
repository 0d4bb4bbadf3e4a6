import { isAbsolute, resolve } from 'node:path';
import { ConfigError, MediaError } from '../errors/falai-error.js';
import { assertSafeInput } from '../json/unsafe-keys.js';
import { fieldLabel, isObject } from '../json/values.js';
import type { InputFile, InputSummary } from '../store/record.js';
import { formatBytes, sourceSize } from './bytes.js';
import { DEFAULT_DATA_URI_MAX_BYTES, DEFAULT_DATA_URI_WARN_BYTES, toDataUri } from './data-uri.js';
import { bytesDigest, fileDigest } from './digest.js';
import { classifyFileRef, dataUriSize, decodeDataUri } from './file-ref.js';
import { sniffFile } from './sniff.js';

/** Anything that can put a local file in fal storage; the queue client's `upload` fits. */
export interface FileUploader {
  upload(
    path: string,
    options?: {
      onProgress?: (sent: number, total: number) => void;
      signal?: AbortSignal | undefined;
    },
  ): Promise<{ url: string }>;
}

/** Puts bytes in fal storage; the queue client's `upload` fits. */
export type BytesUploader = (
  bytes: Uint8Array,
  options: {
    contentType: string;
    onProgress?: (sent: number, total: number) => void;
    signal?: AbortSignal | undefined;
  },
) => Promise<{ url: string }>;

/** Progress of one upload, named by the input field it is for. */
export interface PrepareProgress {
  readonly field: string;
  readonly path: string;
  readonly sent: number;
  readonly total: number;
}

/** A file-valued location of an input, as the model registry finds it. */
export interface InputFileRef {
  readonly path: readonly (string | number)[];
  readonly value: string;
  readonly media: string;
}

/**
 * What prepareInput needs of the model registry (a `ModelRegistry` fits): where an input's
 * files are, and a model's media size caps. Media sits below the models, so it names only these.
 */
export interface InputFileFinder {
  get(endpointId: string):
    | {
        readonly limits?:
          | {
              readonly video?: { readonly maxBytes?: number | undefined } | undefined;
              readonly image?: { readonly maxBytes?: number | undefined } | undefined;
            }
          | undefined;
      }
    | undefined;
  fileFields(endpointId: string, input: unknown): readonly InputFileRef[];
}

export interface PrepareInputOptions {
  readonly registry: InputFileFinder;
  readonly uploader?: FileUploader;
  /** `auto`: data URI up to `uploadThresholdBytes`, upload above; or force one way. */
  readonly mode?: 'auto' | 'data-uri' | 'upload';
  /** @default 8 MiB */
  readonly uploadThresholdBytes?: number;
  /** Where relative paths start. @default process.cwd() */
  readonly cwd?: string;
  readonly onProgress?: (progress: PrepareProgress) => void;
  readonly signal?: AbortSignal | undefined;
  /**
   * The bytes behind data URIs that came from a program's Buffers, Blobs or streams, by dotted
   * field path (`readBinaryInputs` in the lifecycle makes both). Such a file is uploaded (with
   * `uploadBytes`) instead of sent inline when it is over the threshold or `mode` is `upload`;
   * a data URI the user typed is always sent as it is.
   */
  readonly bytes?: ReadonlyMap<string, Uint8Array>;
  /** Uploads such bytes; without it they are always sent inline. */
  readonly uploadBytes?: BytesUploader;
}

export interface PreparedInput {
  /** The input to send: local paths replaced by data URIs or uploaded URLs. */
  readonly input: Record<string, unknown>;
  /** What to store: no payloads, files by path/URL and digest. */
  readonly summary: InputSummary;
  readonly warnings: string[];
}

/** Local files above this go to fal storage in `auto` mode. */
export const DEFAULT_UPLOAD_THRESHOLD_BYTES = 8 * 1024 * 1024;

/**
 * Copies own data only. `Object.fromEntries` defines properties, so even a key named
 * `__proto__` could not swap a prototype here (prepareInput refuses such keys first).
 * Integers beyond 2^53 (bigint) are copied as they are: digits are never rounded.
 */
function deepCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepCopy);
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepCopy(v)]));
  return value;
}

/** Writes at a path of own properties (paths come from the model's file fields). */
function setAt(target: unknown, path: readonly (string | number)[], value: unknown): void {
  let cur = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    if (!Object.hasOwn(cur, key)) return;
    cur = cur[key] as Record<string | number, unknown>;
  }
  cur[path[path.length - 1] as string | number] = value;
}

/** Every data-URI string anywhere in a value, so none reaches a stored record. */
function findDataUris(
  value: unknown,
  path: (string | number)[],
  out: { path: (string | number)[]; value: string }[],
) {
  if (typeof value === 'string') {
    if (/^data:/i.test(value)) out.push({ path, value });
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) findDataUris(v, [...path, i], out);
  } else if (isObject(value))
    for (const [k, v] of Object.entries(value)) findDataUris(v, [...path, k], out);
}

const dotted = (path: readonly (string | number)[]) => path.map(String).join('.');

/**
 * Makes an input ready to send. Local paths in file fields become data URIs (small files)
 * or fal storage uploads (large ones, or as forced by `mode`); URLs and data URIs pass
 * through. The summary keeps paths, URLs and digests, never file bytes or base64.
 */
export async function prepareInput(
  endpointId: string,
  input: Record<string, unknown>,
  options: PrepareInputOptions,
): Promise<PreparedInput> {
  // Library callers may pass JSON they parsed themselves: refuse __proto__ & co. first.
  assertSafeInput(input);
  const mode = options.mode ?? 'auto';
  const threshold = options.uploadThresholdBytes ?? DEFAULT_UPLOAD_THRESHOLD_BYTES;
  const cwd = options.cwd ?? process.cwd();
  const def = options.registry.get(endpointId);
  const warnings: string[] = [];
  const files: InputFile[] = [];
  const send = deepCopy(input) as Record<string, unknown>;
  const fields = deepCopy(input) as Record<string, unknown>;
  const done = new Map<string, { value: string; file: Omit<InputFile, 'field'> }>();
  const refs = options.registry.fileFields(endpointId, input);
  const handled = new Set<string>();

  for (const ref of refs) {
    const field = dotted(ref.path);
    handled.add(field);
    setAt(fields, ref.path, `<file ${field}>`);
    const classified = classifyFileRef(ref.value);
    if (classified.kind === 'url') {
      files.push({ field, kind: 'url', location: ref.value, sentAs: 'url' });
      continue;
    }
    if (classified.kind === 'data-uri') {
      const given = options.bytes?.get(field);
      const large =
        mode === 'upload' ||
        (mode === 'auto' && given !== undefined && given.byteLength > threshold);
      if (given && options.uploadBytes && large) {
        const uploaded = await options.uploadBytes(given, {
          contentType: classified.mime,
          onProgress: (sent, total) =>
            options.onProgress?.({ field, path: `<bytes ${field}>`, sent, total }),
          signal: options.signal,
        });
        setAt(send, ref.path, uploaded.url);
        files.push({
          field,
          kind: 'data-uri',
          digest: bytesDigest(given),
          size: given.byteLength,
          mime: classified.mime,
          sentAs: 'upload',
          uploadedUrl: uploaded.url,
        });
        continue;
      }
      const bytes = given ?? decodeDataUri(ref.value);
      files.push({
        field,
        kind: 'data-uri',
        digest: bytesDigest(bytes),
        size: bytes.byteLength,
        mime: classified.mime,
        sentAs: 'data-uri',
      });
      continue;
    }
    if (classified.kind === 'invalid') {
      throw new MediaError(
        `${fieldLabel(ref.path)}: ${JSON.stringify(ref.value.slice(0, 60))} is not a URL, data URI or path (${classified.problem}).`,
      );
    }
    const path = isAbsolute(classified.path) ? classified.path : resolve(cwd, classified.path);
    const cached = done.get(path);
    if (cached) {
      setAt(send, ref.path, cached.value);
      files.push({ field, ...cached.file });
      continue;
    }
    const size = await sourceSize(path);
    const media =
      ref.media === 'video'
        ? def?.limits?.video
        : ref.media === 'image'
          ? def?.limits?.image
          : undefined;
    const maxDataUri = Math.min(
      media?.maxBytes ?? DEFAULT_DATA_URI_MAX_BYTES,
      DEFAULT_DATA_URI_MAX_BYTES,
    );
    let useUpload = mode === 'upload' || (mode === 'auto' && size > threshold);
    if (useUpload && !options.uploader) {
      if (mode === 'upload') {
        throw new ConfigError(
          'Uploading local files needs a fal client (pass `uploader`), or use mode "data-uri".',
        );
      }
      if (size > maxDataUri) {
        throw new MediaError(
          `${fieldLabel(ref.path)}: ${classified.path} is ${formatBytes(size)}, too big for a data URI (max ${formatBytes(maxDataUri)}), and no uploader is available. Upload it with a fal client.`,
        );
      }
      warnings.push(
        `${fieldLabel(ref.path)}: ${classified.path} is ${formatBytes(size)}; sending it inline as a data URI because uploads are not available.`,
      );
      useUpload = false;
    }
    let value: string;
    let file: Omit<InputFile, 'field'>;
    if (useUpload && options.uploader) {
      const [digest, sniffed] = await Promise.all([fileDigest(path), sniffFile(path)]);
      const uploaded = await options.uploader.upload(path, {
        onProgress: (sent, total) =>
          options.onProgress?.({ field, path: classified.path, sent, total }),
        signal: options.signal,
      });
      value = uploaded.url;
      file = {
        kind: 'path',
        location: path,
        digest,
        size,
        mime: sniffed.mime,
        sentAs: 'upload',
        uploadedUrl: uploaded.url,
      };
    } else {
      const encoded = await toDataUri(path, {
        maxBytes: maxDataUri,
        warnBytes: DEFAULT_DATA_URI_WARN_BYTES,
        onWarning: (message) => warnings.push(message),
      });
      value = encoded.uri;
      file = {
        kind: 'path',
        location: path,
        digest: encoded.digest,
        size,
        mime: encoded.mime,
        sentAs: 'data-uri',
      };
    }
    done.set(path, { value, file });
    setAt(send, ref.path, value);
    files.push({ field, ...file });
  }

  // Data URIs outside known file fields (unknown models, odd fields) are never stored either.
  const stray: { path: (string | number)[]; value: string }[] = [];
  findDataUris(fields, [], stray);
  for (const item of stray) {
    const field = dotted(item.path);
    if (handled.has(field)) continue;
    const ref = classifyFileRef(item.value);
    setAt(fields, item.path, `<file ${field}>`);
    let digest: string | undefined;
    try {
      digest = bytesDigest(decodeDataUri(item.value));
    } catch {
      digest = undefined;
    }
    files.push({
      field,
      kind: 'data-uri',
      ...(digest ? { digest } : {}),
      size: dataUriSize(item.value),
      ...(ref.kind === 'data-uri' ? { mime: ref.mime } : {}),
      sentAs: 'data-uri',
    });
  }
  return { input: send, summary: { fields, files }, warnings };
}
