/**
 * JPEG XMP (XMP spec part 3, §1.1.3): one APP1 segment starting with the XMP namespace. falai
 * inserts it after the leading APP0 (JFIF) / APP1 (Exif) segments, or replaces the XMP segment
 * the file has (merging falai's description into it). Everything else, the entropy-coded image
 * data above all, is copied byte for byte, so the decoded pixels cannot change.
 */

const XMP_NAMESPACE = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
/** The most a JPEG segment's payload holds (its length field counts itself). */
const MAX_SEGMENT_PAYLOAD = 0xffff - 2;

/** True for bytes that start like a JPEG (SOI then a marker). */
export function isJpeg(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

interface Segment {
  readonly marker: number;
  readonly start: number;
  readonly end: number;
  readonly payload: Buffer;
}

/** The marker segments before the image data (up to, not including, SOS). */
function headerSegments(bytes: Buffer): { segments: Segment[]; dataStart: number } {
  const segments: Segment[] = [];
  let at = 2;
  for (;;) {
    if (at + 4 > bytes.length) throw new Error('JPEG ends before its image data');
    if (bytes[at] !== 0xff) throw new Error(`JPEG: no marker at byte ${at}`);
    let markerAt = at + 1;
    while (bytes[markerAt] === 0xff) markerAt += 1; // fill bytes
    const marker = bytes[markerAt] as number;
    if (marker === 0xda || marker === 0xd9) return { segments, dataStart: at };
    // Standalone markers (TEM, RSTn) carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at = markerAt + 1;
      continue;
    }
    const length = bytes.readUInt16BE(markerAt + 1);
    const end = markerAt + 1 + length;
    if (length < 2 || end > bytes.length) throw new Error('JPEG segment runs past the end');
    segments.push({ marker, start: at, end, payload: bytes.subarray(markerAt + 3, end) });
    at = end;
  }
}

function isXmpSegment(segment: Segment): boolean {
  return (
    segment.marker === 0xe1 &&
    segment.payload.length >= XMP_NAMESPACE.length &&
    segment.payload.subarray(0, XMP_NAMESPACE.length).equals(XMP_NAMESPACE)
  );
}

/** The XMP packet of a JPEG (its standard APP1 segment), if it has one. */
export function readJpegXmp(bytes: Buffer): string | undefined {
  const xmp = headerSegments(bytes).segments.filter(isXmpSegment).pop();
  return xmp?.payload.subarray(XMP_NAMESPACE.length).toString('utf8');
}

/**
 * A copy of a JPEG whose XMP segment is `makeXmp(existing)`. Throws when the packet does not
 * fit one segment (64 KiB).
 */
export function writeJpegXmp(
  bytes: Buffer,
  makeXmp: (existing: string | undefined) => string,
): Buffer {
  const { segments } = headerSegments(bytes);
  const existing = segments.filter(isXmpSegment).pop();
  const packet = Buffer.from(
    makeXmp(existing?.payload.subarray(XMP_NAMESPACE.length).toString('utf8')),
    'utf8',
  );
  const payloadLength = XMP_NAMESPACE.length + packet.length;
  if (payloadLength > MAX_SEGMENT_PAYLOAD) {
    throw new Error(`the XMP packet (${packet.length} bytes) does not fit a JPEG segment`);
  }
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(payloadLength + 2, 2);
  const segment = Buffer.concat([head, XMP_NAMESPACE, packet]);
  if (existing) {
    return Buffer.concat([
      bytes.subarray(0, existing.start),
      segment,
      bytes.subarray(existing.end),
    ]);
  }
  // After the leading JFIF/Exif/other APPn segments that must come first.
  let insertAt = 2;
  for (const item of segments) {
    if (item.marker !== 0xe0 && item.marker !== 0xe1) break;
    insertAt = item.end;
  }
  return Buffer.concat([bytes.subarray(0, insertAt), segment, bytes.subarray(insertAt)]);
}
