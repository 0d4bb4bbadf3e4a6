import { stat } from 'node:fs/promises';
import { InputError } from '../errors/falai-error.js';
import type { FileUploader } from '../media/prepare-input.js';
import type { ModelRegistry } from '../models/registry.js';
import type { OutputFile, ParentRef, PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { findRecord } from './target.js';

/**
 * A reference to an earlier output, the whole value of a URL-typed input field: `@last` (the
 * most recent completed request with saved outputs) or `@<request-id>` (a unique prefix of at
 * least 4 characters is enough), each optionally followed by `#<n>` for the n-th output
 * (1-based; default the first). Nothing else is a reference: a prompt starting with `@` stays
 * text, and so does any other value of a file field.
 */
export const OUTPUT_REFERENCE = /^@(last|[A-Za-z0-9][A-Za-z0-9_-]{3,199})(?:#([1-9][0-9]{0,3}))?$/;

/**
 * How long the validity probe of a fal URL may take before falai uploads the local copy.
 * @default 3000
 */
export const DEFAULT_REFERENCE_PROBE_TIMEOUT_MS = 3000;

/** Options of {@link resolveReferences}. */
export interface ResolveReferencesOptions {
  readonly endpointId: string;
  readonly input: Record<string, unknown>;
  /** Finds the URL-typed (file) fields of the input. */
  readonly registry: Pick<ModelRegistry, 'fileFields'>;
  readonly store: PendingStore;
  /** Uploads the local copy of an output whose fal URL no longer answers. */
  readonly uploader?: FileUploader;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default {@link DEFAULT_REFERENCE_PROBE_TIMEOUT_MS} */
  readonly probeTimeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
}

/** What {@link resolveReferences} made of an input. */
export interface ResolvedReferences {
  /** A copy of the input with each reference replaced by a URL (or the input itself). */
  readonly input: Record<string, unknown>;
  /** One lineage edge per reference: the request, its output (0-based) and the field. */
  readonly parents: ParentRef[];
  /** What was done for each reference, e.g. "image_urls.0: @last → the fal URL of …". */
  readonly notes: string[];
}

/**
 * Replaces `@last` / `@<request-id>[#n]` in the input's file fields by the earlier output's
 * URL, and names each as a parent. The output's fal URL is reused while it still answers a
 * HEAD (or a one-byte ranged GET when HEAD is refused) within `probeTimeoutMs`: fal keeps its
 * CDN files for a while but not forever, and a probe is cheaper and surer than guessing from
 * the age. When it does not answer, the saved local copy is uploaded. An unknown id, an
 * output that does not exist, or one neither reachable nor on disk is `INPUT_INVALID` with a
 * hint, before anything is sent.
 */
export async function resolveReferences(
  options: ResolveReferencesOptions,
): Promise<ResolvedReferences> {
  const refs = options.registry
    .fileFields(options.endpointId, options.input)
    .filter((ref) => OUTPUT_REFERENCE.test(ref.value));
  if (refs.length === 0) return { input: options.input, parents: [], notes: [] };
  // Copied along each reference's path only: bytes and streams elsewhere are left as they are.
  const input: Record<string, unknown> = { ...options.input };
  const parents: ParentRef[] = [];
  const notes: string[] = [];
  let last: PendingRecord | undefined;
  const resolved = new Map<string, string>();
  for (const ref of refs) {
    const field = ref.path.map(String).join('.');
    const match = OUTPUT_REFERENCE.exec(ref.value) as RegExpExecArray;
    const id = match[1] as string;
    const n = match[2] === undefined ? 1 : Number(match[2]);
    if (id === 'last' && last === undefined) {
      last = await lastWithOutputs(options.store, ref.value, field);
    }
    const record = id === 'last' ? last : await findRecord(options.store, id, 'history');
    if (!record) {
      throw referenceError(
        field,
        ref.value,
        `no request ${id} in the store`,
        'check the id with `falai history`, or use @last',
      );
    }
    const outputs = record.outputs ?? [];
    const output = outputs[n - 1];
    if (!output) {
      throw referenceError(
        field,
        ref.value,
        outputs.length === 0
          ? `request ${record.requestId} has no saved outputs`
          : `request ${record.requestId} has ${outputs.length} output(s), not ${n}`,
        outputs.length === 0
          ? `save them first with \`falai download ${record.requestId}\``
          : `use #1…#${outputs.length}`,
      );
    }
    const key = `${record.requestId}#${n}`;
    let url = resolved.get(key);
    if (url === undefined) {
      url = await usableUrl(options, output, field, ref.value, record.requestId);
      resolved.set(key, url);
      notes.push(
        `${field}: ${ref.value} → output ${n} of ${record.requestId}${url === output.url ? ' (its fal URL)' : ' (uploaded from the saved copy)'}`,
      );
    }
    setAt(input, ref.path, url);
    parents.push({ requestId: record.requestId, output: n - 1, field });
  }
  return { input, parents, notes };
}

/** The most recent completed request with saved outputs. */
async function lastWithOutputs(
  store: PendingStore,
  value: string,
  field: string,
): Promise<PendingRecord> {
  const completed = await store.list({ status: 'completed' });
  for (let i = completed.length - 1; i >= 0; i--) {
    const record = completed[i] as PendingRecord;
    if ((record.outputs?.length ?? 0) > 0) return record;
  }
  throw referenceError(
    field,
    value,
    'no completed request with saved outputs in the store',
    'run one first (falai run …), or name a request with @<request-id>',
  );
}

/** The output's fal URL while it answers, else the URL of a fresh upload of the local copy. */
async function usableUrl(
  options: ResolveReferencesOptions,
  output: OutputFile,
  field: string,
  value: string,
  requestId: string,
): Promise<string> {
  if (/^https?:\/\//i.test(output.url) && (await answers(options, output.url))) return output.url;
  const onDisk = await stat(output.path).catch(() => undefined);
  if (!onDisk?.isFile()) {
    throw referenceError(
      field,
      value,
      `the fal URL of ${requestId}'s output no longer answers and its saved copy ${output.path} is gone`,
      `download it again with \`falai download ${requestId}\` or give a file or URL`,
    );
  }
  if (!options.uploader) {
    throw referenceError(
      field,
      value,
      `the fal URL of ${requestId}'s output no longer answers and no uploader is available`,
      'give the saved file path instead',
    );
  }
  const uploaded = await options.uploader.upload(output.path, {
    signal: options.signal,
  });
  return uploaded.url;
}

/** True when the URL answers 2xx to a HEAD (or a one-byte ranged GET) within the timeout. */
async function answers(options: ResolveReferencesOptions, url: string): Promise<boolean> {
  const doFetch = options.fetch ?? fetch;
  const timeout = AbortSignal.timeout(options.probeTimeoutMs ?? DEFAULT_REFERENCE_PROBE_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const head = await doFetch(url, { method: 'HEAD', signal, redirect: 'follow' });
    if (head.ok) return true;
    if (head.status !== 405 && head.status !== 501) return false;
    const get = await doFetch(url, { headers: { range: 'bytes=0-0' }, signal, redirect: 'follow' });
    await get.body?.cancel().catch(() => undefined);
    return get.ok;
  } catch {
    return false;
  }
}

function referenceError(field: string, value: string, why: string, fix: string): InputError {
  return new InputError(`${field}: ${value} refers to an earlier output, but ${why}; ${fix}.`, [
    { path: field.split('.'), message: why, kind: 'reference' },
  ]);
}

/**
 * Writes at a path (from the model's file fields), copying each array or object on the way so
 * the caller's input is never changed.
 */
function setAt(
  root: Record<string, unknown>,
  path: readonly (string | number)[],
  value: unknown,
): void {
  let cur = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    const child = cur[key];
    const copy = Array.isArray(child) ? [...child] : { ...(child as Record<string, unknown>) };
    cur[key] = copy;
    cur = copy as Record<string | number, unknown>;
  }
  cur[path[path.length - 1] as string | number] = value;
}
