import { InputError } from '@falai/core';

/** MCP clients `falai mcp --print-config` knows. */
export const MCP_CLIENTS = [
  'claude-desktop',
  'claude-code',
  'cursor',
  'vscode',
  'windsurf',
] as const;
export type McpClientName = (typeof MCP_CLIENTS)[number];

/** How the client starts or reaches the server. */
export interface McpLaunch {
  /** The command that starts the stdio server. @default 'falai' */
  readonly command?: string;
  /** Its arguments. @default ['mcp'] */
  readonly args?: readonly string[];
  /** A Streamable HTTP server's URL, instead of a command (`falai mcp --http`). */
  readonly url?: string;
}

/** A configuration snippet and where it goes. */
export interface McpClientConfig {
  readonly client: McpClientName;
  /** `json`: merge into the file; `shell`: run it. */
  readonly format: 'json' | 'shell';
  /** The file (or place) the snippet belongs in. */
  readonly where: string;
  readonly snippet: string;
  readonly notes: readonly string[];
}

const KEY_NOTE =
  'The server finds your fal key as the falai CLI does (FAL_KEY in its environment, or falai config set key); never paste the key into a shared file.';

/**
 * The configuration snippet that adds falai's MCP server to a client. No key is ever part of
 * it: the server resolves the key itself.
 */
export function mcpClientConfig(client: string, launch: McpLaunch = {}): McpClientConfig {
  if (!(MCP_CLIENTS as readonly string[]).includes(client)) {
    throw new InputError(
      `Unknown MCP client "${client.slice(0, 40)}": use one of ${MCP_CLIENTS.join(', ')}.`,
      [{ path: ['client'], message: 'unknown client', kind: 'enum' }],
    );
  }
  const name = client as McpClientName;
  const command = launch.command ?? 'falai';
  const args = [...(launch.args ?? ['mcp'])];
  const url = launch.url;
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  const stdio = { command, args };
  switch (name) {
    case 'claude-desktop':
      return {
        client: name,
        format: 'json',
        where:
          'claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\; Settings → Developer → Edit Config)',
        snippet: json({
          mcpServers: {
            falai: url ? { command: 'npx', args: ['-y', 'mcp-remote', url] } : stdio,
          },
        }),
        notes: [
          ...(url ? ['Claude Desktop reaches HTTP servers through the mcp-remote bridge.'] : []),
          'Restart Claude Desktop after editing the file.',
          KEY_NOTE,
        ],
      };
    case 'claude-code': {
      const quoted = (text: string) =>
        /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
      return {
        client: name,
        format: 'shell',
        where: 'a terminal (add --scope project to share it through .mcp.json)',
        snippet: url
          ? `claude mcp add --transport http falai ${quoted(url)}`
          : `claude mcp add falai -- ${[command, ...args].map(quoted).join(' ')}`,
        notes: [KEY_NOTE],
      };
    }
    case 'cursor':
      return {
        client: name,
        format: 'json',
        where: '~/.cursor/mcp.json (all projects) or .cursor/mcp.json (this project)',
        snippet: json({ mcpServers: { falai: url ? { url } : stdio } }),
        notes: [KEY_NOTE],
      };
    case 'vscode':
      return {
        client: name,
        format: 'json',
        where:
          '.vscode/mcp.json (this workspace), or the user mcp.json (MCP: Open User Configuration)',
        snippet: json({
          servers: { falai: url ? { type: 'http', url } : { type: 'stdio', ...stdio } },
        }),
        notes: [KEY_NOTE],
      };
    case 'windsurf':
      return {
        client: name,
        format: 'json',
        where: '~/.codeium/windsurf/mcp_config.json',
        snippet: json({ mcpServers: { falai: url ? { serverUrl: url } : stdio } }),
        notes: [KEY_NOTE],
      };
  }
}
