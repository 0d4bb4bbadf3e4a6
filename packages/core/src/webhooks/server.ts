import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FalaiError } from '../errors/index.js';

/** Options of {@link createWebhookServer}. */
export interface WebhookServerOptions {
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** @default '127.0.0.1' — expose it deliberately (a tunnel, a reverse proxy). */
  readonly host?: string;
  readonly handler: (request: IncomingMessage, response: ServerResponse) => void;
  /**
   * Open connections at once; a connection past it is closed on arrival (node:http
   * `maxConnections`). Bounds the sockets strangers can hold open. @default 256
   */
  readonly maxConnections?: number;
  /**
   * Time a client has to send a request's headers; a slowloris connection is answered 408 and
   * closed after it. @default 10_000
   */
  readonly headersTimeoutMs?: number;
  /** Time a client has to send a whole request, body included; then 408 and closed. @default 60_000 */
  readonly requestTimeoutMs?: number;
  /** A connection with no traffic for this long is closed. @default 30_000 */
  readonly idleTimeoutMs?: number;
  /** How long a kept-alive connection waits for its next request. @default 5_000 */
  readonly keepAliveTimeoutMs?: number;
}

/** The defaults of the receiver's connection limits (see {@link WebhookServerOptions}). */
export const DEFAULT_WEBHOOK_SERVER_LIMITS: {
  readonly maxConnections: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
} = {
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

/** A running receiver. */
export interface WebhookServer {
  /** `http://host:port/`, the URL to pass as `--webhook` (through whatever exposes it). */
  readonly url: string;
  readonly port: number;
  /** Connections open now. */
  connections(): Promise<number>;
  /** Stops accepting, waits for in-flight deliveries; idempotent. */
  close(): Promise<void>;
}

/**
 * Serves a webhook handler over node:http, with the limits a public endpoint needs: at most
 * `maxConnections` sockets, headers within `headersTimeoutMs`, a whole request within
 * `requestTimeoutMs`, idle sockets closed after `idleTimeoutMs`. (The handler bounds what each
 * request may cost: see `createWebhookHandler`.) Kept apart from the handler so the handler
 * can be mounted in an existing server (Express, Fastify's raw listener, a test server).
 */
export async function createWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const host = options.host ?? '127.0.0.1';
  // Imported here: node:http costs ~1 ms to load, which CLI start-up should not pay.
  const { createServer } = await import('node:http');
  const limits = { ...DEFAULT_WEBHOOK_SERVER_LIMITS };
  for (const key of Object.keys(limits) as (keyof typeof limits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = value;
  }
  const requestTimeout = limits.requestTimeoutMs;
  // node:http refuses a headers timeout longer than the request timeout.
  const headersTimeout =
    requestTimeout > 0
      ? Math.min(limits.headersTimeoutMs, requestTimeout)
      : limits.headersTimeoutMs;
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often node:http looks for connections past those timeouts (its default is 30 s,
      // which would let a slow-header connection live up to 30 s past a 10 s limit).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))),
    },
    options.handler,
  );
  server.maxConnections = limits.maxConnections;
  // With no 'timeout' listener, node:http destroys a socket idle this long.
  server.timeout = limits.idleTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new FalaiError(
          'CONFIG_INVALID',
          error.code === 'EADDRINUSE'
            ? `Port ${options.port} on ${host} is already in use; pick another with --port.`
            : `Could not listen on ${host}:${options.port ?? 0}: ${error.message}.`,
          { cause: error },
        ),
      );
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    connections() {
      return new Promise((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
