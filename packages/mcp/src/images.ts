import { readFile, stat } from 'node:fs/promises';
import { type OutputFile, sniffFile } from '@falai/core';

/** An image as MCP image content: base64 bytes and their media type. */
export interface InlineImage {
  readonly type: 'image';
  readonly data: string;
  readonly mimeType: string;
}

/** What inlining the images of a result did. */
export interface InlinedImages {
  readonly images: InlineImage[];
  /** Why an image was not inlined (too large without sharp, unreadable, over the count). */
  readonly notes: string[];
}

/** Options of {@link inlineImages}. */
export interface InlineImagesOptions {
  /** Largest image sent inline, in bytes (after downscaling). @default 1_000_000 */
  readonly maxBytes?: number;
  /** Most images inlined in one result. @default 4 */
  readonly maxImages?: number;
}

/** Media types MCP clients display as they are. */
const DISPLAYABLE = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

/** Longest sides tried when an image must shrink to fit (px). */
const SIDES = [1536, 1024, 768, 512, 384];

/** Larger files are never read whole: they would only be downscaled, from a bounded read. */
const MAX_SOURCE_BYTES = 64 * 1024 * 1024;

type SharpModule = typeof import('sharp')['default'];
let sharpModule: Promise<SharpModule | undefined> | undefined;

/** sharp, when installed (an optional dependency); loaded on first use only. */
function loadSharp(): Promise<SharpModule | undefined> {
  sharpModule ??= import('sharp').then(
    (module) => module.default,
    () => undefined,
  );
  return sharpModule;
}

/**
 * The saved image files of a result as MCP image content, each at most `maxBytes`: small ones
 * as they are, larger ones downscaled with sharp (JPEG, or WebP when there is transparency)
 * until they fit. Without sharp, an image over the bound is left out with a note (its path is
 * in the result anyway). Only regular files whose media type is an image are read.
 */
export async function inlineImages(
  files: readonly OutputFile[],
  options: InlineImagesOptions = {},
): Promise<InlinedImages> {
  const maxBytes = options.maxBytes ?? 1_000_000;
  const maxImages = options.maxImages ?? 4;
  const images: InlineImage[] = [];
  const notes: string[] = [];
  const candidates = files.filter((file) => (file.mime ?? '').startsWith('image/'));
  for (const file of candidates) {
    if (images.length >= maxImages) {
      notes.push(
        `${candidates.length - images.length} more image(s) not shown inline (at most ${maxImages}); open them by path.`,
      );
      break;
    }
    try {
      const image = await inlineOne(file, maxBytes);
      if (typeof image === 'string') notes.push(image);
      else images.push(image);
    } catch (error) {
      notes.push(`${file.path} could not be shown inline (${(error as Error).message}).`);
    }
  }
  return { images, notes };
}

async function inlineOne(file: OutputFile, maxBytes: number): Promise<InlineImage | string> {
  const info = await stat(file.path);
  if (!info.isFile()) return `${file.path} is not a regular file; not shown inline.`;
  // The bytes decide, not the record: a shared or edited store can name any file as an image.
  const { mime } = await sniffFile(file.path);
  if (!mime.startsWith('image/')) return `${file.path} is not an image; not shown inline.`;
  if (info.size <= maxBytes && DISPLAYABLE.has(mime)) {
    const bytes = await readFile(file.path);
    return { type: 'image', data: bytes.toString('base64'), mimeType: mime };
  }
  if (info.size > MAX_SOURCE_BYTES) {
    return `${file.path} is too large (${info.size} bytes) to preview inline; open it by path.`;
  }
  const sharp = await loadSharp();
  if (!sharp) {
    return `${file.path} is over ${maxBytes} bytes and sharp is not installed to shrink it; open it by path.`;
  }
  const source = await readFile(file.path);
  const metadata = await sharp(source).metadata();
  const alpha = metadata.hasAlpha === true;
  for (const side of SIDES) {
    const pipeline = sharp(source, { limitInputPixels: 268_402_689 })
      .rotate()
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true });
    const out = alpha
      ? await pipeline.webp({ quality: 80 }).toBuffer()
      : await pipeline.jpeg({ quality: 80, mozjpeg: true }).toBuffer();
    if (out.length <= maxBytes) {
      return {
        type: 'image',
        data: out.toString('base64'),
        mimeType: alpha ? 'image/webp' : 'image/jpeg',
      };
    }
  }
  return `${file.path} could not be shrunk under ${maxBytes} bytes; open it by path.`;
}
