import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { FalaiError } from '@falai/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FalaiMcp } from './server.js';

/** A running MCP server on a transport. */
export interface RunningMcp {
  /** Settles when the transport closes (stdin ended, or `close()`). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves MCP over stdio (newline-delimited JSON-RPC): stdout carries protocol messages only,
 * so nothing else may write there. Closes when stdin ends (the client went away); background
 * waits then stop and the jobs stay pending in the store.
 */
export async function serveStdio(
  mcp: FalaiMcp,
  io: { readonly stdin?: Readable; readonly stdout?: Writable } = {},
): Promise<RunningMcp> {
  const stdin = io.stdin ?? process.stdin;
  const transport = new StdioServerTransport(stdin, io.stdout ?? process.stdout);
  const server = mcp.createServer();
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolveClose) => {
    resolveClosed = resolveClose;
  });
  transport.onclose = () => resolveClosed();
  await server.connect(transport);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await server.close().catch(() => undefined);
      resolveClosed();
    })();
    return closing;
  };
  // The client is gone (or piped its last request): answer what is in flight, then close.
  const ended = () => {
    void mcp.context.drain(mcp.context.maxWaitMs + 30_000).then(close);
  };
  stdin.once('end', ended);
  stdin.once('close', ended);
  return { closed, close };
}

/** Options of {@link serveHttp}. */
export interface ServeHttpOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1': only this machine can connect */
  readonly host?: string;
  /** The MCP endpoint's path. @default '/mcp' */
  readonly path?: string;
  /** Largest request body. @default 24 MiB (inputs may carry inline data URIs) */
  readonly maxBodyBytes?: number;
}

/** A running Streamable HTTP server. */
export interface RunningHttpMcp extends RunningMcp {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: string;
  readonly port: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Serves MCP over Streamable HTTP (one session per client, each its own MCP server on the
 * shared context), bound to 127.0.0.1 unless told otherwise. Requests whose Host is not this
 * server's, or whose Origin is a web page other than this server (DNS rebinding), are refused
 * with 403. Bodies are bounded.
 */
export async function serveHttp(
  mcp: FalaiMcp,
  options: ServeHttpOptions = {},
): Promise<RunningHttpMcp> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/mcp';
  const maxBody = options.maxBodyBytes ?? 24 * 1024 * 1024;
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let allowedHosts = new Set<string>();
  let allowedOrigins = new Set<string>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) return reply(res, 404, `Not found; the MCP endpoint is ${path}`);
    if (!allowedHosts.has(req.headers.host ?? '')) return reply(res, 403, 'Invalid Host header');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin))
      return reply(res, 403, 'Invalid Origin header');
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (req.method === 'POST') {
      const body = await readJson(req, maxBody);
      if (body.error) return reply(res, body.status, body.error);
      if (existing) return existing.handleRequest(req, res, body.value);
      if (sessionId !== undefined) return reply(res, 404, 'Session not found', -32001);
      if (!isInitializeRequest(body.value))
        return reply(res, 400, 'No session: send initialize first');
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, transport);
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await mcp.createServer().connect(transport);
      return transport.handleRequest(req, res, body.value);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (!existing) return reply(res, sessionId ? 404 : 400, 'Session not found', -32001);
      return existing.handleRequest(req, res);
    }
    res.setHeader('Allow', 'GET, POST, DELETE');
    return reply(res, 405, 'Method not allowed');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, (error as Error).message ?? 'Internal error', -32603);
      else res.end();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new FalaiError(
              'CONFIG_INVALID',
              `Port ${options.port} is in use on ${host}; pick another with --port (0 picks a free one).`,
            )
          : error,
      );
    });
    server.listen(options.port ?? 0, host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const names = new Set([host, ...(LOOPBACK.has(host) ? LOOPBACK : [])]);
  allowedHosts = new Set(
    [...names].map(
      (name) => `${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`,
    ),
  );
  allowedOrigins = new Set([...allowedHosts].map((name) => `http://${name}`));
  const shownHost = host.includes(':') ? `[${host}]` : host;

  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolveClose) => {
    resolveClosed = resolveClose;
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await Promise.allSettled([...sessions.values()].map((transport) => transport.close()));
      sessions.clear();
      const stopped = new Promise<void>((resolveStop) => server.close(() => resolveStop()));
      server.closeAllConnections();
      await stopped;
      resolveClosed();
    })();
    return closing;
  };
  return { url: `http://${shownHost}:${port}${path}`, port, closed, close };
}

function reply(res: ServerResponse, status: number, message: string, code = -32000): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/** The JSON body of a request, at most `max` bytes. */
async function readJson(
  req: IncomingMessage,
  max: number,
): Promise<{ value?: unknown; error?: string; status: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return { error: `Request body over ${max} bytes`, status: 413 };
    chunks.push(chunk);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')), status: 200 };
  } catch {
    return { error: 'Parse error: the body is not JSON', status: 400 };
  }
}
