import { rememberSecret } from '@falai/core';
import { describe, expect, it } from 'vitest';
import { redactText, redactValue } from '../src/redact.js';

describe('redaction of tool results', () => {
  const env = { FAL_KEY: 'mcp-key-id-1234:mcp-secret-half-5678' };

  it('removes the key, each half and their URL-encoded forms, keys of objects included', () => {
    const text = `key mcp-key-id-1234:mcp-secret-half-5678, half mcp-secret-half-5678, id mcp-key-id-1234, encoded ${encodeURIComponent('mcp-key-id-1234:mcp-secret-half-5678')}`;
    const out = redactText(text, env);
    expect(out).not.toContain('mcp-secret-half-5678');
    expect(out).not.toContain('mcp-key-id-1234');
    expect(out).toContain('[redacted]');
    const value = redactValue(
      { content: [{ type: 'text', text }], 'mcp-secret-half-5678': [1, true, null] },
      env,
    );
    expect(JSON.stringify(value)).not.toMatch(/mcp-secret-half-5678|mcp-key-id-1234/);
    expect(value).toMatchObject({ '[redacted]': [1, true, null] });
  });

  it('also removes keys read from other sources (core remembers them)', () => {
    rememberSecret('other-source-id:other-source-secret-0000');
    expect(redactText('said other-source-secret-0000', {})).toBe('said [redacted]');
  });

  it('leaves short words and texts without keys alone', () => {
    expect(redactText('a fox at dusk', { FAL_KEY: 'a:b' })).toBe('a fox at dusk');
    const plain = { a: ['x', 1] };
    expect(redactValue(plain, {})).toEqual(plain);
  });
});
