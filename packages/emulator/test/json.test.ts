import { describe, expect, it } from 'vitest';
import { parseExact, pythonDumps, pythonNumber, stringifyExact } from '../src/json.js';
import { paced } from '../src/transfer.js';

/** The real delivery of reference §14, byte for byte as fal signed it (ids shortened there). */
const REAL_DELIVERY =
  '{"error": null, "gateway_request_id": "5057fca7-0000", "payload": {"has_nsfw_concepts": [false], "images": [{"content_type": "image/jpeg", "height": 1024, "url": "https://v3.fal.media/files/lion/x.jpeg", "width": 1024}], "prompt": "dog", "seed": 17454220438242315174, "timings": {"inference": 2.107286686077714}}, "request_id": "5057fca7-0000", "status": "OK"}';

describe('exact JSON', () => {
  it('reads integers beyond 2^53 as bigint and writes their digits back', () => {
    const parsed = parseExact(REAL_DELIVERY) as { payload: { seed: unknown } };
    expect(parsed.payload.seed).toBe(17454220438242315174n);
    expect(stringifyExact(parsed)).toContain('"seed":17454220438242315174');
    // What JSON.parse would have done.
    expect(String(JSON.parse(REAL_DELIVERY).payload.seed)).not.toBe('17454220438242315174');
  });

  it('keeps small integers, floats and strings as JSON.parse does', () => {
    const text = '{"a":[1,-2.5e3,"x\\u00e9\\"",true,null],"b":{"c":9007199254740991}}';
    const value = parseExact(`{"n":12345678901234567890,"rest":${text}}`) as Record<
      string,
      unknown
    >;
    expect(value.rest).toEqual(JSON.parse(text));
    expect(() => parseExact('{"n":12345678901234567890,}')).toThrow(SyntaxError);
  });

  it('writes the §14 delivery byte for byte the way Python json.dumps does', () => {
    expect(pythonDumps(parseExact(REAL_DELIVERY))).toBe(REAL_DELIVERY);
    // Keys sorted whatever the insertion order; non-ASCII escaped like ensure_ascii.
    expect(pythonDumps({ b: 'é\n', a: [1, { d: null, c: true }] })).toBe(
      '{"a": [1, {"c": true, "d": null}], "b": "\\u00e9\\n"}',
    );
  });

  it('[?] writes floats in Python repr form; integral floats come out as ints', () => {
    expect(pythonNumber(2.107286686077714)).toBe('2.107286686077714');
    expect(pythonNumber(0.0001)).toBe('0.0001');
    expect(pythonNumber(0.00001)).toBe('1e-05');
    expect(pythonNumber(1.5e16)).toBe('1.5e+16');
    expect(pythonNumber(-3.25)).toBe('-3.25');
    expect(pythonNumber(123456.789)).toBe('123456.789');
    expect(pythonNumber(2)).toBe('2');
  });
});

describe('paced transfers', () => {
  it('cuts a stream into pieces of a twentieth of the bandwidth, bytes unchanged', async () => {
    const source = Buffer.alloc(10_000, 7);
    async function* one() {
      yield source;
    }
    const pieces: Buffer[] = [];
    for await (const piece of paced(one(), 40_000)) pieces.push(piece);
    expect(pieces.map((piece) => piece.length)).toEqual([2000, 2000, 2000, 2000, 2000]);
    expect(Buffer.concat(pieces).equals(source)).toBe(true);
    const unpaced: Buffer[] = [];
    for await (const piece of paced(one(), undefined)) unpaced.push(piece);
    expect(unpaced).toHaveLength(1);
  });
});
