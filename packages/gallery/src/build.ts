import { createHash } from 'node:crypto';
import {
  copyFile,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { type PendingRecord, sniffFile } from '@falai/core';
import { GalleryError } from './errors.js';
import {
  describeRecord,
  type GalleryItem,
  type GalleryMedia,
  indexOutputs,
  linkChildren,
  resultUrls,
} from './items.js';
import { type GalleryData, renderPage } from './page.js';

/** The file that marks a folder as a falai gallery (and caches what was made for it). */
export const MARKER_FILE = '.falai-gallery.json';
const MEDIA_DIR = 'media';
const THUMB_DIR = 'thumbs';

/** Options of {@link buildGallery}. */
export interface BuildGalleryOptions {
  /** The records to show; only `completed` ones become cards (see the README). */
  readonly records: readonly PendingRecord[];
  /**
   * The site folder: created when missing; refused when it holds files and is not a gallery
   * (no {@link MARKER_FILE}), so a typo cannot clear someone's folder.
   */
  readonly outDir: string;
  /** @default 'falai gallery' */
  readonly title?: string;
  /** The page listens to `events` and re-reads `index.json` (set by the server). @default false */
  readonly live?: boolean;
  /** Thumbnails fit in a square of this many pixels. @default 480 */
  readonly thumbnailSize?: number;
  /** Outputs processed at once. @default 4 */
  readonly concurrency?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** What a build did. */
export interface GallerySummary {
  /** The site folder (absolute). */
  readonly outDir: string;
  /** `index.html` (absolute). */
  readonly index: string;
  /** The content version the page carries (changes only when the content does). */
  readonly version: string;
  /** Cards: completed requests. */
  readonly items: number;
  /** Output files shown. */
  readonly files: number;
  /** Cards without any local file (outputs never downloaded or since deleted). */
  readonly withoutFiles: number;
  /** Output files the records name but that are not on this machine. */
  readonly missingFiles: number;
  /** Output files on this machine left out because their bytes are not media (see the CLI note). */
  readonly refusedFiles: number;
  /** Records left out because they are not completed (queued, running, failed, …). */
  readonly skipped: number;
  /** Files copied or linked into the site in this build (0 when nothing changed). */
  readonly copied: number;
  /** Thumbnails made in this build. */
  readonly thumbnails: number;
  /** Media files and thumbnails of earlier builds that no card uses any more, removed. */
  readonly removed: number;
}

/** What the marker file remembers about one media file of the site. */
interface CacheEntry {
  readonly source: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly thumb?: string;
  readonly width?: number;
  readonly height?: number;
  readonly durationSeconds?: number;
}

interface Marker {
  readonly kind: 'falai-gallery';
  readonly version: 1;
  readonly files: Record<string, CacheEntry>;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.avif', '.bmp', '.svg']);
const VIDEO_EXT = new Set(['.mp4', '.m4v', '.mov', '.webm']);
const AUDIO_EXT = new Set(['.mp3', '.wav', '.ogg', '.m4a', '.flac', '.aac']);
/** What sharp can read for a thumbnail (SVG and BMP are shown as they are). */
const THUMB_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.avif']);
const EXT_BY_MIME: Readonly<Record<string, string>> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'image/avif': '.avif',
  'video/mp4': '.mp4',
  'video/quicktime': '.mov',
  'video/webm': '.webm',
  'audio/mpeg': '.mp3',
  'audio/wav': '.wav',
};
/** A record's output file that is on this machine but not media: left out, counted apart. */
const REFUSED = 'refused';
/** Images at most this big (and within the thumbnail box) are shown as they are. */
const SMALL_IMAGE_BYTES = 96 * 1024;

function mediaKind(ext: string, mime: string | undefined): GalleryMedia['kind'] {
  if (mime?.startsWith('image/') || IMAGE_EXT.has(ext)) return 'image';
  if (mime?.startsWith('video/') || VIDEO_EXT.has(ext)) return 'video';
  if (mime?.startsWith('audio/') || AUDIO_EXT.has(ext)) return 'audio';
  return 'file';
}

/**
 * True when a file's bytes are media a model makes: an image, a video, a sound or a 3D model.
 * A record names its outputs by path and a store may be shared or edited, so the gallery never
 * publishes anything else (a key, a config, a database, an archive, a document), whatever the
 * record says it is.
 */
async function publishable(path: string): Promise<boolean> {
  const sniffed = await sniffFile(path).catch(() => undefined);
  return sniffed !== undefined && /^(image|video|audio|model)\//.test(sniffed.mime);
}

/** A file-name-safe stem for a request id (ids with other characters get a digest suffix). */
export function mediaStem(requestId: string): string {
  const safe = requestId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
  if (safe === requestId) return safe;
  return `${safe}-${createHash('sha256').update(requestId).digest('hex').slice(0, 10)}`;
}

function extensionOf(path: string, mime: string | undefined): string {
  const ext = extname(path).toLowerCase();
  if (/^\.[a-z0-9]{1,8}$/.test(ext)) return ext;
  return (mime && EXT_BY_MIME[mime]) ?? '';
}

/** Runs `task` over `list` with at most `limit` at once, keeping the order of results. */
async function mapLimit<T, R>(
  list: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const index = next++;
      results[index] = await task(list[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, list.length)) }, worker));
  return results;
}

function writeFailed(path: string, error: unknown): GalleryError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOSPC'
      ? 'the disk is full'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'the file system is read-only'
          : (error as Error).message;
  return new GalleryError(
    'OUTPUT_WRITE_FAILED',
    `Could not write ${path} (${why}). Free some space or choose another folder with --out <dir>.`,
    { cause: error, details: { path, ...(code ? { errno: code } : {}) } },
  );
}

/** Writes a file whole or not at all (temp file, then rename). */
async function writeAtomic(path: string, content: string | Buffer): Promise<void> {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw writeFailed(path, error);
  }
}

/**
 * Puts a copy of `source` at `dest`: a hard link when both are on one file system (instant, no
 * extra space, still a real file when the site folder is moved), else a copy. Never writes into
 * an existing `dest` in place, since that may be a link to the user's original.
 */
async function placeFile(source: string, dest: string): Promise<void> {
  await rm(dest, { force: true });
  try {
    await link(source, dest);
    return;
  } catch {
    // Another file system, or links not allowed: copy.
  }
  const temp = `${dest}.${process.pid}.tmp`;
  try {
    await copyFile(source, temp);
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw writeFailed(dest, error);
  }
}

async function readMarker(outDir: string): Promise<Marker | undefined> {
  let text: string;
  try {
    text = await readFile(join(outDir, MARKER_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<Marker>;
    if (parsed.kind === 'falai-gallery' && typeof parsed.files === 'object' && parsed.files)
      return { kind: 'falai-gallery', version: 1, files: parsed.files };
  } catch {
    // A damaged cache is rebuilt; the folder is still a gallery.
  }
  return { kind: 'falai-gallery', version: 1, files: {} };
}

/** Makes sure `outDir` is a gallery folder (or empty) and returns its cache. */
async function openSiteFolder(outDir: string): Promise<Marker> {
  const info = await stat(outDir).catch(() => undefined);
  if (info && !info.isDirectory()) {
    throw new GalleryError(
      'OUTPUT_EXISTS',
      `${outDir} is a file, not a folder. Choose a folder for the gallery with --out <dir>.`,
      { details: { path: outDir } },
    );
  }
  const marker = await readMarker(outDir);
  if (marker) return marker;
  const entries = await readdir(outDir).catch(() => []);
  if (entries.length > 0) {
    throw new GalleryError(
      'OUTPUT_EXISTS',
      `${outDir} already holds files and is not a falai gallery, so the gallery will not write into it (it removes media it no longer shows). Choose a new or empty folder with --out <dir>.`,
      { details: { path: outDir } },
    );
  }
  return { kind: 'falai-gallery', version: 1, files: {} };
}

type Sharp = typeof import('sharp')['default'];
let sharpModule: Promise<Sharp> | undefined;
/** sharp, imported on first use (it is a large native module). */
function loadSharp(): Promise<Sharp> {
  sharpModule ??= import('sharp').then((module) => module.default);
  return sharpModule;
}

/** Width, height and (for large images) a thumbnail; failures leave them out. */
async function imageFacts(
  source: string,
  ext: string,
  size: number,
  outDir: string,
  thumbStem: string,
  box: number,
): Promise<{ width?: number; height?: number; thumb?: string; made: boolean }> {
  if (!THUMB_EXT.has(ext)) return { made: false };
  try {
    const sharp = await loadSharp();
    const meta = await sharp(source, { failOn: 'none' }).metadata();
    const turned = (meta.orientation ?? 1) >= 5;
    const width = turned ? meta.height : meta.width;
    const height = turned ? meta.width : meta.height;
    const dims = width && height ? { width, height } : {};
    if (width && height && width <= box && height <= box && size <= SMALL_IMAGE_BYTES)
      return { ...dims, made: false };
    // JPEG encodes 3-4× faster than WebP; WebP only where there is transparency to keep.
    const thumbRel = `${thumbStem}.${meta.hasAlpha ? 'webp' : 'jpg'}`;
    const dest = join(outDir, thumbRel);
    const temp = `${dest}.${process.pid}.tmp`;
    const resized = sharp(source, { failOn: 'none' })
      .rotate()
      .resize({ width: box, height: box, fit: 'inside', withoutEnlargement: true });
    await (meta.hasAlpha ? resized.webp({ quality: 78 }) : resized.jpeg({ quality: 78 })).toFile(
      temp,
    );
    await rename(temp, dest);
    return { ...dims, thumb: thumbRel, made: true };
  } catch {
    // Not decodable here (or sharp is missing): the card shows the file itself.
    return { made: false };
  }
}

async function videoFacts(
  source: string,
): Promise<{ width?: number; height?: number; durationSeconds?: number }> {
  try {
    const { probeVideo } = await import('@falai/core');
    const probe = await probeVideo(source);
    return {
      width: probe.width,
      height: probe.height,
      durationSeconds: Math.round(probe.durationSeconds * 100) / 100,
    };
  } catch {
    return {};
  }
}

/**
 * Writes the static site: `index.html` (works from `file://`: inline style and script, the
 * data index embedded), `index.json`, `media/` (each output linked or copied, relative paths)
 * and `thumbs/` (JPEG or, for images with transparency, WebP thumbnails made locally with sharp). Builds are incremental: a file whose
 * source did not change is not copied or thumbnailed again, and files no card uses any more are
 * removed. Only `completed` records become cards; one whose files are not on this machine is a
 * card without media that says how to download them.
 */
export async function buildGallery(options: BuildGalleryOptions): Promise<GallerySummary> {
  const outDir = resolve(options.outDir);
  const box = options.thumbnailSize ?? 480;
  const now = options.now ?? (() => new Date());
  const marker = await openSiteFolder(outDir);
  try {
    await mkdir(join(outDir, MEDIA_DIR), { recursive: true });
    await mkdir(join(outDir, THUMB_DIR), { recursive: true });
  } catch (error) {
    throw writeFailed(outDir, error);
  }
  // Marked before anything else is written, so a build that fails half-way (a full disk) leaves
  // a folder the next build recognises as its own instead of refusing it.
  await writeAtomic(join(outDir, MARKER_FILE), `${JSON.stringify(marker)}\n`);
  const completed = options.records.filter((record) => record.status === 'completed');
  const outputs = indexOutputs(completed);

  const jobs = completed.flatMap((record) =>
    (record.outputs ?? []).map((output, index) => ({ record, output, index })),
  );
  const cache: Record<string, CacheEntry> = {};
  let copied = 0;
  let thumbnails = 0;
  const made = await mapLimit(jobs, options.concurrency ?? 4, async ({ record, output, index }) => {
    const source = resolve(output.path);
    const info = await stat(source).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const ext = extensionOf(source, output.mime);
    const stem = `${mediaStem(record.requestId)}-${index}`;
    const rel = `${MEDIA_DIR}/${stem}${ext}`;
    const kind = mediaKind(ext, output.mime);
    const dest = join(outDir, rel);
    const before = marker.files[rel];
    const destInfo = await stat(dest).catch(() => undefined);
    const thumbThere = before?.thumb
      ? await stat(join(outDir, before.thumb)).then(
          () => true,
          () => false,
        )
      : true;
    let entry: CacheEntry;
    if (
      before &&
      before.source === source &&
      before.size === info.size &&
      before.mtimeMs === info.mtimeMs &&
      destInfo?.size === info.size &&
      thumbThere
    ) {
      entry = before;
    } else {
      if (!(await publishable(source))) return REFUSED;
      await placeFile(source, dest);
      copied++;
      let facts: Omit<CacheEntry, 'source' | 'size' | 'mtimeMs'> = {};
      if (kind === 'image') {
        const image = await imageFacts(source, ext, info.size, outDir, `${THUMB_DIR}/${stem}`, box);
        if (image.made) thumbnails++;
        const { made: _made, ...rest } = image;
        facts = rest;
      } else if (kind === 'video') {
        facts = await videoFacts(source);
      }
      entry = { source, size: info.size, mtimeMs: info.mtimeMs, ...facts };
    }
    cache[rel] = entry;
    const media: GalleryMedia = {
      kind,
      src: rel,
      name: `${stem}${ext}`,
      size: info.size,
      ...(output.mime ? { mime: output.mime } : {}),
      ...(entry.thumb ? { thumb: entry.thumb } : {}),
      ...(entry.width ? { width: entry.width } : {}),
      ...(entry.height ? { height: entry.height } : {}),
      ...(entry.durationSeconds ? { durationSeconds: entry.durationSeconds } : {}),
    };
    return media;
  });

  let cursor = 0;
  let files = 0;
  let missingFiles = 0;
  let refusedFiles = 0;
  let withoutFiles = 0;
  const described: GalleryItem[] = completed.map((record) => {
    const count = record.outputs?.length ?? 0;
    const slice = made.slice(cursor, cursor + count);
    const media = slice.filter((m): m is GalleryMedia => typeof m === 'object');
    const refused = slice.filter((m) => m === REFUSED).length;
    cursor += count;
    files += media.length;
    refusedFiles += refused;
    // Not downloaded at all: the result's files are what is missing here.
    const missing = count > 0 ? count - media.length - refused : resultUrls(record.result).length;
    missingFiles += missing;
    if (media.length === 0) withoutFiles++;
    return describeRecord(record, { media, missingFiles: missing, outputs });
  });
  const items = linkChildren(described).sort(
    (a, b) => Date.parse(b.date) - Date.parse(a.date) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );

  const removed = await removeStale(outDir, cache);
  const version = createHash('sha256').update(JSON.stringify(items)).digest('hex').slice(0, 16);
  const data: GalleryData = {
    version,
    title: options.title ?? 'falai gallery',
    generatedAt: now().toISOString(),
    live: options.live ?? false,
    items,
  };
  await writeAtomic(join(outDir, 'index.json'), `${JSON.stringify(data)}\n`);
  await writeAtomic(join(outDir, 'index.html'), renderPage(data));
  const nextMarker: Marker = { kind: 'falai-gallery', version: 1, files: cache };
  await writeAtomic(join(outDir, MARKER_FILE), `${JSON.stringify(nextMarker)}\n`);
  return {
    outDir,
    index: join(outDir, 'index.html'),
    version,
    items: items.length,
    files,
    withoutFiles,
    missingFiles,
    refusedFiles,
    skipped: options.records.length - completed.length,
    copied,
    thumbnails,
    removed,
  };
}

/** Removes media and thumbnails no card uses (the folder is the gallery's own). */
async function removeStale(outDir: string, cache: Record<string, CacheEntry>): Promise<number> {
  const keep = new Set<string>();
  for (const [rel, entry] of Object.entries(cache)) {
    keep.add(rel);
    if (entry.thumb) keep.add(entry.thumb);
  }
  let removed = 0;
  for (const dir of [MEDIA_DIR, THUMB_DIR]) {
    const names = await readdir(join(outDir, dir)).catch(() => [] as string[]);
    for (const name of names) {
      const rel = `${dir}/${name}`;
      if (keep.has(rel)) continue;
      await rm(join(outDir, rel), { force: true, recursive: true });
      removed++;
    }
  }
  return removed;
}
