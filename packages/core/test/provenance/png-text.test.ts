import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  MAX_PNG_TEXT_BYTES,
  PNG_SIGNATURE,
  PNG_XMP_KEYWORD,
  readPngText,
  writePngText,
} from '../../src/provenance/png.js';

/** One PNG chunk: length, type, data, CRC over type + data. */
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** `zTXt`: keyword, NUL, method 0, zlib data. */
const zTxt = (keyword: string, compressed: Buffer) =>
  chunk('zTXt', Buffer.concat([Buffer.from(`${keyword}\0\0`, 'latin1'), compressed]));

/** `iTXt`, compressed: keyword, NUL, flag 1, method 0, empty language and translation. */
const iTxt = (keyword: string, compressed: Buffer) =>
  chunk('iTXt', Buffer.concat([Buffer.from(`${keyword}\0\x01\0\0\0`, 'latin1'), compressed]));

function png(...texts: Buffer[]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header[8] = 8;
  header[9] = 2;
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    ...texts,
    chunk('IDAT', deflateSync(Buffer.from([0, 0, 0, 0]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** 64 MiB of zeros: a few kilobytes of zlib. */
const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024));

describe('PNG text chunks from a hostile file', () => {
  it('reads compressed falai text within the bound', () => {
    const json = JSON.stringify({ prompt: 'a lighthouse' });
    const texts = readPngText(png(iTxt('falai', deflateSync(Buffer.from(json)))));
    expect(texts.get('falai')).toBe(json);
  });

  it('treats a compressed chunk that inflates past the bound as damage, not as text', () => {
    expect(bomb.length).toBeLessThan(MAX_PNG_TEXT_BYTES);
    const texts = readPngText(
      png(
        zTxt('falai', bomb),
        iTxt(PNG_XMP_KEYWORD, bomb),
        chunk('tEXt', Buffer.from('parameters\0steps: 20', 'latin1')),
      ),
    );
    expect(texts.has('falai')).toBe(false);
    expect(texts.has(PNG_XMP_KEYWORD)).toBe(false);
    expect(texts.get('parameters')).toBe('steps: 20');
  });

  it('never inflates the text of keywords falai does not read', () => {
    const texts = readPngText(png(zTxt('Comment', bomb), iTxt('Description', bomb)));
    expect([...texts.keys()]).toEqual([]);
  });

  it('reads only the last chunk of a keyword: copies before it are never inflated', () => {
    const json = JSON.stringify({ prompt: 'the last one' });
    // Forty bombs that inflate to the bound each, then the real text: read as the last.
    const copies = Array.from({ length: 40 }, () => zTxt('falai', bomb));
    const texts = readPngText(png(...copies, iTxt('falai', deflateSync(Buffer.from(json)))));
    expect(texts.get('falai')).toBe(json);
  });

  it('replaces a damaged or oversized falai chunk on rewrite instead of keeping it', () => {
    const json = JSON.stringify({ prompt: 'fresh' });
    const before = png(zTxt('falai', bomb), chunk('tEXt', Buffer.from('Comment\0kept', 'latin1')));
    const after = writePngText(before, { json });
    expect(readPngText(after).get('falai')).toBe(json);
    // The bomb's chunk is gone; the foreign comment stays byte for byte.
    expect(after.includes(bomb)).toBe(false);
    expect(after.includes(Buffer.from('Comment\0kept', 'latin1'))).toBe(true);
  });
});
