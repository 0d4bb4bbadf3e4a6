import type { FileHandle } from 'node:fs/promises';

/**
 * MP4/MOV XMP (XMP spec part 3, §1.2.7): a top-level `uuid` box with Adobe's XMP UUID. falai
 * appends it at the end of the file, so no sample offset (`stco`/`co64`) moves and the media
 * data is not touched; an earlier XMP box is turned into a `free` box of the same size (its
 * XMP merged into the new one). Only box headers are read, never the media data.
 */

/** Adobe's UUID for XMP in ISO base media files. */
const XMP_UUID = Buffer.from('be7acfcb97a942e89c71999491e3afac', 'hex');
/** Top-level box types a QuickTime/ISO media file may start with. */
const FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot']);
/** The largest XMP packet read back. */
const MAX_XMP_BYTES = 4 * 1024 * 1024;
/** Top-level boxes walked at most (real files have a handful). */
const MAX_BOXES = 100_000;

/** True for bytes that start like an ISO base media file (MP4, MOV, M4V). */
export function isIsoMedia(head: Uint8Array): boolean {
  return head.length >= 8 && FIRST_BOXES.has(Buffer.from(head.subarray(4, 8)).toString('latin1'));
}

interface Box {
  readonly type: string;
  readonly start: number;
  /** Header bytes (8, 16 with a 64-bit size, plus 16 for a uuid). */
  readonly header: number;
  readonly size: number;
  /** True when the box's size field is 0 ("to the end of the file"). */
  readonly open: boolean;
  readonly uuid?: Buffer;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The top-level boxes. `damaged` is set when a box runs past the end of the file. */
async function topBoxes(
  handle: FileHandle,
  fileSize: number,
): Promise<{ boxes: Box[]; damaged: boolean }> {
  const boxes: Box[] = [];
  let at = 0;
  while (at + 8 <= fileSize && boxes.length < MAX_BOXES) {
    const head = await readAt(handle, at, 32);
    if (head.length < 8) break;
    let size = head.readUInt32BE(0);
    const type = head.toString('latin1', 4, 8);
    let header = 8;
    let open = false;
    if (size === 1) {
      if (head.length < 16) return { boxes, damaged: true };
      size = Number(head.readBigUInt64BE(8));
      header = 16;
    } else if (size === 0) {
      size = fileSize - at;
      open = true;
    }
    let uuid: Buffer | undefined;
    if (type === 'uuid') {
      if (head.length < header + 16) return { boxes, damaged: true };
      uuid = Buffer.from(head.subarray(header, header + 16));
      header += 16;
    }
    if (size < header || at + size > fileSize) return { boxes, damaged: true };
    boxes.push({ type, start: at, header, size, open, ...(uuid ? { uuid } : {}) });
    at += size;
  }
  return { boxes, damaged: false };
}

const isXmpBox = (box: Box): boolean =>
  box.type === 'uuid' && box.uuid !== undefined && box.uuid.equals(XMP_UUID);

async function xmpOf(handle: FileHandle, box: Box): Promise<string | undefined> {
  const length = box.size - box.header;
  if (length > MAX_XMP_BYTES) return undefined;
  return (await readAt(handle, box.start + box.header, length)).toString('utf8');
}

/** The XMP packet of an MP4/MOV file (its last XMP `uuid` box), if it has one. */
export async function readMp4Xmp(handle: FileHandle): Promise<string | undefined> {
  const { size } = await handle.stat();
  const { boxes } = await topBoxes(handle, size);
  const box = boxes.filter(isXmpBox).pop();
  return box ? xmpOf(handle, box) : undefined;
}

/**
 * Appends an XMP `uuid` box holding `makeXmp(existing)` to an MP4/MOV file opened for reading
 * and writing, then turns earlier XMP boxes into `free` boxes. A last box whose size is 0
 * ("to the end") gets its real size first. Throws on a damaged box structure.
 */
export async function writeMp4Xmp(
  handle: FileHandle,
  makeXmp: (existing: string | undefined) => string,
): Promise<void> {
  const { size: fileSize } = await handle.stat();
  const { boxes, damaged } = await topBoxes(handle, fileSize);
  if (damaged || boxes.length === 0) throw new Error('the MP4 box structure is damaged');
  const old = boxes.filter(isXmpBox);
  const last = old[old.length - 1];
  const existing = last ? await xmpOf(handle, last) : undefined;
  const packet = Buffer.from(makeXmp(existing), 'utf8');
  const tail = boxes[boxes.length - 1] as Box;
  if (tail.open) {
    if (tail.header === 16 || tail.size > 0xffffffff) {
      throw new Error('the last MP4 box runs to the end of the file and is too large to close');
    }
    const size = Buffer.alloc(4);
    size.writeUInt32BE(tail.size, 0);
    await handle.write(size, 0, 4, tail.start);
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + 16 + packet.length, 0);
  head.write('uuid', 4, 'latin1');
  const box = Buffer.concat([head, XMP_UUID, packet]);
  await handle.write(box, 0, box.length, fileSize);
  await handle.sync();
  // The new box is in place: only now do the old ones stop counting.
  for (const item of old) {
    await handle.write(Buffer.from('free', 'latin1'), 0, 4, item.start + 4);
  }
  if (old.length > 0) await handle.sync();
}
