/**
 * WebP XMP (the WebP container spec, "Extended File Format"): an `XMP ` chunk at the end, and
 * the XMP flag in the `VP8X` header chunk. A simple file (one `VP8 ` or `VP8L` chunk) gets a
 * `VP8X` chunk first, its canvas size read from the bitstream header. The image chunks are
 * copied byte for byte, so the decoded pixels cannot change.
 */

const XMP_FLAG = 0x04;
const ALPHA_FLAG = 0x10;

/** True for bytes that start like a WebP file (`RIFF....WEBP`). */
export function isWebp(head: Uint8Array): boolean {
  const b = Buffer.from(head.subarray(0, 12));
  return (
    b.length >= 12 &&
    b.toString('latin1', 0, 4) === 'RIFF' &&
    b.toString('latin1', 8, 12) === 'WEBP'
  );
}

interface RiffChunk {
  readonly fourcc: string;
  readonly start: number;
  /** Past the padding byte. */
  readonly end: number;
  readonly data: Buffer;
}

function riffChunks(bytes: Buffer): RiffChunk[] {
  const out: RiffChunk[] = [];
  const riffEnd = Math.min(bytes.length, 8 + bytes.readUInt32LE(4));
  let at = 12;
  while (at + 8 <= riffEnd) {
    const fourcc = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const dataEnd = at + 8 + size;
    if (dataEnd > riffEnd) throw new Error(`WebP chunk ${fourcc} runs past the end`);
    const end = Math.min(riffEnd, dataEnd + (size % 2));
    out.push({ fourcc, start: at, end, data: bytes.subarray(at + 8, dataEnd) });
    at = end;
  }
  return out;
}

function riffChunk(fourcc: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(fourcc, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat(data.length % 2 ? [head, data, Buffer.alloc(1)] : [head, data]);
}

/** The canvas size and alpha of a simple WebP's image chunk. */
function canvasOf(image: RiffChunk): { width: number; height: number; alpha: boolean } {
  const d = image.data;
  if (image.fourcc === 'VP8 ') {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
    if (d.length < 10 || d[3] !== 0x9d || d[4] !== 0x01 || d[5] !== 0x2a) {
      throw new Error('WebP VP8 bitstream has no key frame header');
    }
    return { width: d.readUInt16LE(6) & 0x3fff, height: d.readUInt16LE(8) & 0x3fff, alpha: false };
  }
  if (image.fourcc === 'VP8L') {
    if (d.length < 5 || d[0] !== 0x2f) throw new Error('WebP VP8L bitstream has no signature');
    const bits = d.readUInt32LE(1);
    return {
      width: (bits & 0x3fff) + 1,
      height: ((bits >>> 14) & 0x3fff) + 1,
      alpha: ((bits >>> 28) & 1) === 1,
    };
  }
  throw new Error(`WebP starts with an unexpected ${image.fourcc} chunk`);
}

function vp8x(flags: number, width: number, height: number): Buffer {
  const data = Buffer.alloc(10);
  data[0] = flags;
  data.writeUIntLE(width - 1, 4, 3);
  data.writeUIntLE(height - 1, 7, 3);
  return riffChunk('VP8X', data);
}

/** The XMP packet of a WebP file, if it has one. */
export function readWebpXmp(bytes: Buffer): string | undefined {
  return riffChunks(bytes)
    .filter((item) => item.fourcc === 'XMP ')
    .pop()
    ?.data.toString('utf8');
}

/** A copy of a WebP file whose XMP chunk is `makeXmp(existing)`. */
export function writeWebpXmp(
  bytes: Buffer,
  makeXmp: (existing: string | undefined) => string,
): Buffer {
  const all = riffChunks(bytes);
  const existing = all
    .filter((item) => item.fourcc === 'XMP ')
    .pop()
    ?.data.toString('utf8');
  const xmp = riffChunk('XMP ', Buffer.from(makeXmp(existing), 'utf8'));
  const kept = all.filter((item) => item.fourcc !== 'XMP ');
  const parts: Buffer[] = [];
  const first = kept[0];
  if (!first) throw new Error('WebP file has no chunks');
  if (first.fourcc === 'VP8X') {
    const header = Buffer.from(bytes.subarray(first.start, first.end));
    header[8] = (header[8] as number) | XMP_FLAG;
    parts.push(header);
    for (const item of kept.slice(1)) parts.push(bytes.subarray(item.start, item.end));
  } else {
    const canvas = canvasOf(first);
    parts.push(vp8x(XMP_FLAG | (canvas.alpha ? ALPHA_FLAG : 0), canvas.width, canvas.height));
    for (const item of kept) parts.push(bytes.subarray(item.start, item.end));
  }
  parts.push(xmp);
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length + 4, 4);
  head.write('WEBP', 8, 'latin1');
  return Buffer.concat([head, body]);
}
