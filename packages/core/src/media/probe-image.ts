import { MediaError } from '../errors/falai-error.js';
import { type MediaSource, openReader, readHead, sourceName, sourceSize } from './bytes.js';
import { sniffFile } from './sniff.js';

/** Format and dimensions of an image, read from its bytes. */
export interface ImageProbe {
  /** file-type extension: `jpg`, `png`, `webp`, `gif`, … */
  readonly format: string;
  readonly mime: string;
  readonly width: number;
  readonly height: number;
  readonly size: number;
}

const END_MARKERS: Record<string, readonly number[]> = {
  png: [0x49, 0x45, 0x4e, 0x44], // IEND
  jpg: [0xff, 0xd9], // EOI
};

function contains(hay: Uint8Array, needle: readonly number[]): boolean {
  outer: for (let i = hay.byteLength - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** PNG and JPEG end with a marker; a file without it was cut short. */
async function checkComplete(source: MediaSource, ext: string, name: string): Promise<void> {
  const marker = END_MARKERS[ext];
  if (!marker) return;
  const reader = await openReader(source);
  try {
    const tailLength = Math.min(reader.size, 1024);
    const tail = await reader.read(reader.size - tailLength, tailLength);
    if (!contains(tail, marker)) {
      throw new MediaError(
        `${name} is truncated or damaged: the ${ext.toUpperCase()} end marker is missing. Download or export it again.`,
      );
    }
  } finally {
    await reader.close();
  }
}

/**
 * Reads an image's real format and size from its content (file-type + image-size).
 * Anything that is not a readable image becomes a MediaError naming what it really is.
 */
export async function probeImage(source: MediaSource): Promise<ImageProbe> {
  const name = sourceName(source);
  const size = await sourceSize(source);
  const sniffed = await sniffFile(source);
  if (sniffed.kind !== 'image') {
    throw new MediaError(
      `${name} is not an image: its content is ${sniffed.mime}. Give a JPEG, PNG, WebP or GIF file.`,
    );
  }
  await checkComplete(source, sniffed.ext, name);
  const { imageSize } = await import('image-size');
  try {
    // Dimensions live in the header for every common format; 512 KB covers JPEGs with big EXIF.
    const bytes = typeof source === 'string' ? await readHead(source, 512 * 1024) : source;
    const dims = imageSize(bytes);
    if (!dims.width || !dims.height) throw new Error('no dimensions in the header');
    const rotated = dims.orientation !== undefined && dims.orientation >= 5;
    return {
      format: sniffed.ext,
      mime: sniffed.mime,
      width: rotated ? dims.height : dims.width,
      height: rotated ? dims.width : dims.height,
      size,
    };
  } catch (error) {
    throw new MediaError(
      `${name} looks like ${sniffed.ext.toUpperCase()} but its dimensions cannot be read (${(error as Error).message}); the file may be truncated or damaged. Re-export it.`,
      { cause: error },
    );
  }
}
