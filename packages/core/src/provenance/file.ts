import { randomBytes } from 'node:crypto';
import { chmod, type FileHandle, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as v from 'valibot';
import { FalaiError, MediaError } from '../errors/falai-error.js';
import { parseJsonExact, stringifyJsonExact } from '../json/exact.js';
import { boundProvenance } from './build.js';
import { isJpeg, readJpegXmp, writeJpegXmp } from './jpeg.js';
import { isIsoMedia, readMp4Xmp, writeMp4Xmp } from './mp4.js';
import { isPng, PNG_XMP_KEYWORD, readPngText, writePngText } from './png.js';
import { type Provenance, ProvenanceSchema } from './schema.js';
import { isWebp, readWebpXmp, writeWebpXmp } from './webp.js';
import { mergeXmpPacket, provenanceJsonFromXmp, type XmpExtras } from './xmp.js';

/** The file formats falai embeds provenance in. */
export type ProvenanceFormat = 'png' | 'jpeg' | 'webp' | 'mp4';

/** What {@link embedProvenance} did. */
export interface EmbedResult {
  /** True when the file now carries the provenance. */
  readonly embedded: boolean;
  /** The format found, when it is one falai writes. */
  readonly format?: ProvenanceFormat;
  /** Why nothing was embedded (an unsupported format, a damaged file, a file too large). */
  readonly reason?: string;
}

/** What {@link readProvenance} found. */
export interface ReadProvenanceResult {
  readonly format: ProvenanceFormat;
  /** Where it was: `png-text` (the `falai` text chunk) or `xmp`. */
  readonly source: 'png-text' | 'xmp';
  readonly provenance: Provenance;
}

/**
 * Images larger than this are left without provenance (they are rewritten in memory); videos
 * have no limit (their provenance is appended).
 */
export const MAX_EMBED_IMAGE_BYTES = 256 * 1024 * 1024;

async function formatOf(handle: FileHandle): Promise<ProvenanceFormat | undefined> {
  const head = Buffer.alloc(16);
  const { bytesRead } = await handle.read(head, 0, 16, 0);
  const bytes = head.subarray(0, bytesRead);
  if (isPng(bytes)) return 'png';
  if (isJpeg(bytes)) return 'jpeg';
  if (isWebp(bytes)) return 'webp';
  if (isIsoMedia(bytes)) return 'mp4';
  return undefined;
}

/** The prompt and tool name photo tools show (XMP `dc:description`, `xmp:CreatorTool`). */
function extrasOf(provenance: Provenance): XmpExtras {
  const prompt = provenance.input?.prompt;
  return {
    ...(typeof prompt === 'string' ? { description: prompt } : {}),
    creatorTool: `falai ${provenance.falaiVersion} (${provenance.endpointId})`,
  };
}

/** A value for an AUTOMATIC1111-style `key: value` list; quoted when it holds a comma. */
function a1111Value(value: unknown): string | undefined {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return undefined;
  const line = value.replace(/\s+/g, ' ').trim();
  return /[,:"]/.test(line) ? JSON.stringify(line) : line;
}

/**
 * The `parameters` text AUTOMATIC1111 and tools that read it show: the prompt, a
 * `Negative prompt:` line, then `Seed: …, Steps: …, Model: …` (ComfyUI-style readers and
 * image sites parse this). Plain text, derived from the provenance.
 */
export function parametersText(provenance: Provenance): string {
  const input = provenance.input ?? {};
  const lines: string[] = [];
  if (typeof input.prompt === 'string') lines.push(input.prompt);
  if (typeof input.negative_prompt === 'string' && input.negative_prompt.trim() !== '') {
    lines.push(`Negative prompt: ${input.negative_prompt}`);
  }
  const size = input.image_size;
  const pairs: [string, unknown][] = [
    ['Steps', input.num_inference_steps],
    ['CFG scale', input.guidance_scale],
    ['Seed', provenance.seed],
    [
      'Size',
      typeof size === 'object' && size !== null && 'width' in size && 'height' in size
        ? `${String((size as { width: unknown }).width)}x${String((size as { height: unknown }).height)}`
        : size,
    ],
    ['Aspect ratio', input.aspect_ratio],
    ['Model', provenance.endpointId],
    ['Request', provenance.requestId],
    ['falai', provenance.falaiVersion],
  ];
  const list = pairs
    .map(([key, value]) => {
      const text = a1111Value(value);
      return text === undefined || text === '' ? undefined : `${key}: ${text}`;
    })
    .filter((item): item is string => item !== undefined);
  lines.push(list.join(', '));
  return lines.join('\n');
}

function cannotWrite(path: string, error: unknown): FalaiError {
  const code = (error as NodeJS.ErrnoException).code;
  return new FalaiError(
    'OUTPUT_WRITE_FAILED',
    `Could not write provenance into ${path}: ${(error as Error).message}. The file itself is ` +
      'unchanged; check that it exists and is writable.',
    { cause: error, details: { path, ...(code ? { errno: code } : {}) } },
  );
}

/** Writes `bytes` over `path` atomically (a temp file beside it, then a rename), keeping its mode. */
async function replaceFile(path: string, bytes: Buffer, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, bytes, { mode: mode & 0o777 });
    await chmod(temp, mode & 0o777);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Writes a request's provenance into a file falai saved, where the format allows: PNG (an
 * `iTXt` chunk `falai` holding the JSON, an AUTOMATIC1111-style `parameters` text and XMP),
 * JPEG (an XMP APP1 segment), WebP (an XMP chunk) and MP4/MOV (an XMP `uuid` box). The image
 * data is never re-encoded: every chunk, segment and box of it is copied byte for byte (a PNG,
 * JPEG or WebP is rewritten through a temp file and a rename; a video only gets a box appended).
 * Embedding again replaces falai's earlier provenance and keeps other tools' metadata.
 *
 * Other formats, and files it cannot parse, are left unchanged: `{ embedded: false, reason }`.
 * A file that cannot be read or written throws `OUTPUT_WRITE_FAILED`. The lifecycle's
 * save-outputs step calls this after writing each output (with `buildProvenance`).
 */
export async function embedProvenance(path: string, provenance: Provenance): Promise<EmbedResult> {
  const checked = v.safeParse(ProvenanceSchema, provenance);
  if (!checked.success) {
    throw new FalaiError(
      'INPUT_INVALID',
      `Not a valid provenance document: ${checked.issues
        .slice(0, 3)
        .map((issue) => `${v.getDotPath(issue) ?? ''} ${issue.message}`.trim())
        .join('; ')}. Build it with buildProvenance.`,
    );
  }
  const document = boundProvenance(checked.output);
  const json = stringifyJsonExact(document);
  const extras = extrasOf(document);
  const makeXmp = (existing: string | undefined) => mergeXmpPacket(existing, json, extras);
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const format = await formatOf(handle);
    if (!format)
      return {
        embedded: false,
        reason: 'falai embeds provenance in PNG, JPEG, WebP and MP4/MOV files only',
      };
    if (format === 'mp4') {
      await handle.close();
      handle = await open(path, 'r+');
      try {
        await writeMp4Xmp(handle, makeXmp);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code) throw error;
        return { embedded: false, format, reason: (error as Error).message };
      }
      return { embedded: true, format };
    }
    const info = await handle.stat();
    if (info.size > MAX_EMBED_IMAGE_BYTES) {
      return {
        embedded: false,
        format,
        reason: `the image is over ${MAX_EMBED_IMAGE_BYTES} bytes`,
      };
    }
    const bytes = await handle.readFile();
    await handle.close();
    handle = undefined;
    let next: Buffer;
    try {
      next =
        format === 'png'
          ? writePngText(bytes, {
              json,
              parameters: parametersText(document),
              xmp: makeXmp,
            })
          : format === 'jpeg'
            ? writeJpegXmp(bytes, makeXmp)
            : writeWebpXmp(bytes, makeXmp);
    } catch (error) {
      return { embedded: false, format, reason: (error as Error).message };
    }
    await replaceFile(path, next, info.mode);
    return { embedded: true, format };
  } catch (error) {
    throw cannotWrite(path, error);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function damaged(path: string, problem: string, cause?: unknown): MediaError {
  return new MediaError(
    `${path} carries falai provenance that cannot be read (${problem}); the file may have been ` +
      'edited by another tool. Its pixels are fine; only the record of how it was made is lost.',
    { ...(cause === undefined ? {} : { cause }), details: { path, reason: 'provenance-damaged' } },
  );
}

function parseDocument(path: string, json: string): Provenance {
  let value: unknown;
  try {
    value = parseJsonExact(json);
  } catch (error) {
    throw damaged(path, 'not valid JSON', error);
  }
  const parsed = v.safeParse(ProvenanceSchema, value);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw damaged(path, `${v.getDotPath(issue) ?? 'document'}: ${issue.message}`);
  }
  return parsed.output;
}

/**
 * Reads back the provenance falai embedded in a file (PNG, JPEG, WebP, MP4/MOV), from the file
 * alone: no store, no network, so it works on any machine. Undefined when the file carries none
 * (another tool made it, or one stripped its metadata). A missing or unreadable file is
 * `MEDIA_INVALID`, as is provenance that does not parse.
 */
export async function readProvenance(path: string): Promise<ReadProvenanceResult | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MediaError(
      code === 'ENOENT'
        ? `No such file: ${path}. Give the path of a file falai saved.`
        : `Cannot read ${path}: ${(error as Error).message}.`,
      { cause: error, details: { path, ...(code ? { errno: code } : {}) } },
    );
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new MediaError(`${path} is not a file. Give the path of a file falai saved.`, {
        details: { path },
      });
    }
    const format = await formatOf(handle);
    if (!format) return undefined;
    if (format === 'mp4') {
      const xmp = await readMp4Xmp(handle);
      const json = xmp === undefined ? undefined : provenanceJsonFromXmp(xmp);
      return json === undefined
        ? undefined
        : { format, source: 'xmp', provenance: parseDocument(path, json) };
    }
    if (info.size > MAX_EMBED_IMAGE_BYTES) {
      throw new MediaError(
        `${path} is over ${MAX_EMBED_IMAGE_BYTES} bytes; falai never embeds provenance in images that large.`,
        { details: { path } },
      );
    }
    const bytes = await handle.readFile();
    let text: string | undefined;
    let source: ReadProvenanceResult['source'] = 'xmp';
    try {
      if (format === 'png') {
        const texts = readPngText(bytes);
        text = texts.get('falai');
        if (text !== undefined) source = 'png-text';
        else {
          const xmp = texts.get(PNG_XMP_KEYWORD);
          text = xmp === undefined ? undefined : provenanceJsonFromXmp(xmp);
        }
      } else {
        const xmp = format === 'jpeg' ? readJpegXmp(bytes) : readWebpXmp(bytes);
        text = xmp === undefined ? undefined : provenanceJsonFromXmp(xmp);
      }
    } catch (error) {
      throw new MediaError(
        `${path} looks like a ${format.toUpperCase()} file but its structure is damaged (${(error as Error).message}).`,
        { cause: error, details: { path } },
      );
    }
    return text === undefined
      ? undefined
      : { format, source, provenance: parseDocument(path, text) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The format of a file when it is one falai writes provenance into (by its first bytes). */
export async function provenanceFormatOf(path: string): Promise<ProvenanceFormat | undefined> {
  const handle = await open(path, 'r');
  try {
    return await formatOf(handle);
  } finally {
    await handle.close();
  }
}
