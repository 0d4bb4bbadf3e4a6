import { resolve } from 'node:path';
import type { PendingRecord } from '@falai/core';
import { findOutputFiles, promptFieldOf, promptOf } from '@falai/core/internal';
import { shellWord } from './escape.js';

/** How one output is shown: kind, and where its copy lives inside the site (relative). */
export interface GalleryMedia {
  readonly kind: 'image' | 'video' | 'audio' | 'file';
  /** Path of the copy inside the site, relative to `index.html` (`media/…`). */
  readonly src: string;
  /** Path of the thumbnail inside the site (images only; absent when none could be made). */
  readonly thumb?: string;
  readonly name: string;
  readonly mime?: string;
  readonly size?: number;
  readonly width?: number;
  readonly height?: number;
  readonly durationSeconds?: number;
}

/** One input file of a request, and the earlier output it was, when it was one. */
export interface GalleryInput {
  /** Field path inside the input, e.g. `image_url` or `image_urls.0`. */
  readonly field: string;
  /** `output`: an earlier request's output; else what the user gave. */
  readonly kind: 'output' | 'url' | 'path' | 'data-uri';
  /** What to show: a URL, a file name, or `data URI (image/png, 4 KB)`. Never loaded. */
  readonly label: string;
  /** The request whose output this input was. */
  readonly parent?: string;
  /** Which of that request's outputs (0-based). */
  readonly parentOutput?: number;
}

/** The actual cost of a request, as its record holds it. */
export interface GalleryCost {
  readonly amount: number;
  readonly currency: string;
}

/** One card: a completed request and what the page shows of it. */
export interface GalleryItem {
  readonly id: string;
  readonly endpointId: string;
  readonly prompt: string;
  /** The seed with every digit (fal's seeds are 64-bit; a double would round them). */
  readonly seed?: string;
  readonly cost?: GalleryCost;
  /** When it finished (else when it was last updated), ISO-8601. */
  readonly date: string;
  readonly submittedAt: string;
  readonly media: readonly GalleryMedia[];
  /** Outputs the record names whose local file is gone or was never downloaded. */
  readonly missingFiles: number;
  readonly inputs: readonly GalleryInput[];
  /** Requests this one was made from (in the gallery or not). */
  readonly parents: readonly string[];
  /** Requests made from this one's outputs. */
  readonly children: readonly string[];
  /** The other input fields, as text (`aspect_ratio` → `16:9`). */
  readonly settings: readonly (readonly [string, string])[];
  /** `falai rerun <id>`, ready to paste. */
  readonly rerun: string;
}

/** The most text one field keeps in the page (prompts can be 50,000 characters). */
export const MAX_TEXT = 4_000;
/** The most input fields one card lists. */
const MAX_SETTINGS = 40;
/** The most nodes read when looking for output URLs inside a result. */
const MAX_WALK = 2_000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function clip(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A seed as exact digits: bigints and safe integers, or a string of digits. */
export function seedText(value: unknown): string | undefined {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^-?\d{1,40}$/.test(value.trim())) return value.trim();
  return undefined;
}

/** A field value as one line of text (bigints keep their digits; objects as JSON). */
function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return String(value);
  try {
    return JSON.stringify(value, (_key, item: unknown) =>
      typeof item === 'bigint' ? item.toString() : item,
    );
  } catch {
    return String(value);
  }
}

/** The actual cost the lifecycle recorded (`provenance.cost`), when it did. */
export function readCost(record: PendingRecord): GalleryCost | undefined {
  const cost = record.provenance?.cost;
  return cost ? { amount: cost.amount, currency: cost.currency } : undefined;
}

/** The prompt of a request: core's `promptOf` (its input's prompt), else its result's. */
function promptText(record: PendingRecord): string {
  const prompt = promptOf(record);
  if (prompt !== undefined) return prompt;
  if (isObject(record.result) && typeof record.result.prompt === 'string')
    return record.result.prompt;
  return '';
}

/**
 * The seed of a request: the one its provenance recorded (exact digits), else the one it was
 * given, else the one fal answered with.
 */
function seedOf(record: PendingRecord): string | undefined {
  const fields = record.input?.fields ?? {};
  return (
    record.provenance?.seed ??
    seedText(fields.seed) ??
    (isObject(record.result) ? seedText(record.result.seed) : undefined)
  );
}

/** The http(s) URLs of a result's output files (core's `findOutputFiles`), in order. */
export function resultUrls(result: unknown): string[] {
  return findOutputFiles(result)
    .map((file) => file.url)
    .filter((url) => /^https?:\/\//i.test(url));
}

/** Every http(s) string inside submitted input fields, with its field path (bounded walk). */
function fieldUrls(fields: Record<string, unknown>): { field: string; url: string }[] {
  const found: { field: string; url: string }[] = [];
  let budget = MAX_WALK;
  const walk = (value: unknown, path: string, depth: number): void => {
    if (budget-- <= 0 || depth > 8) return;
    if (typeof value === 'string') {
      if (/^https?:\/\//i.test(value)) found.push({ field: path, url: value });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => {
        walk(item, `${path}.${index}`, depth + 1);
      });
    } else if (isObject(value)) {
      for (const [key, item] of Object.entries(value))
        walk(item, path ? `${path}.${key}` : key, depth + 1);
    }
  };
  walk(fields, '', 0);
  return found;
}

/** Where an output came from: request and index. */
interface OutputRef {
  readonly requestId: string;
  readonly index: number;
}

/**
 * What lineage is matched against: every output URL (fal's, as recorded) and every local output
 * path of the given records.
 */
export interface OutputIndex {
  readonly byUrl: ReadonlyMap<string, OutputRef>;
  readonly byPath: ReadonlyMap<string, OutputRef>;
}

/** Indexes the outputs of records by URL and by resolved local path. */
export function indexOutputs(records: readonly PendingRecord[]): OutputIndex {
  const byUrl = new Map<string, OutputRef>();
  const byPath = new Map<string, OutputRef>();
  for (const record of records) {
    const outputs = record.outputs ?? [];
    outputs.forEach((output, index) => {
      if (!byUrl.has(output.url)) byUrl.set(output.url, { requestId: record.requestId, index });
      const path = resolve(output.path);
      if (!byPath.has(path)) byPath.set(path, { requestId: record.requestId, index });
    });
    if (outputs.length === 0) {
      resultUrls(record.result).forEach((url, index) => {
        if (!byUrl.has(url)) byUrl.set(url, { requestId: record.requestId, index });
      });
    }
  }
  return { byUrl, byPath };
}

function fileLabel(location: string): string {
  const name = location.split(/[\\/]/).pop() ?? location;
  return clip(name || location, 300);
}

/**
 * The inputs of a request with the earlier outputs they were: a URL input that is another
 * request's output URL (fal's, or the URL an upload of it got), a local path that is another
 * request's saved file, and the parents the lifecycle recorded (`provenance.parents`).
 */
export function inputsOf(record: PendingRecord, outputs: OutputIndex): GalleryInput[] {
  const inputs: GalleryInput[] = [];
  const seen = new Set<string>();
  const add = (input: GalleryInput) => {
    const key = `${input.field}\u0000${input.parent ?? input.label}`;
    if (seen.has(key) || inputs.length >= 100) return;
    seen.add(key);
    inputs.push(input);
  };
  const asParent = (ref: OutputRef | undefined): Partial<GalleryInput> =>
    ref && ref.requestId !== record.requestId
      ? { kind: 'output', parent: ref.requestId, parentOutput: ref.index }
      : {};
  for (const file of record.input?.files ?? []) {
    if (file.kind === 'data-uri') {
      const size =
        file.size === undefined ? '' : `, ${Math.max(1, Math.round(file.size / 1024))} KB`;
      add({
        field: file.field,
        kind: 'data-uri',
        label: `data URI (${file.mime ?? 'bytes'}${size})`,
      });
      continue;
    }
    const location = file.location ?? file.uploadedUrl ?? '';
    const ref =
      (file.location ? outputs.byUrl.get(file.location) : undefined) ??
      (file.uploadedUrl ? outputs.byUrl.get(file.uploadedUrl) : undefined) ??
      (file.kind === 'path' && file.location
        ? outputs.byPath.get(resolve(file.location))
        : undefined);
    add({
      field: file.field,
      kind: file.kind,
      label: file.kind === 'path' ? fileLabel(location) : clip(location, 500),
      ...asParent(ref),
    });
  }
  for (const { field, url } of fieldUrls(record.input?.fields ?? {})) {
    add({ field, kind: 'url', label: clip(url, 500), ...asParent(outputs.byUrl.get(url)) });
  }
  for (const parent of record.provenance?.parents ?? []) {
    if (parent.requestId === record.requestId) continue;
    if (inputs.some((input) => input.parent === parent.requestId)) continue;
    add({
      field: parent.field ?? 'input',
      kind: 'output',
      label: parent.requestId,
      parent: parent.requestId,
      ...(parent.output === undefined ? {} : { parentOutput: parent.output }),
    });
  }
  return inputs;
}

/** The input fields other than the prompt and the seed, as text. */
function settingsOf(record: PendingRecord): [string, string][] {
  const fields = record.input?.fields ?? {};
  const prompt = promptFieldOf(record);
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (key === prompt || key === 'seed') continue;
    if (typeof value === 'string' && /^<file [^>]*>$/.test(value)) continue;
    out.push([clip(key, 200), clip(valueText(value), 1_000)]);
    if (out.length >= MAX_SETTINGS) break;
  }
  return out;
}

/** What {@link describeRecord} needs besides the record: its media, made by the site builder. */
export interface DescribeOptions {
  readonly media: readonly GalleryMedia[];
  readonly missingFiles: number;
  readonly outputs: OutputIndex;
}

/** A card for one completed record (children are filled in by {@link linkChildren}). */
export function describeRecord(record: PendingRecord, options: DescribeOptions): GalleryItem {
  const inputs = inputsOf(record, options.outputs);
  const parents = [...new Set(inputs.flatMap((input) => (input.parent ? [input.parent] : [])))];
  const seed = seedOf(record);
  const cost = readCost(record);
  return {
    id: record.requestId,
    endpointId: record.endpointId,
    prompt: clip(promptText(record)),
    ...(seed === undefined ? {} : { seed }),
    ...(cost ? { cost } : {}),
    date: record.completedAt ?? record.updatedAt,
    submittedAt: record.submittedAt,
    media: options.media,
    missingFiles: options.missingFiles,
    inputs,
    parents,
    children: [],
    settings: settingsOf(record),
    rerun: `falai rerun ${shellWord(record.requestId)}`,
  };
}

/** Fills in `children` (what was made from each item), newest first order kept. */
export function linkChildren(items: readonly GalleryItem[]): GalleryItem[] {
  const children = new Map<string, string[]>();
  for (const item of items) {
    for (const parent of item.parents) {
      const list = children.get(parent) ?? [];
      list.push(item.id);
      children.set(parent, list);
    }
  }
  return items.map((item) => ({ ...item, children: children.get(item.id) ?? [] }));
}
