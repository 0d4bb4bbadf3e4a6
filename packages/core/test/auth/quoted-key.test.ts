import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createRedactor,
  describeCredentialSources,
  resolveCredentials,
  unquoteKey,
} from '../../src/auth/index.js';
import { AuthError } from '../../src/errors/index.js';
import { type TempHome, tempHome } from '../config/temp-env.js';

const KEY = '0b1c2d3e-aaaa-bbbb-cccc-000000000002:6f0e7d1c2b3a49586776a5b4c3d2e1f9';

let t: TempHome;
beforeEach(async () => {
  t = await tempHome();
});
afterEach(async () => {
  await t.cleanup();
});

describe('a key wrapped in quotes, as .env files write it', () => {
  it('unquoteKey removes one matching pair and the whitespace around and inside it', () => {
    expect(unquoteKey(`"${KEY}"`)).toEqual({ key: KEY, unquoted: true });
    expect(unquoteKey(` '${KEY}' `)).toEqual({ key: KEY, unquoted: true });
    expect(unquoteKey(`\`${KEY}\``)).toEqual({ key: KEY, unquoted: true });
    expect(unquoteKey(`" ${KEY} "`)).toEqual({ key: KEY, unquoted: true });
    expect(unquoteKey(KEY)).toEqual({ key: KEY, unquoted: false });
    // Not a matching pair, or quotes inside: left as it is.
    expect(unquoteKey(`"${KEY}'`)).toEqual({ key: `"${KEY}'`, unquoted: false });
    expect(unquoteKey('"id":"secret"')).toEqual({ key: '"id":"secret"', unquoted: false });
  });

  it('FAL_KEY=\'"id:secret"\' resolves to the bare key, with a note saying what was done', async () => {
    const redactor = createRedactor();
    const credentials = await resolveCredentials({
      env: { ...t.env, FAL_KEY: `"${KEY}"` },
      redactor,
    });
    expect(credentials.key).toBe(KEY);
    expect(credentials.source).toBe('env FAL_KEY');
    expect(credentials.note).toMatch(/wrapped in quotes, which falai removed/);
    expect(credentials.masked).toBe('0b1c2d3e…');
    // The note is public (JSON, inspect); the key is not.
    expect(JSON.stringify(credentials)).toContain('wrapped in quotes');
    expect(JSON.stringify(credentials)).not.toContain(KEY.split(':')[1]);
    expect(inspect(credentials)).not.toContain(KEY.split(':')[1]);
    // The bare key is what stores scrub (it covers the quoted text too); the quoted form is
    // not kept, so redacting its key id never swallows a quote character.
    expect(redactor.secrets()).toContain(KEY);
    expect(redactor.secrets()).not.toContain(`"${KEY}"`);
  });

  it('a bare key carries no note', async () => {
    const credentials = await resolveCredentials({ env: { ...t.env, FAL_KEY: KEY } });
    expect(credentials.note).toBeUndefined();
    expect(JSON.parse(JSON.stringify(credentials))).toEqual({
      source: 'env FAL_KEY',
      masked: '0b1c2d3e…',
    });
  });

  it('each half of FAL_KEY_ID + FAL_KEY_SECRET may be quoted on its own', async () => {
    const credentials = await resolveCredentials({
      env: { ...t.env, FAL_KEY_ID: '"id-1"', FAL_KEY_SECRET: "'secret-1'" },
    });
    expect(credentials.key).toBe('id-1:secret-1');
  });

  it('the same holds for a key in openclaw.json', async () => {
    await t.write(
      '.openclaw/openclaw.json',
      `{ skills: { entries: { falai: { apiKey: ${JSON.stringify(`'${KEY}'`)} } } } }`,
    );
    expect((await resolveCredentials({ env: t.env })).key).toBe(KEY);
  });

  it('check-key reports the source as found with its quotes removed, masked', async () => {
    const reports = await describeCredentialSources({ env: { ...t.env, FAL_KEY: `"${KEY}"` } });
    const used = reports.find((report) => report.selected);
    expect(used).toMatchObject({
      source: 'env FAL_KEY',
      result: 'found (surrounding quotes removed)',
      masked: '0b1c2d3e…',
      valid: true,
    });
  });

  it('quotes inside a key are refused as malformed before any call, naming the problem', async () => {
    const error = await resolveCredentials({
      env: { ...t.env, FAL_KEY: '"id":"secret-value"' },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('AUTH_INVALID');
    expect((error as AuthError).message).toMatch(/with no quotes inside/);
    expect((error as AuthError).message).not.toContain('secret-value');
  });
});
