import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createRedactor,
  environmentRedactor,
  resolveCredentials,
  resolveSettings,
} from '../../src/index.js';
import { newPendingRecord } from '../../src/internal.js';
import { type TempHome, tempHome } from '../config/temp-env.js';

const KEY_A = 'alpha-key-id-0001:alpha-secret-5f4e3d2c1b0a';
const KEY_B = 'bravo-key-id-0002:bravo-secret-a0b1c2d3e4f5';

describe('createRedactor', () => {
  it('redacts its keys, their key ids and secret halves, plainly and URL-encoded', () => {
    const redactor = createRedactor([KEY_A]);
    const text = `key ${KEY_A}, id alpha-key-id-0001, half alpha-secret-5f4e3d2c1b0a, url ?k=${encodeURIComponent(KEY_A)} and %61lpha-secret-5f4e3d2c1b0a`;
    const out = redactor.redact(text);
    expect(out).not.toContain('alpha-secret');
    expect(out).not.toContain('alpha-key-id');
    expect(out).not.toMatch(/%61lpha/);
    expect(out).toBe(
      'key [redacted], id [redacted], half [redacted], url ?k=[redacted] and [redacted]',
    );
  });

  it('scrubs values as stores do: key and secret half, the key id alone kept', () => {
    const redactor = createRedactor([KEY_A]);
    expect(
      redactor.scrub({ [KEY_A]: ['x alpha-secret-5f4e3d2c1b0a y'], id: 'alpha-key-id-0001' }),
    ).toEqual({ '[redacted]': ['x [redacted] y'], id: 'alpha-key-id-0001' });
    const clean = { nothing: 'here' };
    expect(redactor.scrub(clean)).toBe(clean);
  });

  it('two redactors with different keys never learn each other’s', () => {
    const a = createRedactor([KEY_A]);
    const b = createRedactor();
    b.add(KEY_B);
    const both = `${KEY_A} ${KEY_B}`;
    expect(a.redact(both)).toBe(`[redacted] ${KEY_B}`);
    expect(b.redact(both)).toBe(`${KEY_A} [redacted]`);
    expect(a.secrets()).not.toContain(KEY_B);
    expect(b.secrets()).not.toContain(KEY_A);
    // A key added to one later stays with that one.
    const c = 'charlie-key-id-03:charlie-secret-99887766';
    a.add(c);
    expect(a.redact(c)).toBe('[redacted]');
    expect(b.redact(c)).toBe(c);
    expect(createRedactor().redact(both)).toBe(both);
  });

  it('two stores, each with its own redactor, keep out only their own keys', async () => {
    const storeA = createMemoryStore({ redactor: createRedactor([KEY_A]) });
    const storeB = createMemoryStore({ redactor: createRedactor([KEY_B]) });
    const record = newPendingRecord({ requestId: 'req-two-1', endpointId: 'fal-ai/x' });
    const tags = { a: KEY_A, b: KEY_B };
    await storeA.put({ ...record, tags });
    await storeB.put({ ...record, tags });
    expect((await storeA.get('req-two-1'))?.tags).toEqual({ a: '[redacted]', b: KEY_B });
    expect((await storeB.get('req-two-1'))?.tags).toEqual({ a: KEY_A, b: '[redacted]' });
  });

  it('ignores short values and never shows its keys in JSON or inspect', () => {
    const redactor = createRedactor(['short', KEY_A]);
    expect(redactor.redact('a short word')).toBe('a short word');
    expect(JSON.stringify({ redactor })).not.toContain('alpha');
    expect(inspect(redactor)).not.toContain('alpha');
    expect(Object.keys({ ...redactor })).not.toContain(KEY_A);
  });
});

describe('where redactors come from', () => {
  it('environmentRedactor holds the environment’s keys, unquoted', () => {
    const redactor = environmentRedactor({ FAL_KEY: `"${KEY_A}"`, FAL_ADMIN_KEY: KEY_B });
    expect(redactor.secrets()).toContain(KEY_A);
    expect(redactor.secrets()).toContain(KEY_B);
    expect(redactor.secrets()).not.toContain(`"${KEY_A}"`);
  });

  it('settings carry one, and resolving a key with the settings adds it there only', async () => {
    const t: TempHome = await tempHome();
    try {
      const one = await resolveSettings({ env: t.env, cwd: t.home });
      const two = await resolveSettings({ env: t.env, cwd: t.home });
      expect(one.redactor.redact(KEY_A)).toBe(KEY_A);
      await resolveCredentials({ env: t.env, settings: one, explicitKey: KEY_A });
      expect(one.redactor.redact(KEY_A)).toBe('[redacted]');
      expect(two.redactor.redact(KEY_A)).toBe(KEY_A);
    } finally {
      await t.cleanup();
    }
  });
});
