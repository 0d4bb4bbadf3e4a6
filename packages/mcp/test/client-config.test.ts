import { describe, expect, it } from 'vitest';
import { MCP_CLIENTS, mcpClientConfig } from '../src/client-config.js';

describe('mcpClientConfig', () => {
  it('gives each client a snippet that starts falai mcp, with no key in it', () => {
    for (const client of MCP_CLIENTS) {
      const config = mcpClientConfig(client, { args: ['mcp', '--output-dir', '/tmp/out'] });
      expect(config.client).toBe(client);
      expect(config.where.length).toBeGreaterThan(0);
      expect(config.snippet).toContain('falai');
      expect(config.snippet).toContain('/tmp/out');
      expect(config.snippet).not.toMatch(/FAL_KEY/);
      if (config.format === 'json') expect(() => JSON.parse(config.snippet)).not.toThrow();
    }
    expect(JSON.parse(mcpClientConfig('vscode').snippet)).toEqual({
      servers: { falai: { type: 'stdio', command: 'falai', args: ['mcp'] } },
    });
    expect(mcpClientConfig('claude-code').snippet).toBe('claude mcp add falai -- falai mcp');
  });

  it('points clients at a Streamable HTTP URL when given one', () => {
    const url = 'http://127.0.0.1:8799/mcp';
    expect(JSON.parse(mcpClientConfig('windsurf', { url }).snippet)).toEqual({
      mcpServers: { falai: { serverUrl: url } },
    });
    expect(JSON.parse(mcpClientConfig('claude-desktop', { url }).snippet)).toEqual({
      mcpServers: { falai: { command: 'npx', args: ['-y', 'mcp-remote', url] } },
    });
    expect(mcpClientConfig('claude-code', { url }).snippet).toBe(
      `claude mcp add --transport http falai ${url}`,
    );
  });

  it('quotes arguments for the shell and refuses unknown clients', () => {
    expect(
      mcpClientConfig('claude-code', { args: ['mcp', '--output-dir', "it's mine"] }).snippet,
    ).toBe(`claude mcp add falai -- falai mcp --output-dir 'it'\\''s mine'`);
    expect(() => mcpClientConfig('notepad')).toThrow(/Unknown MCP client "notepad"/);
  });
});
