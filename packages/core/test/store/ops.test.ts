import { describe, expect, it } from 'vitest';
import { createRedactor, environmentRedactor, StoreError } from '../../src/index.js';
import {
  newPendingRecord,
  planClaim,
  planRelease,
  planRenew,
  planUpdate,
  prepareRecordForWrite,
  scrubWith,
} from '../../src/internal.js';

/** The keys of an environment, as settings and stores read them. */
const secretsFromEnv = (env: Record<string, string>) => environmentRedactor(env).secrets();
const scrubSecrets = <T>(value: T, env: Record<string, string>): T =>
  environmentRedactor(env).scrub(value);
const none = createRedactor();

const ctx = { store: 'test', operation: 'put', location: '/tmp/x' };
const record = newPendingRecord({
  requestId: 'r1',
  endpointId: 'fal-ai/flux/dev',
  now: new Date('2026-03-01T00:00:00Z'),
});

describe('store operation helpers', () => {
  it('finds the key and its secret half, ignoring short values', () => {
    expect(secretsFromEnv({ FAL_KEY: 'abcd1234-id:0123456789abcdef' })).toEqual([
      'abcd1234-id:0123456789abcdef',
      '0123456789abcdef',
    ]);
    expect(secretsFromEnv({ FAL_KEY: 'short' })).toEqual([]);
  });

  it('scrubs the key from nested strings and object keys', () => {
    const env = { FAL_KEY: 'keyid-0001:supersecretvalue' };
    expect(
      scrubSecrets(
        { a: ['x keyid-0001:supersecretvalue y'], supersecretvalue: 'supersecretvalue' },
        env,
      ),
    ).toEqual({ a: ['x [redacted] y'], '[redacted]': '[redacted]' });
  });

  it('scrubs the key URL-encoded too, id and all (as fal may echo it in a result)', () => {
    const env = { FAL_KEY: 'keyid-0001:supersecretvalue' };
    expect(
      scrubSecrets(
        {
          debug: {
            encoded: 'keyid-0001%3Asupersecretvalue',
            url: 'https://x/?k=keyid-0001%3Asupersecretvalue&a=1',
          },
        },
        env,
      ),
    ).toEqual({ debug: { encoded: '[redacted]', url: 'https://x/?k=[redacted]&a=1' } });
  });

  it('scrubs a given secret list, plain and URL-encoded, keeping a __proto__ key a key', () => {
    const secrets = ['hook-id:hooksecret01'];
    const value = JSON.parse(
      '{"__proto__":{"t":"hook-id:hooksecret01"},"u":"?k=hook-id%3Ahooksecret01","n":7}',
    );
    const clean = scrubWith(value, secrets);
    expect(Object.getPrototypeOf(clean)).toBe(Object.prototype);
    expect(Object.keys(clean)).toEqual(['__proto__', 'u', 'n']);
    expect(JSON.stringify(clean)).toBe(
      '{"__proto__":{"t":"[redacted]"},"u":"?k=[redacted]","n":7}',
    );
    const untouched = { a: ['nothing secret here'] };
    expect(scrubWith(untouched, secrets)).toBe(untouched);
    expect(scrubWith('x hook-id:hooksecret01 y', [...secrets, ''])).toBe('x [redacted] y');
  });

  it('names the record and the place when refusing an invalid record', () => {
    expect(() => prepareRecordForWrite({ ...record, status: 'nope' }, ctx, none)).toThrow(
      StoreError,
    );
    expect(() => prepareRecordForWrite({ ...record, status: 'nope' }, ctx, none)).toThrow(
      /r1 to \/tmp\/x: status/,
    );
  });

  it('plans updates, claims, renewals and releases like the contract says', () => {
    const now = Date.parse('2026-03-01T01:00:00Z');
    expect(planUpdate(undefined, { status: 'running' }, undefined, none, now)).toEqual({
      kind: 'missing',
    });
    expect(planUpdate(record, { status: 'running' }, { status: 'running' }, none, now).kind).toBe(
      'conflict',
    );
    const claimed = planClaim(record, 'a', 1000, now);
    expect(claimed.kind).toBe('claimed');
    const held = claimed.kind === 'claimed' ? claimed.record : record;
    expect(planClaim(held, 'b', 1000, now).kind).toBe('held');
    expect(planClaim(held, 'b', 1000, now + 1000).kind).toBe('claimed');
    expect(planRenew(held, 'a', 5000, now + 999)?.lease?.expiresAt).toBe(
      new Date(now + 999 + 5000).toISOString(),
    );
    expect(planRenew(held, 'a', 5000, now + 1000)).toBeUndefined();
    expect(planRelease(held, 'b')).toBeUndefined();
    expect(planRelease(held, 'a')?.lease).toBeUndefined();
    expect(() => planUpdate(record, { status: 'bad' as never }, undefined, none, now)).toThrow(
      StoreError,
    );
  });
});
