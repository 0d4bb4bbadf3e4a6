import { describe, expect, it } from 'vitest';
import { FalaiError, StoreError, toFalaiError } from '../src/index.js';
import {
  applyPatch,
  compareRecords,
  conditionHolds,
  matchesFilter,
  newPendingRecord,
  parsePendingRecord,
} from '../src/internal.js';

describe('pending records', () => {
  it('creates a valid queued record', () => {
    const record = newPendingRecord({
      requestId: 'r1',
      endpointId: 'fal-ai/flux/dev/image-to-image',
    });
    expect(record.status).toBe('queued');
    expect(record.attempts).toEqual({ submit: 1, poll: 0, errors: 0 });
    expect(parsePendingRecord(JSON.parse(JSON.stringify(record)))).toEqual(record);
  });

  it('rejects damaged records with every problem', () => {
    expect(() => parsePendingRecord({ requestId: '', status: 'FAILED' })).toThrow();
  });

  it('applies patches, null removes a field', () => {
    const record = newPendingRecord({ requestId: 'r1', endpointId: 'a/b', queuePosition: 3 });
    const next = applyPatch(
      record,
      { status: 'running', queuePosition: null },
      new Date('2030-01-01T00:00:00Z'),
    );
    expect(next.status).toBe('running');
    expect(next.queuePosition).toBeUndefined();
    expect(next.updatedAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('filters, orders and checks conditions', () => {
    const a = newPendingRecord({
      requestId: 'b',
      endpointId: 'x/y',
      now: new Date('2030-01-01T00:00:00Z'),
    });
    const b = newPendingRecord({
      requestId: 'a',
      endpointId: 'x/y',
      now: new Date('2030-01-01T00:00:00Z'),
    });
    expect([a, b].sort(compareRecords).map((r) => r.requestId)).toEqual(['a', 'b']);
    expect(matchesFilter(a, { status: ['queued', 'running'] })).toBe(true);
    expect(matchesFilter(a, { endpointId: 'other' })).toBe(false);
    expect(matchesFilter(a, { since: '2030-01-02T00:00:00Z' })).toBe(false);
    expect(conditionHolds(a, { status: 'running' })).toBe(false);
    expect(conditionHolds(a, { leaseOwner: 'me' })).toBe(false);
  });
});

describe('errors', () => {
  it('carries codes and serialises to JSON', () => {
    const error = new StoreError('STORE_CORRUPT', 'damaged', {
      store: 'file',
      operation: 'read',
      location: '/x',
    });
    expect(FalaiError.isInstance(error)).toBe(true);
    expect(error.toJSON()).toEqual({ code: 'STORE_CORRUPT', message: 'damaged' });
    expect(toFalaiError(new Error('boom')).code).toBe('INTERNAL');
  });
});
