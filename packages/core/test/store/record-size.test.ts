import { describe, expect, it } from 'vitest';
import { createRedactor, StoreError } from '../../src/index.js';
import {
  MAX_RECORD_BYTES,
  newPendingRecord,
  parseJsonExact,
  planUpdate,
  prepareRecordForWrite,
  recordBytes,
  recordToJson,
} from '../../src/internal.js';

const none = createRedactor();

const ctx = { store: 'test', operation: 'put', location: '/tmp/x' };
const record = newPendingRecord({
  requestId: 'r1',
  endpointId: 'fal-ai/flux/dev',
  now: new Date('2026-03-01T00:00:00Z'),
});

describe('bounded records', () => {
  it('refuses a record over MAX_RECORD_BYTES, saying how big and where', () => {
    const huge = { ...record, result: { text: 'x'.repeat(MAX_RECORD_BYTES) } };
    let error: unknown;
    try {
      prepareRecordForWrite(huge, ctx, none);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({
      code: 'STORE_ERROR',
      details: { requestId: 'r1', limit: MAX_RECORD_BYTES },
    });
    expect((error as Error).message).toBe(
      'Refusing to store request r1 in /tmp/x: the record would be 1.0 MB, over the 1.0 MB a ' +
        'record may hold (a large result or input belongs in files, not in the store). Nothing ' +
        'was written; the result stays available from fal (falai result r1) while fal keeps it.',
    );
    const fits = { ...record, result: { text: 'x'.repeat(MAX_RECORD_BYTES - 1_000) } };
    expect(recordBytes(prepareRecordForWrite(fits, ctx, none))).toBeLessThanOrEqual(
      MAX_RECORD_BYTES,
    );
  });

  it('refuses an update that would grow the record past the cap', () => {
    expect(() =>
      planUpdate(
        record,
        { result: { text: 'é'.repeat(MAX_RECORD_BYTES / 2 + 1) } },
        undefined,
        none,
      ),
    ).toThrow(/over the 1\.0 MB a record may hold/);
    expect(planUpdate(record, { result: { ok: true } }, undefined, none).kind).toBe('updated');
  });
});

describe('record JSON', () => {
  it('writes and reads integers beyond 2^53 exactly; other text takes the native parser', () => {
    const seed = 17454220438242315174n;
    const text = recordToJson({ ...record, result: { seed, n: 1.5 } });
    expect(text).toContain('"seed":17454220438242315174');
    expect(parseJsonExact(text)).toEqual({ ...record, result: { seed, n: 1.5 } });
    expect(parseJsonExact('{"a":"12345678901234567890","b":9007199254740991}')).toEqual({
      a: '12345678901234567890',
      b: 9007199254740991,
    });
    expect(() => parseJsonExact('{"a":')).toThrow(SyntaxError);
  });
});
