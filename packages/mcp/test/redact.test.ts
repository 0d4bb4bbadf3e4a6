import { createRedactor, environmentRedactor } from '@falai/core';
import { describe, expect, it } from 'vitest';
import { toCallToolResult, toolError } from '../src/result.js';

describe('redaction of tool results', () => {
  const redactor = environmentRedactor({ FAL_KEY: 'mcp-key-id-1234:mcp-secret-half-5678' });

  it('removes the key, each half and their URL-encoded forms, keys of objects included', () => {
    const text = `key mcp-key-id-1234:mcp-secret-half-5678, half mcp-secret-half-5678, id mcp-key-id-1234, encoded ${encodeURIComponent('mcp-key-id-1234:mcp-secret-half-5678')}`;
    const error = toolError(new Error(text), redactor);
    const out = JSON.stringify(error);
    expect(out).not.toContain('mcp-secret-half-5678');
    expect(out).not.toContain('mcp-key-id-1234');
    expect(out).toContain('[redacted]');
    const value = toCallToolResult(
      { summary: text, structured: { 'mcp-secret-half-5678': [1, true, null] } },
      redactor,
    );
    expect(JSON.stringify(value)).not.toMatch(/mcp-secret-half-5678|mcp-key-id-1234/);
    expect(value.structuredContent).toMatchObject({ '[redacted]': [1, true, null] });
  });

  it('also removes keys read from other sources (added to the server’s redactor)', () => {
    const own = createRedactor();
    own.add('other-source-id:other-source-secret-0000');
    expect(JSON.stringify(toolError(new Error('said other-source-secret-0000'), own))).toContain(
      'said [redacted]',
    );
    // Another server's redactor never learns it.
    expect(
      JSON.stringify(toolError(new Error('said other-source-secret-0000'), createRedactor())),
    ).toContain('said other-source-secret-0000');
  });

  it('leaves short words and texts without keys alone', () => {
    const short = environmentRedactor({ FAL_KEY: 'a:b' });
    const plain = { summary: 'a fox at dusk', structured: { a: ['x', 1] } };
    const result = toCallToolResult(plain, short);
    expect(result.structuredContent).toEqual({ a: ['x', 1] });
    expect(JSON.stringify(result)).toContain('a fox at dusk');
  });
});
