import { describe, expect, it } from 'vitest';
import { parseJsonExact, stringifyJsonExact } from '../../src/json/index.js';

describe('exact JSON', () => {
  it('keeps a 64-bit seed exact through parse and stringify', () => {
    const text = '{"seed":17454220438242315174,"n":2,"f":0.5}';
    // The trap this module exists for:
    expect(JSON.stringify(JSON.parse(text))).not.toBe(text);
    const value = parseJsonExact(text) as Record<string, unknown>;
    expect(value.seed).toBe(17454220438242315174n);
    expect(value.n).toBe(2);
    expect(value.f).toBe(0.5);
    expect(stringifyJsonExact(value)).toBe(text);
  });

  it('parses ordinary JSON exactly as JSON.parse does', () => {
    const text = '{"a":[1,-2.5e3,true,null,"x"],"b":{"c":9007199254740991,"d":-0.1}}';
    expect(parseJsonExact(text)).toEqual(JSON.parse(text));
  });

  it('keeps negative big integers and reports bad JSON as a SyntaxError', () => {
    expect(parseJsonExact('-18446744073709551615')).toBe(-18446744073709551615n);
    expect(() => parseJsonExact('{"a":')).toThrow(SyntaxError);
  });

  it('stringifies with indentation like JSON.stringify', () => {
    expect(stringifyJsonExact({ a: 1n, b: [1] }, 2)).toBe('{\n  "a": 1,\n  "b": [\n    1\n  ]\n}');
  });
});
