import { crc32, inflateSync } from 'node:zlib';

/**
 * PNG text chunks (PNG spec §11.3.4): falai writes its provenance JSON as an `iTXt` chunk
 * with the keyword `falai`, a `parameters` text in the style of AUTOMATIC1111 (prompt, then
 * `Seed: …, Model: …`), and its XMP packet (`XML:com.adobe.xmp`), all before the first
 * `IDAT`. The image data chunks are copied byte for byte.
 */

export const PNG_SIGNATURE: Buffer = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The keyword of the XMP packet in PNG (XMP spec part 3, §1.1.5). */
export const PNG_XMP_KEYWORD = 'XML:com.adobe.xmp';

interface PngChunk {
  readonly type: string;
  /** Offset of the chunk's length field. */
  readonly start: number;
  /** Offset just past its CRC. */
  readonly end: number;
  readonly data: Buffer;
}

/** True for bytes that start with the PNG signature. */
export function isPng(head: Uint8Array): boolean {
  return head.length >= 8 && Buffer.from(head.subarray(0, 8)).equals(PNG_SIGNATURE);
}

/** The chunks of a PNG, up to `IEND`. Throws on a chunk that runs past the end. */
function chunks(bytes: Buffer): PngChunk[] {
  const out: PngChunk[] = [];
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (end > bytes.length) throw new Error(`PNG chunk ${type} runs past the end of the file`);
    out.push({ type, start: at, end, data: bytes.subarray(at + 8, at + 8 + length) });
    at = end;
    if (type === 'IEND') break;
  }
  return out;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(Buffer.from(type, 'latin1'))) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A text chunk: `tEXt` when the text is Latin-1, else `iTXt` (UTF-8, uncompressed). */
function textChunk(keyword: string, text: string, forceInternational = false): Buffer {
  const latin1 = !forceInternational && /^[\u0000-\u00ff]*$/.test(text) && !text.includes('\0');
  if (latin1) {
    return chunk(
      'tEXt',
      Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), Buffer.from(text, 'latin1')]),
    );
  }
  return chunk(
    'iTXt',
    Buffer.concat([
      Buffer.from(`${keyword}\0`, 'latin1'),
      Buffer.from([0, 0]), // not compressed, method 0
      Buffer.from('\0\0', 'latin1'), // no language tag, no translated keyword
      Buffer.from(text, 'utf8'),
    ]),
  );
}

/**
 * The most text one compressed chunk may inflate to (a hostile file can pack gigabytes into a
 * few kilobytes of zlib); past it the chunk reads as damage.
 */
export const MAX_PNG_TEXT_BYTES = 4 * 1024 * 1024;

/** The keywords whose text falai reads; the text of other chunks is never inflated. */
const READ_KEYWORDS: ReadonlySet<string> = new Set(['falai', 'parameters', PNG_XMP_KEYWORD]);

const inflate = (body: Buffer): Buffer =>
  inflateSync(body, { maxOutputLength: MAX_PNG_TEXT_BYTES });

/** A text chunk (`tEXt`, `zTXt`, `iTXt`): its keyword and where its text starts. */
function textKeyword(item: PngChunk): { keyword: string; nul: number } | undefined {
  const { type, data } = item;
  if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') return undefined;
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79) return undefined;
  return { keyword: data.toString('latin1', 0, nul), nul };
}

/**
 * The text of a chunk whose keyword falai reads, inflated within {@link MAX_PNG_TEXT_BYTES};
 * undefined for damage (or text past the bound).
 */
function decodeText(item: PngChunk, nul: number): string | undefined {
  const { type, data } = item;
  try {
    if (type === 'tEXt') return data.toString('latin1', nul + 1);
    if (type === 'zTXt') return inflate(data.subarray(nul + 2)).toString('latin1');
    const compressed = data[nul + 1] === 1;
    const language = data.indexOf(0, nul + 3);
    const translated = language < 0 ? -1 : data.indexOf(0, language + 1);
    if (translated < 0) return undefined;
    const body = data.subarray(translated + 1);
    return (compressed ? inflate(body) : body).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * The last text chunk of `keyword` (text may sit before or after the image data): its index
 * and its text (undefined when damaged). Only that one is inflated, so a file packed with
 * copies costs one bounded inflate per keyword.
 */
function lastText(
  all: readonly PngChunk[],
  keyword: string,
): { index: number; text: string | undefined } | undefined {
  for (let index = all.length - 1; index >= 0; index--) {
    const item = all[index] as PngChunk;
    const found = textKeyword(item);
    if (found?.keyword === keyword) return { index, text: decodeText(item, found.nul) };
  }
  return undefined;
}

/** The text chunks falai reads, by keyword (the last of each): `falai`, `parameters`, XMP. */
export function readPngText(bytes: Buffer): Map<string, string> {
  const all = chunks(bytes).filter((item) => item.type !== 'IDAT' && item.type !== 'IEND');
  const out = new Map<string, string>();
  for (const keyword of READ_KEYWORDS) {
    const text = lastText(all, keyword)?.text;
    if (text !== undefined) out.set(keyword, text);
  }
  return out;
}

/** What {@link writePngText} puts in. */
export interface PngText {
  /** The provenance JSON (`iTXt falai`). */
  readonly json: string;
  /** The AUTOMATIC1111-style `parameters` text; written only when no other tool's is there. */
  readonly parameters?: string;
  /** The XMP packet, given the existing one (merged by the caller). */
  readonly xmp?: (existing: string | undefined) => string;
}

/**
 * A copy of a PNG with falai's text chunks (replacing earlier ones of falai's) placed right
 * before the first `IDAT`. Every other chunk is copied byte for byte.
 */
export function writePngText(bytes: Buffer, text: PngText): Buffer {
  const all = chunks(bytes);
  const firstData = all.findIndex((item) => item.type === 'IDAT');
  if (all[0]?.type !== 'IHDR' || firstData < 0) throw new Error('not a PNG image (no IHDR/IDAT)');
  // Chunks are told by keyword alone; a damaged or oversized falai chunk is replaced too.
  const keywords = all.map((item) => textKeyword(item)?.keyword);
  const hadOurs = keywords.includes('falai');
  const foreignParameters = !hadOurs && keywords.includes('parameters');
  const existingXmp = text.xmp ? lastText(all, PNG_XMP_KEYWORD)?.text : undefined;
  const drop = (index: number): boolean => {
    const keyword = keywords[index];
    if (keyword === 'falai') return true;
    if (keyword === 'parameters') return hadOurs && text.parameters !== undefined;
    return keyword === PNG_XMP_KEYWORD && text.xmp !== undefined;
  };
  const inserted: Buffer[] = [textChunk('falai', text.json, true)];
  if (text.parameters !== undefined && !foreignParameters) {
    inserted.push(textChunk('parameters', text.parameters));
  }
  if (text.xmp) inserted.push(textChunk(PNG_XMP_KEYWORD, text.xmp(existingXmp), true));
  const parts: Buffer[] = [bytes.subarray(0, 8)];
  all.forEach((item, index) => {
    if (index === firstData) parts.push(...inserted);
    if (!drop(index)) parts.push(bytes.subarray(item.start, item.end));
  });
  const last = all[all.length - 1];
  if (last && last.end < bytes.length) parts.push(bytes.subarray(last.end));
  return Buffer.concat(parts);
}
