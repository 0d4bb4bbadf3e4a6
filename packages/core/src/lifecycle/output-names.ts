import { statSync } from 'node:fs';
import { basename, dirname, extname, sep } from 'node:path';
import { InputError } from '../errors/falai-error.js';

/**
 * How downloaded outputs are named, for every command that saves them (`run`, `wait`,
 * `download`, `poll --download`):
 *
 * - `--out <folder>`: files go in the folder as `<request-id>-<index>.<ext>` (the default);
 * - `--out cat.png` (a path ending in a media extension that is not an existing folder):
 *   the one output is saved as exactly that file; several are `cat-1.png`, `cat-2.png`, …
 *   (each with its own extension);
 * - `--name <pattern>`: the file name, from `{request_id}`, `{index}` (0-based), `{n}`
 *   (1-based), `{ext}`, `{endpoint}` (slashes become `_`), `{date}` (YYYY-MM-DD) and
 *   `{time}` (HHMMSS), local time. `.{ext}` is added when the pattern has no `{ext}`, and
 *   `-{index}` when several outputs would otherwise share one name.
 */
export const NAME_FIELDS = ['request_id', 'index', 'n', 'ext', 'endpoint', 'date', 'time'] as const;

/** Extensions that make `--out` a file name rather than a folder. */
const FILE_EXTENSIONS = new Set([
  'png',
  'jpg',
  'jpeg',
  'webp',
  'gif',
  'avif',
  'mp4',
  'mov',
  'webm',
  'mp3',
  'wav',
  'json',
  'bin',
]);

/** Where outputs go and what each one is called; what `downloadOutputs` takes. */
export interface OutputTarget {
  readonly outDir: string;
  /** Undefined means the default `<request-id>-<index>.<ext>`. */
  readonly fileName?: (index: number, count: number, ext: string) => string;
}

export interface OutputTargetOptions {
  /** `--out`: a folder, or a file name with a media extension. */
  readonly out?: string | undefined;
  /** `--name`: a pattern (see {@link NAME_FIELDS}). */
  readonly name?: string | undefined;
  /** The folder when `--out` is not given (settings `outputDir`). */
  readonly defaultDir: string;
  readonly requestId: string;
  readonly endpointId?: string | undefined;
  /** @default new Date() */
  readonly now?: Date;
}

/** True when `--out` names a file: a media extension, not an existing folder, no trailing `/`. */
export function isFileOut(out: string): boolean {
  if (out.endsWith('/') || out.endsWith(sep)) return false;
  const ext = extname(out).slice(1).toLowerCase();
  if (!FILE_EXTENSIONS.has(ext) || basename(out, extname(out)) === '') return false;
  try {
    return !statSync(out).isDirectory();
  } catch {
    return true;
  }
}

/** Checks a `--name` pattern; throws an InputError saying what is wrong and what is allowed. */
export function checkNamePattern(pattern: string): void {
  const fields = `{${NAME_FIELDS.join('}, {')}}`;
  const issue = (message: string) =>
    new InputError(`--name "${pattern}": ${message}`, [
      { path: ['name'], message, kind: 'output-name' },
    ]);
  if (pattern.trim() === '') throw issue(`the pattern is empty; use e.g. {request_id}-{n}.{ext}`);
  if (/[/\\]/.test(pattern)) {
    throw issue('a name cannot contain a folder; put the folder in --out');
  }
  for (const match of pattern.matchAll(/\{([^{}]*)\}/g)) {
    if (!(NAME_FIELDS as readonly string[]).includes(match[1] ?? '')) {
      throw issue(`{${match[1]}} is not a name field; use ${fields}`);
    }
  }
  if (/[{}]/.test(pattern.replace(/\{[^{}]*\}/g, ''))) {
    throw issue(`unbalanced braces; use ${fields}`);
  }
}

/** Fills a checked pattern for one output. */
export function fillNamePattern(
  pattern: string,
  values: {
    readonly requestId: string;
    readonly index: number;
    readonly count: number;
    readonly ext: string;
    readonly endpointId?: string | undefined;
    readonly now: Date;
  },
): string {
  let text = pattern;
  if (!text.includes('{ext}')) text = `${text}.{ext}`;
  if (values.count > 1 && !text.includes('{index}') && !text.includes('{n}')) {
    text = text.replace(/\.\{ext\}$/, '-{index}.{ext}');
    if (!text.includes('{index}')) text = `${text}-{index}`;
  }
  const pad = (value: number) => String(value).padStart(2, '0');
  const now = values.now;
  const fields: Record<(typeof NAME_FIELDS)[number], string> = {
    request_id: values.requestId,
    index: String(values.index),
    n: String(values.index + 1),
    ext: values.ext,
    endpoint: (values.endpointId ?? 'unknown').replaceAll('/', '_'),
    date: `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`,
    time: `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`,
  };
  return text.replace(/\{([a-z_]+)\}/g, (_whole, field: string) =>
    field in fields ? fields[field as keyof typeof fields] : `{${field}}`,
  );
}

/**
 * Checks `--out` and `--name` before anything is paid for (run, wait): the same errors
 * {@link outputTarget} would raise once the request is done.
 */
export function checkOutputFlags(out: string | undefined, name: string | undefined): void {
  outputTarget({ out, name, defaultDir: '.', requestId: 'check' });
}

/**
 * Turns `--out` and `--name` into a folder and a naming function. Throws an InputError for
 * a bad pattern, or for `--name` together with a file name in `--out`.
 */
export function outputTarget(options: OutputTargetOptions): OutputTarget {
  const now = options.now ?? new Date();
  if (options.name !== undefined) checkNamePattern(options.name);
  if (options.out !== undefined && isFileOut(options.out)) {
    if (options.name !== undefined) {
      throw new InputError(
        `--out ${options.out} names a file and --name a pattern; use one: --out <folder> --name "${options.name}", or --out ${options.out} alone.`,
        [{ path: ['name'], message: 'both --out <file> and --name', kind: 'output-name' }],
      );
    }
    const file = basename(options.out);
    const ext = extname(file);
    const stem = file.slice(0, file.length - ext.length);
    return {
      outDir: dirname(options.out),
      fileName: (index, count, actualExt) =>
        count === 1 ? file : `${stem}-${index + 1}.${actualExt}`,
    };
  }
  const outDir = options.out ?? options.defaultDir;
  const pattern = options.name;
  if (pattern === undefined) return { outDir };
  return {
    outDir,
    fileName: (index, count, ext) =>
      fillNamePattern(pattern, {
        requestId: options.requestId,
        index,
        count,
        ext,
        endpointId: options.endpointId,
        now,
      }),
  };
}
