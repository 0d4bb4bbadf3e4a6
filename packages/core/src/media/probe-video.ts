import { MediaError } from '../errors/falai-error.js';
import { type ByteReader, type MediaSource, openReader, sourceName } from './bytes.js';
import { sniffFile } from './sniff.js';

/** Container facts of an MP4/MOV video, read from its boxes. */
export interface VideoProbe {
  readonly container: 'mp4' | 'mov';
  readonly mime: string;
  readonly durationSeconds: number;
  readonly width: number;
  readonly height: number;
  readonly size: number;
}

const FOURCC = /^[\x20-\x7e]{4}$/;

/**
 * Walks the top-level ISO-BMFF boxes. mediabunny happily reads the header of a file whose
 * media data was cut off, so this catches truncated downloads and copies first.
 */
async function checkBoxes(reader: ByteReader, name: string): Promise<void> {
  let offset = 0;
  let sawMoov = false;
  while (offset < reader.size) {
    const head = await reader.read(offset, 16);
    if (head.byteLength < 8) {
      throw new MediaError(
        `${name} is truncated: it ends in the middle of a box header. Download or copy it again.`,
      );
    }
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const type = String.fromCharCode(...head.subarray(4, 8));
    if (!FOURCC.test(type)) {
      throw new MediaError(`${name} is damaged: unreadable box at byte ${offset}. Re-export it.`);
    }
    let size = view.getUint32(0);
    if (size === 1) {
      if (head.byteLength < 16) throw new MediaError(`${name} is truncated inside box '${type}'.`);
      size = Number(view.getBigUint64(8));
    } else if (size === 0) {
      size = reader.size - offset;
    }
    if (size < 8) {
      throw new MediaError(`${name} is damaged: box '${type}' at byte ${offset} has size ${size}.`);
    }
    if (type === 'moov') sawMoov = true;
    if (offset + size > reader.size) {
      throw new MediaError(
        `${name} is truncated: box '${type}' needs ${size} bytes but only ${reader.size - offset} remain. The download or copy was cut short; get the complete file.`,
      );
    }
    offset += size;
  }
  if (!sawMoov) {
    throw new MediaError(
      `${name} has no 'moov' box (no track index), so it is incomplete, e.g. an interrupted recording. Re-export it.`,
    );
  }
}

/**
 * Reads duration and resolution of an MP4/MOV from its container with mediabunny (pure TS,
 * no ffprobe). Not a video, truncated or damaged → MediaError with what to do.
 */
export async function probeVideo(source: MediaSource): Promise<VideoProbe> {
  const name = sourceName(source);
  const sniffed = await sniffFile(source);
  const container =
    sniffed.ext === 'mp4' || sniffed.ext === 'm4v'
      ? 'mp4'
      : sniffed.ext === 'mov'
        ? 'mov'
        : undefined;
  if (!container) {
    throw new MediaError(
      `${name} is not an MP4 or MOV video: its content is ${sniffed.mime}. Convert it, e.g. \`ffmpeg -i input -c:v libx264 output.mp4\`.`,
    );
  }
  const reader = await openReader(source);
  try {
    await checkBoxes(reader, name);
  } finally {
    await reader.close();
  }
  const mb = await import('mediabunny');
  const input = new mb.Input({
    source:
      typeof source === 'string' ? new mb.FilePathSource(source) : new mb.BufferSource(source),
    formats: [mb.MP4, mb.QTFF],
  });
  try {
    const track = await input.getPrimaryVideoTrack();
    if (!track) {
      throw new MediaError(`${name} has no video track. Give a file with a video stream.`);
    }
    const durationSeconds = await input.computeDuration();
    const width = track.displayWidth;
    const height = track.displayHeight;
    if (!(durationSeconds > 0) || !(width > 0) || !(height > 0)) {
      throw new MediaError(
        `${name} has no readable duration or frame size; it may be damaged. Re-export it.`,
      );
    }
    return {
      container,
      mime: container === 'mov' ? 'video/quicktime' : 'video/mp4',
      durationSeconds,
      width,
      height,
      size: reader.size,
    };
  } catch (error) {
    if (error instanceof MediaError) throw error;
    throw new MediaError(
      `${name} cannot be read as ${container.toUpperCase()} (${(error as Error).message}); it may be damaged. Re-export it.`,
      { cause: error },
    );
  } finally {
    input.dispose();
  }
}
